"""Catalog templates: ``olm.template.basic`` and ``olm.semver``, rendered with a bundle renderer."""

from __future__ import annotations

from typing import Any

from catalog.declcfg import DeclarativeConfig
from catalog.errors import CatalogError
from catalog.template.basic import SCHEMA_BASIC, BundleRenderer, render_basic
from catalog.template.semver import SCHEMA_SEMVER, render_semver

__all__ = [
    "SCHEMA_BASIC",
    "SCHEMA_SEMVER",
    "BundleRenderer",
    "render_basic",
    "render_semver",
    "render_template",
]


def render_template(doc: dict[str, Any], render_bundle: BundleRenderer) -> DeclarativeConfig:
    """Render a template document, choosing the kind by its ``schema`` (case-insensitive key)."""
    schema = (
        next((v for k, v in doc.items() if str(k).lower() == "schema"), None)
        if isinstance(doc, dict)
        else None
    )
    if schema == SCHEMA_BASIC:
        return render_basic(doc, render_bundle)
    if schema == SCHEMA_SEMVER:
        return render_semver(doc, render_bundle)
    raise CatalogError(f"unknown template schema {schema!r}: expected {SCHEMA_BASIC} or {SCHEMA_SEMVER}")
