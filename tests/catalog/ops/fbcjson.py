"""Test helpers: read opm's JSON-stream catalogs and turn our typed blobs into the same dicts.

Comparisons are semantic (JSON equal, per package, in opm's writer order), so the tests of the
operations do not depend on a byte-exact writer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from catalog.declcfg import Bundle, DeclarativeConfig, Property, RelatedImage


def read_stream(path: Path) -> list[dict[str, Any]]:
    """Every JSON object of a JSON-stream file, in order."""
    text = path.read_text()
    decoder = json.JSONDecoder()
    out, i = [], 0
    while i < len(text):
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            break
        obj, i = decoder.raw_decode(text, i)
        out.append(obj)
    return out


def read_catalog_dir(root: Path) -> dict[str, list[dict[str, Any]]]:
    """``<root>/<package>/catalog.json`` files as package → blobs."""
    return {p.parent.name: read_stream(p) for p in sorted(root.glob("*/catalog.json"))}


def blobs_by_package(cfg: DeclarativeConfig) -> dict[str, list[dict[str, Any]]]:
    """Our config as package → blobs in opm's writer order (package, channels, bundles, deprecations)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for p in cfg.packages:
        d: dict[str, Any] = {"schema": p.schema, "name": p.name, "defaultChannel": p.default_channel}
        if p.icon:
            d["icon"] = {"base64data": p.icon.base64data, "mediatype": p.icon.mediatype}
        if p.description:
            d["description"] = p.description
        out.setdefault(p.name, []).append(d)
    for c in sorted(cfg.channels, key=lambda c: c.name):
        entries = []
        for e in c.entries or []:
            d = {"name": e.name}
            if e.replaces:
                d["replaces"] = e.replaces
            if e.skips:
                d["skips"] = list(e.skips)
            if e.skip_range:
                d["skipRange"] = e.skip_range
            entries.append(d)
        out.setdefault(c.package, []).append(
            {"schema": c.schema, "name": c.name, "package": c.package, "entries": entries}
        )
    for b in sorted(cfg.bundles, key=lambda b: b.name):
        d = {
            "schema": b.schema,
            "name": b.name,
            "package": b.package,
            "image": b.image,
            "properties": [{"type": p.type, "value": p.value} for p in b.properties],
        }
        if b.related_images:
            d["relatedImages"] = [{"name": r.name, "image": r.image} for r in b.related_images]
        out.setdefault(b.package, []).append(d)
    for dep in cfg.deprecations:
        out.setdefault(dep.package, []).append(
            {
                "schema": dep.schema,
                "package": dep.package,
                "entries": [
                    {
                        "reference": {
                            "schema": e.reference.schema,
                            **({"name": e.reference.name} if e.reference.name else {}),
                        },
                        "message": e.message,
                    }
                    for e in dep.entries
                ],
            }
        )
    return out


def bundle_from_dict(d: dict[str, Any]) -> Bundle:
    """An ``olm.bundle`` blob as opm printed it, as our typed Bundle."""
    return Bundle(
        name=d.get("name", ""),
        package=d.get("package", ""),
        image=d.get("image", ""),
        properties=[Property(p["type"], p["value"]) for p in d.get("properties") or []],
        related_images=[RelatedImage(r.get("name", ""), r["image"]) for r in d.get("relatedImages") or []],
    )
