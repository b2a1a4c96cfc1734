"""Apply FBC fragments (IIB fbc-operations): a fragment's packages replace the index's wholesale."""

from __future__ import annotations

from catalog.convert import split_by_package
from catalog.declcfg import DeclarativeConfig
from catalog.errors import CatalogError
from catalog.ops.packages import OpResult, commit


def apply_fragment(cfg: DeclarativeConfig, fragment: DeclarativeConfig) -> OpResult:
    """Replace (or add) every package of ``fragment`` in ``cfg``; other packages are untouched.

    A fragment's blobs that belong to no package cannot be placed and are refused, as is an empty
    fragment.
    """
    parts = split_by_package(fragment)
    loose = parts.pop("", None)
    if loose is not None and (loose.packages or loose.others):
        raise CatalogError("the FBC fragment has blobs that belong to no package")
    if not parts:
        raise CatalogError("No packages found in the FBC fragment")
    present = cfg.package_names()
    result = commit(cfg, dict(parts))
    result.notes.extend(
        f"package {name} {'replaced' if name in present else 'added'} from the fragment"
        for name in sorted(parts)
    )
    return result
