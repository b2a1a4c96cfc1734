"""Catalog operations: pure functions from a catalog to a new catalog plus what changed (OpResult).

Each takes a DeclarativeConfig, works only on the packages it touches, validates those, and returns
an :class:`OpResult` (``config``, ``changed``, ``removed``, ``notes``); errors are CatalogError.
Also exported: helpers around them (``clear_non_head_objects``, ``bundle_to_add_from_catalog``,
``package_config``, ``split_by_package``), which return what their names say.
"""

from catalog.convert import split_by_package
from catalog.ops.add import GRAPH_MODES, BundleToAdd, add_bundles, clear_non_head_objects
from catalog.ops.deprecate import deprecate_bundles
from catalog.ops.deprecations import add_deprecations
from catalog.ops.empty import create_empty
from catalog.ops.fragments import apply_fragment
from catalog.ops.merge import bundle_to_add_from_catalog, merge_catalogs
from catalog.ops.packages import OpResult, package_config
from catalog.ops.remove import remove_packages

__all__ = [
    "GRAPH_MODES",
    "BundleToAdd",
    "OpResult",
    "add_bundles",
    "add_deprecations",
    "apply_fragment",
    "bundle_to_add_from_catalog",
    "clear_non_head_objects",
    "create_empty",
    "deprecate_bundles",
    "merge_catalogs",
    "package_config",
    "remove_packages",
    "split_by_package",
]
