"""Create an empty index from an existing one (IIB create-empty-index): no operator is left."""

from __future__ import annotations

from catalog.declcfg import DeclarativeConfig
from catalog.ops.packages import OpResult


def create_empty(cfg: DeclarativeConfig) -> OpResult:
    """Every package removed; what belongs to no package (custom blobs at the root) is dropped too."""
    return OpResult(config=DeclarativeConfig(), removed=sorted(n for n in cfg.package_names() if n))
