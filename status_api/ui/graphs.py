"""The upgrade graphs a build changed, drawn from the catalog of the index image it built.

A build's packages: the keys of ``bundle_mapping`` (add), ``removed_operators`` or ``operators`` (rm,
drawn from the index it started from, since the result no longer has them), ``operator_package``
(add-deprecations). The catalog is extracted once per pinned image (``iib_steps.images``: a registry
or an OCI layout on disk) into the cache folder, and each SVG is kept beside it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@dataclass(frozen=True, slots=True)
class GraphSource:
    """Which image's catalog to draw ``packages`` from, and why (shown on the page)."""

    image: str
    packages: list[str]
    note: str = ""


def graph_source(build: dict[str, Any]) -> GraphSource | None:
    """Where the page finds the graphs of the packages ``build`` (IIB's request JSON) changed."""
    if build.get("state") != "complete":
        return None
    kind = build.get("request_type")
    output = build.get("index_image_resolved") or build.get("index_image")
    if kind == "add" and output:
        return GraphSource(output, sorted(build.get("bundle_mapping") or {}))
    if kind == "add-deprecations" and output and build.get("operator_package"):
        return GraphSource(output, [build["operator_package"]])
    if kind == "rm":
        before = build.get("from_index_resolved") or build.get("from_index")
        removed = build.get("removed_operators") or build.get("operators") or []
        if before and removed:
            return GraphSource(before, sorted(removed), note="before removal, from the index it started from")
    return None


def default_cache_dir() -> Path:
    return Path(tempfile.gettempdir()) / "iib-status-graphs"


def _lock(key: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def _catalog_dir(image: str, cache: Path) -> Path:
    """The image's catalog in the cache, extracted on first use (atomically: a rename)."""
    from iib_steps.images.extract import extract_index_catalog

    key = hashlib.sha256(image.encode()).hexdigest()[:32]
    target = cache / key / "catalog"
    with _lock(key):
        if not target.is_dir():
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".extract-", dir=target.parent))
            try:
                extract_index_catalog(image, staging / "catalog")
                os.replace(staging / "catalog", target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    return target


def package_svg(image: str, package: str, cache: Path) -> str:
    """The SVG of ``package``'s channels in the catalog of ``image`` (cached)."""
    from catalog.errors import CatalogError
    from catalog.graph import channel_graphs
    from catalog.graph_svg import draw
    from catalog.load import load_fs

    catalog = _catalog_dir(image, cache)
    drawn = catalog.parent / f"{hashlib.sha256(package.encode()).hexdigest()[:32]}.svg"
    if drawn.is_file():
        return drawn.read_text()
    package_dir = catalog / package
    cfg = load_fs(package_dir if package_dir.is_dir() else catalog)
    if package not in {p.name for p in cfg.packages}:
        raise CatalogError(f"the index image {image} has no package {package}")
    svg = draw(channel_graphs(cfg, package), title=package)
    tmp = drawn.with_suffix(".tmp")
    tmp.write_text(svg)
    os.replace(tmp, drawn)
    return svg
