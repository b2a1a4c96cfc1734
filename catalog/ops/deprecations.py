"""Add ``olm.deprecations`` to a package (IIB add-deprecations), checking what the entries name."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from catalog.declcfg import (
    SCHEMA_BUNDLE,
    SCHEMA_CHANNEL,
    SCHEMA_PACKAGE,
    DeclarativeConfig,
    Deprecation,
    DeprecationEntry,
)
from catalog.errors import CatalogError
from catalog.ops.packages import OpResult, commit, has_package, package_config


def _key(e: DeprecationEntry) -> tuple[str, str]:
    return (e.reference.schema, e.reference.name)


def add_deprecations(cfg: DeclarativeConfig, deprecations: Iterable[Deprecation]) -> OpResult:
    """Merge each ``olm.deprecations`` blob into its package's (an entry for the same reference wins).

    The package must be in the catalog, and every bundle or channel an entry names must exist in it.
    """
    parts: dict[str, DeclarativeConfig | None] = {}
    for dep in deprecations:
        pkg = dep.package
        if not pkg:
            raise CatalogError("the deprecation schema names no package")
        if not has_package(cfg, pkg):
            raise CatalogError(f"Cannot add deprecations for {pkg}, it is not present in the index")
        part = parts.get(pkg) or package_config(cfg, pkg)
        bundles = {b.name for b in part.bundles}
        channels = {c.name for c in part.channels}
        for i, e in enumerate(dep.entries):
            ref = e.reference
            if not ref.schema:
                raise CatalogError(f"schema must be set for deprecation entry [{i}] for package {pkg!r}")
            if ref.schema == SCHEMA_BUNDLE and ref.name not in bundles:
                raise CatalogError(
                    f"cannot deprecate bundle {ref.name!r} for package {pkg!r}: bundle not found"
                )
            if ref.schema == SCHEMA_CHANNEL and ref.name not in channels:
                raise CatalogError(
                    f"cannot deprecate channel {ref.name!r} for package {pkg!r}: channel not found"
                )
            if ref.schema not in (SCHEMA_BUNDLE, SCHEMA_CHANNEL, SCHEMA_PACKAGE):
                raise CatalogError(f"cannot deprecate object of schema {ref.schema!r} for package {pkg!r}")
        merged: dict[tuple[str, str], DeprecationEntry] = {}
        for old in part.deprecations:
            for e in old.entries:
                merged[_key(e)] = e
        for e in dep.entries:
            merged[_key(e)] = e
        parts[pkg] = replace(part, deprecations=[Deprecation(package=pkg, entries=list(merged.values()))])
    if not parts:
        raise CatalogError("no deprecation schema was given")
    return commit(cfg, parts)
