"""opm's catalog migrations (``alpha/action/migrations``), selected by ``--migrate-level``.

Levels run in order up to and including the one named: ``none`` (nothing),
``bundle-object-to-csv-metadata`` (a bundle with an image and a CSV gets one ``olm.csv.metadata``
instead of its ``olm.bundle.object`` properties; a bundle that already has one is left alone).
``all`` runs every migration.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterator
from typing import Any

import orjson

from catalog import declcfg as d
from catalog.csv_metadata import csv_metadata_value
from catalog.errors import CatalogError
from catalog.goyaml import load_one

__all__ = ["LEVELS", "bundle_csv", "bundle_objects", "check_level", "help_text", "migrate"]

LEVELS: dict[str, str] = {
    "none": "do nothing",
    "bundle-object-to-csv-metadata": 'migrates bundles\' "olm.bundle.object" to "olm.csv.metadata"',
}


def help_text() -> str:
    """The list of levels, as ``opm render --help`` shows it."""
    width = max(len(k) for k in LEVELS)
    lines = [f"  - {k.ljust(width)} : {v}" for k, v in LEVELS.items()]
    return (
        "\nThe migrator will run all migrations up to and including the selected level.\n\n"
        "Available migrators:\n" + "\n".join(lines) + "\n"
    )


def check_level(level: str) -> list[str]:
    """The migrations a level runs, in order; CatalogError with opm's text for an unknown level."""
    names = list(LEVELS)
    if level == "all":
        return names
    if level not in LEVELS:
        raise CatalogError(f'unknown migration level "{level}"')
    return names[: names.index(level) + 1]


def bundle_objects(bundle: d.Bundle) -> Iterator[dict[str, Any]]:
    """The manifests a bundle carries as ``olm.bundle.object`` properties, decoded (JSON, else
    YAML); payloads that decode to no object are skipped, as opm skips them."""
    for prop in bundle.properties:
        if prop.type != d.PROP_BUNDLE_OBJECT or not isinstance(prop.value, dict):
            continue
        data = prop.value.get("data")
        if not isinstance(data, str):
            continue
        try:
            raw = binascii.a2b_base64(data)
        except binascii.Error:
            continue
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError:
            try:
                obj = load_one(raw)
            except Exception:  # not YAML either
                continue
        if isinstance(obj, dict):
            yield obj


def bundle_csv(bundle: d.Bundle) -> dict[str, Any] | None:
    """The first ClusterServiceVersion among a bundle's ``olm.bundle.object`` payloads, parsed."""
    for obj in bundle_objects(bundle):
        if obj.get("kind") == "ClusterServiceVersion":
            return obj
    return None


def _bundle_object_to_csv_metadata(cfg: d.DeclarativeConfig, csvs: dict[int, dict[str, Any]]) -> None:
    for bundle in cfg.bundles:
        if not bundle.image:
            continue
        if any(p.type == d.PROP_CSV_METADATA for p in bundle.properties):
            continue
        csv = csvs.get(id(bundle))
        if csv is None:
            csv = bundle_csv(bundle)
        if csv is None:
            continue
        value = csv_metadata_value(csv)
        kept = [p for p in bundle.properties if p.type != d.PROP_BUNDLE_OBJECT]
        bundle.properties = [*kept, d.Property(d.PROP_CSV_METADATA, value)]


def migrate(cfg: d.DeclarativeConfig, level: str, csvs: dict[int, dict[str, Any]] | None = None) -> None:
    """Run the migrations of ``level`` on ``cfg`` in place.

    ``csvs`` maps ``id(bundle)`` to its parsed CSV where the caller already has it (rendering a
    bundle directory); otherwise the CSV is read from the bundle's ``olm.bundle.object`` payloads.
    """
    for name in check_level(level):
        if name == "bundle-object-to-csv-metadata":
            try:
                _bundle_object_to_csv_metadata(cfg, csvs or {})
            except CatalogError as exc:
                raise CatalogError(f"migrate: {exc}") from None
