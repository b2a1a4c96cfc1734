"""Catalog operations: pure functions from a catalog to a new catalog plus what changed."""

from catalog.ops.add import GRAPH_MODES, BundleToAdd, add_bundles, clear_non_head_objects
from catalog.ops.deprecate import deprecate_bundles
from catalog.ops.packages import OpResult
from catalog.ops.remove import remove_packages

__all__ = [
    "GRAPH_MODES",
    "BundleToAdd",
    "OpResult",
    "add_bundles",
    "clear_non_head_objects",
    "deprecate_bundles",
    "remove_packages",
]
