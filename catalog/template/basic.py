"""``olm.template.basic``: hand-written FBC whose bundles are given by image only (fbc-opm.md §1.5)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from catalog.declcfg import Bundle, DeclarativeConfig
from catalog.errors import CatalogError
from catalog.load import load_documents

SCHEMA_BASIC = "olm.template.basic"

# Renders one bundle image reference into the blobs it stands for (normally exactly one bundle).
BundleRenderer = Callable[[str], DeclarativeConfig]


def _is_bundle_reference(b: Bundle) -> bool:
    return bool(b.schema and b.image and not b.package and not b.properties and not b.related_images)


def render_basic(template: dict[str, Any], render_bundle: BundleRenderer) -> DeclarativeConfig:
    """Every entry of the template passes through, except bundles: each is replaced by its rendering."""
    if template.get("schema") != SCHEMA_BASIC:
        raise CatalogError(f'template has schema {template.get("schema")!r}, expected "{SCHEMA_BASIC}"')
    entries = template.get("entries")
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise CatalogError("template entries must be a list")
    cfg = load_documents(entries)
    rendered: list[Bundle] = []
    for b in cfg.bundles:
        if not _is_bundle_reference(b):
            raise CatalogError("unexpected fields present in basic template bundle")
        rendered.extend(render_bundle(b.image).bundles)
    cfg.bundles = rendered
    return cfg
