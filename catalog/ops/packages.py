"""Working per package: take one package's blobs out of a catalog, put changed packages back.

Every operation computes its new packages completely, validates only those, and then builds the new
catalog in one step (:func:`commit`), so a failure never leaves a half-made catalog and the work is
proportional to the packages touched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from catalog.declcfg import SCHEMA_BUNDLE, SCHEMA_CHANNEL, DeclarativeConfig
from catalog.errors import CatalogError
from catalog.validate import validate_config


@dataclass(slots=True)
class OpResult:
    """A new catalog and what the operation changed in it."""

    config: DeclarativeConfig
    changed: list[str] = field(default_factory=list)  # packages added or rewritten, sorted
    removed: list[str] = field(default_factory=list)  # packages no longer in the catalog, sorted
    notes: list[str] = field(default_factory=list)  # things a user should hear (e.g. skipped bundles)


def package_config(cfg: DeclarativeConfig, name: str) -> DeclarativeConfig:
    """A new config holding every blob of package ``name`` (the blobs themselves are shared)."""
    return DeclarativeConfig(
        packages=[p for p in cfg.packages if p.name == name],
        channels=[c for c in cfg.channels if c.package == name],
        bundles=[b for b in cfg.bundles if b.package == name],
        deprecations=[d for d in cfg.deprecations if d.package == name],
        others=[o for o in cfg.others if o.package == name],
        retained=[r for r in cfg.retained if r.bundle.package == name],
    )


def has_package(cfg: DeclarativeConfig, name: str) -> bool:
    """Whether any blob belongs to package ``name``."""
    return (
        any(p.name == name for p in cfg.packages)
        or any(c.package == name for c in cfg.channels)
        or any(b.package == name for b in cfg.bundles)
    )


def drop_stale_deprecations(part: DeclarativeConfig) -> tuple[DeclarativeConfig, list[str]]:
    """Drop ``olm.deprecations`` entries naming a bundle or channel the package no longer has
    (an add pruned it, a deprecation truncated it); say which."""
    bundles = {b.name for b in part.bundles}
    channels = {c.name for c in part.channels}
    notes: list[str] = []
    kept_blobs = []
    for dep in part.deprecations:
        kept = []
        for e in dep.entries:
            ref = e.reference
            gone = (ref.schema == SCHEMA_BUNDLE and ref.name not in bundles) or (
                ref.schema == SCHEMA_CHANNEL and ref.name not in channels
            )
            if gone:
                notes.append(
                    f"deprecation entry for {ref.schema} {ref.name} of {dep.package} dropped: it is gone"
                )
            else:
                kept.append(e)
        if kept:
            kept_blobs.append(replace(dep, entries=kept))
    if not notes:
        return part, []
    return replace(part, deprecations=kept_blobs), notes


def validate_packages(parts: Mapping[str, DeclarativeConfig | None]) -> None:
    """Validate each new package on its own (opm validates per package); raise the first failure."""
    for name in sorted(parts):
        part = parts[name]
        if part is None:
            continue
        try:
            validate_config(part)
        except CatalogError as exc:
            raise CatalogError(f"the resulting package {name!r} would not be valid: {exc}") from None


def replace_packages(
    cfg: DeclarativeConfig, parts: Mapping[str, DeclarativeConfig | None]
) -> DeclarativeConfig:
    """A new catalog: ``cfg`` with the packages named in ``parts`` replaced (``None`` removes one)."""
    touched = set(parts)
    out = DeclarativeConfig(
        packages=[p for p in cfg.packages if p.name not in touched],
        channels=[c for c in cfg.channels if c.package not in touched],
        bundles=[b for b in cfg.bundles if b.package not in touched],
        deprecations=[d for d in cfg.deprecations if d.package not in touched],
        others=[o for o in cfg.others if not o.package or o.package not in touched],
        retained=[r for r in cfg.retained if r.bundle.package not in touched],
    )
    for name in sorted(parts):
        part = parts[name]
        if part is not None:
            out.extend(part)
    return out


def commit(
    cfg: DeclarativeConfig,
    parts: Mapping[str, DeclarativeConfig | None],
    *,
    validate: bool = True,
    notes: Iterable[str] = (),
) -> OpResult:
    """Validate the new packages, then build the new catalog and say what changed."""
    if validate:
        validate_packages(parts)
    return OpResult(
        config=replace_packages(cfg, parts),
        changed=sorted(n for n, p in parts.items() if p is not None),
        removed=sorted(n for n, p in parts.items() if p is None),
        notes=list(notes),
    )
