"""Checking and packing a whole catalog's layer groups on every core, for an index not built here.

An index in IIB's single-layer layout (or opm's) has no layer groups and no validation record, so a
request on it must validate the whole catalog and pack every group. Loading and validating are
Python work that holds the GIL; here they run in forked worker processes, one layer group per task:
a worker loads the group's package directories, checks that each holds only its own package's blobs
(what lets a group be validated on its own, as on the incremental path), validates the group and
packs its layer. When every group passes, the whole catalog is valid (no rule of ``opm validate``
crosses packages) and the request goes on as on the incremental path: it loads and edits only the
groups it touches and reuses the packed layers of the others. Anything else (a group that is not
one package per directory, a blob of another package, an invalid or unreadable package) makes the
caller fall back to loading the whole catalog in one process, which reports opm's exact error.
``catalog validate`` uses the same check without packing (:func:`validates_in_groups`).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from catalog.declcfg import DeclarativeConfig
from catalog.errors import CatalogError
from catalog.load import add_document, catalog_files, parse_documents, shared_values
from catalog.validate import validate_config
from iib_steps.catalog_layers import group_layer_spec, partition
from iib_steps.errors import StepError
from iib_steps.images.layers import LayerBlob, write_layer


@dataclass(frozen=True)
class CheckedGroup:
    """One group that loaded and validated on its own, packed as ``layer`` (None: left to be packed
    at build time, as the request rewrites it)."""

    layer: LayerBlob | None
    bundle_images: tuple[str, ...]  # of its bundles, for the "already present" check of add


@dataclass
class GroupCheck:
    """Every group checked (``groups``), or why the catalog must be loaded as a whole (``failed``)."""

    groups: dict[int, CheckedGroup] = field(default_factory=dict)
    failed: str | None = None


# Without a setting, at most this many workers: a step without a CPU limit sees the node's CPUs, and
# each worker holds a few hundred MB while checking (the catalog itself is shared, not copied).
DEFAULT_MAX_WORKERS = 4


def available_cpus() -> int:
    """The CPUs this process may use: the cgroup's CPU quota (a pod's limit) if any, else its affinity."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            cpus = min(cpus, max(1, int(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cpus)


class NotSelfContained(Exception):
    """A package or group that cannot be validated on its own."""


def load_own_blobs(cfg: DeclarativeConfig, package: str, name: str, data: bytes) -> None:
    """Add the blobs of one file of ``package``'s directory to ``cfg``; every blob must be that
    package's (else :class:`NotSelfContained`). ``cfg`` is only good for validation: its bundle
    objects are stand-ins (:mod:`catalog.object_lift`)."""
    before = (len(cfg.packages), len(cfg.channels), len(cfg.bundles), len(cfg.deprecations), len(cfg.others))
    for obj in parse_documents(data, name, lift_objects=True):  # validated, never written back
        add_document(cfg, obj)
    p, c, b, d, o = before
    if not (
        all(x.name == package for x in cfg.packages[p:])
        and all(x.package == package for x in cfg.channels[c:])
        and all(x.package == package for x in cfg.bundles[b:])
        and all(x.package == package for x in cfg.deprecations[d:])
        and all(x.package == package for x in cfg.others[o:])
    ):
        raise NotSelfContained(f"{name} holds blobs of another package")


def check_group(configs: Path, members: Sequence[str], layer_dir: Path | None) -> CheckedGroup:
    """Load, check and validate the package directories ``members`` of ``configs``; pack their layer
    into ``layer_dir`` (None: validation only).

    Raises :class:`NotSelfContained` or :class:`CatalogError` when the group cannot stand alone.
    """
    cfg = DeclarativeConfig()
    with shared_values():
        for name in members:
            directory = configs / name
            if directory.is_symlink() or not directory.is_dir():
                raise NotSelfContained(f"{name} is not a package directory")
            for path in catalog_files(directory):
                load_own_blobs(cfg, name, str(path.relative_to(configs)), path.read_bytes())
    if cfg.package_names() != set(members):
        raise NotSelfContained("a directory does not hold its package's olm.package blob")
    validate_config(cfg)
    images = tuple(b.image for b in cfg.bundles if b.image)
    layer = write_layer(group_layer_spec(configs, members), layer_dir, threads=1) if layer_dir else None
    return CheckedGroup(layer, images)


def _task(
    configs: Path, group: int, members: Sequence[str], layer_dir: Path | None
) -> tuple[int, CheckedGroup | str]:
    try:
        return group, check_group(configs, members, layer_dir)
    except NotSelfContained as exc:
        return group, str(exc)
    except CatalogError as exc:
        return group, f"package(s) {', '.join(members)} do not load or validate on their own: {exc}"
    except (OSError, StepError) as exc:
        return group, f"reading or packing the group failed: {exc}"


def check_groups(
    configs: Path, members: Mapping[int, Sequence[str]], layer_dir: Path | None, workers: int
) -> GroupCheck:
    """Check and pack every group of ``members`` on ``workers`` forked processes (largest first);
    ``layer_dir`` None: check only."""
    if layer_dir is not None:
        layer_dir.mkdir(parents=True, exist_ok=True)
    result = GroupCheck()
    sizes = {g: sum(_tree_size(configs / n) for n in names) for g, names in members.items()}
    order = sorted(members, key=lambda g: -sizes[g])
    context = multiprocessing.get_context("fork")
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = [pool.submit(_task, configs, g, list(members[g]), layer_dir) for g in order]
            for future in as_completed(futures):
                group, outcome = future.result()
                if isinstance(outcome, str):
                    result.failed = outcome
                    for other in futures:
                        other.cancel()
                    break
                result.groups[group] = outcome
    except (OSError, BrokenProcessPool) as exc:  # no fork here, or a worker killed (out of memory)
        result.failed = f"the parallel check could not run: {exc}"
    return result


def _tree_size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


def validates_in_groups(configs: Path, workers: int, groups: int = 64) -> bool:
    """Whether the catalog at ``configs`` is valid, told from its packages checked on their own on
    ``workers`` processes; False also when that cannot tell (a package does not stand alone, or
    is invalid): loading the whole catalog then decides, in opm's words."""
    try:
        names = [p.name for p in configs.iterdir()]
    except OSError:
        return False
    if not names:
        return False
    return check_groups(configs, partition(names, groups), None, workers).failed is None
