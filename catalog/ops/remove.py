"""Remove operator packages from a catalog (IIB rm: ``opm registry rm`` plus the package's dirs)."""

from __future__ import annotations

from collections.abc import Iterable

from catalog.declcfg import DeclarativeConfig
from catalog.errors import CatalogError
from catalog.ops.packages import OpResult, commit, has_package


def remove_packages(cfg: DeclarativeConfig, packages: Iterable[str], *, missing_ok: bool = False) -> OpResult:
    """Remove every blob of each named package (its package, channels, bundles, deprecations, others).

    An unknown package is refused with opm's message, unless ``missing_ok`` (then it is only noted).
    """
    names = list(dict.fromkeys(p.strip() for p in packages if p and p.strip()))
    if not names:
        raise CatalogError("no package to remove was given")
    notes: list[str] = []
    parts: dict[str, DeclarativeConfig | None] = {}
    for name in names:
        if not has_package(cfg, name) and not any(d.package == name for d in cfg.deprecations):
            message = f"error removing operator package {name}: no package found for packagename {name}"
            if not missing_ok:
                raise CatalogError(message)
            notes.append(message)
            continue
        parts[name] = None
    return commit(cfg, parts, notes=notes)
