"""The full path on an index not built here, from memory: read, check and pack while decompressing.

:mod:`iib_steps.images.memory_catalog` decompresses the catalog into shared memory and announces
each package directory as soon as it is complete; two (or ``workers``) forked processes load and
validate each package on its own as it arrives (checking that its files hold only its blobs), so
the checking overlaps the decompression. When every package passes, the whole catalog is valid (no
rule of ``opm validate`` crosses packages, as on the incremental path) and the workers pack each
layer group from the same memory, byte for byte what packing the extracted files gives. Nothing is
written to disk but the packed layers and, later, the packages the request touches.

Any package that does not stand alone, and anything the memory reader does not handle, makes the
caller take the files path (:mod:`iib_steps.operations.group_check`), which falls back in turn to
loading the whole catalog in one process and reporting opm's exact error.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from catalog.declcfg import DeclarativeConfig
from catalog.errors import CatalogError
from catalog.load import shared_values
from catalog.validate import validate_config
from iib_steps.catalog_layers import partition
from iib_steps.errors import StepError
from iib_steps.images.build import PendingLayer
from iib_steps.images.extract import CONFIGS_LABEL
from iib_steps.images.inspect import ImageReader
from iib_steps.images.layers import LayerBlob, MemoryFile, write_memory_layer
from iib_steps.images.memory_catalog import AreaFile, MemoryCatalog, SharedArea, Unsupported, read_catalog
from iib_steps.images.registry import RegistryClient
from iib_steps.operations.group_check import CheckedGroup, NotSelfContained, load_own_blobs

_AREA: SharedArea | None = None  # the area a forked worker inherits
_PARENT = "configs"  # archive name of the catalog directory in a group layer (group_layer_spec)


@dataclass(eq=False)
class StreamCheck:
    """The checked groups, their layers being packed, and where each package's files are; or why
    this path failed. The request goes on while the workers pack: the build pushes each layer as
    soon as it is packed (:meth:`pending_layers`)."""

    area: SharedArea | None = None
    catalog: MemoryCatalog = field(default_factory=MemoryCatalog)
    groups: dict[int, CheckedGroup] = field(default_factory=dict)  # layers not in yet: see layers()
    members: dict[int, list[str]] = field(default_factory=dict)
    failed: str | None = None
    rejected: bool = False  # failed because a package does not load or validate on its own
    pool: ProcessPoolExecutor | None = None
    packs: dict[int, Future] = field(default_factory=dict)

    def pending_layers(self) -> dict[int, PendingLayer]:
        """Every group's layer as it is being packed (the build pushes each as soon as it is done);
        :meth:`shutdown` lets the workers go once the build is over."""
        return {group: PendingLayer(partial(self._packed, future)) for group, future in self.packs.items()}

    @staticmethod
    def _packed(future: Future) -> LayerBlob:
        try:
            layer = future.result()
        except BrokenProcessPool as exc:
            raise StepError(f"packing the catalog's layer groups failed: a worker died ({exc})") from None
        except CancelledError:
            raise StepError("packing the catalog's layer groups was cancelled") from None
        if isinstance(layer, str):
            raise StepError(layer)
        return layer

    def shutdown(self) -> None:
        """Let the workers go, dropping what they have not started."""
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None
        _LIVE.discard(self)

    def write_packages(self, names: Sequence[str], configs: Path) -> None:
        """Write these packages' directories and files under ``configs`` (as extraction would)."""
        assert self.area is not None
        mm = self.area.mm
        for name in names:
            (configs / name).mkdir(parents=True, exist_ok=True)
            for rel in self.catalog.dirs.get(name, []):
                (configs / rel).mkdir(parents=True, exist_ok=True)
            for f in self.catalog.files.get(name, []):
                dest = configs / f.rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(mm[f.offset : f.offset + f.size])
                os.chmod(dest, 0o755 if f.executable else 0o644)

    def close(self) -> None:
        self.shutdown()
        if self.area is not None:
            self.area.close()
            self.area = None


_LIVE: set[StreamCheck] = set()


def shutdown_all() -> None:
    """Let every pool of workers go (a request that failed before building must not wait for them)."""
    for check in list(_LIVE):
        check.shutdown()


def _ready() -> None:
    """A first task: makes the pool fork its workers now, before any thread starts."""


def _check_package(name: str, files: list[tuple[str, int, int]]) -> tuple[str, tuple[str, ...] | str]:
    """Load and validate one package from the area; its bundle images, or why it does not stand alone."""
    assert _AREA is not None
    mm = _AREA.mm
    cfg = DeclarativeConfig()
    try:
        with shared_values():
            for rel, offset, size in files:
                load_own_blobs(cfg, name, rel, mm[offset : offset + size])
        if cfg.package_names() != {name}:
            return name, f"the directory {name} does not hold (only) the olm.package blob of {name}"
        validate_config(cfg)
    except NotSelfContained as exc:
        return name, str(exc)
    except CatalogError as exc:
        return name, f"the package {name} does not load or validate on its own: {exc}"
    return name, tuple(b.image for b in cfg.bundles if b.image)


def _pack_group(dirs: list[str], files: list[tuple[str, int, int, bool]], layer_dir: Path) -> LayerBlob | str:
    assert _AREA is not None
    view = memoryview(_AREA.mm)  # slices of it: the bytes are never copied (the area outlives them)
    try:
        return write_memory_layer(
            [_PARENT, *(f"{_PARENT}/{d}" for d in dirs)],
            [MemoryFile(f"{_PARENT}/{rel}", view[o : o + n], x) for rel, o, n, x in files],
            layer_dir,
            threads=1,
        )
    except (OSError, StepError) as exc:
        return f"packing a layer group failed: {exc}"


def _dirs_of(catalog: MemoryCatalog, names: Sequence[str]) -> list[str]:
    return [d for n in names for d in catalog.dirs.get(n, [])]


def _files_of(catalog: MemoryCatalog, names: Sequence[str]) -> list[tuple[str, int, int, bool]]:
    return [(f.rel, f.offset, f.size, f.executable) for n in names for f in catalog.files[n]]


def check_streamed(
    image: str,
    client: RegistryClient | None,
    groups: int,
    layer_dir: Path,
    workers: int,
    unpacked: set[int] | frozenset[int] = frozenset(),
) -> StreamCheck:
    """Read the catalog of ``image`` into memory and check every package; returns once every check
    passed (or one failed) while the workers go on packing every group but the ``unpacked`` ones
    (those the request rewrites: packed at build time). :meth:`StreamCheck.pending_layers` hands
    them to the build."""
    global _AREA
    result = StreamCheck()
    reader = ImageReader(image, client)
    img = reader.default_arch_image()
    prefix = img.labels.get(CONFIGS_LABEL)
    if not prefix:
        result.failed = "it has no catalog directory label"
        return result
    layer_dir.mkdir(parents=True, exist_ok=True)
    capacity = sum(d.size for d in img.parsed.layers) * 24 + (64 << 20)
    try:
        result.area = _AREA = SharedArea(capacity)
    except (OSError, ValueError, OverflowError) as exc:
        result.failed = f"no memory for the layers: {exc}"
        return result
    checks: dict[str, Future] = {}
    context = multiprocessing.get_context("fork")
    try:
        pool = result.pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        _LIVE.add(result)
        pool.submit(_ready).result()  # fork now, while this process has no other thread

        def on_package(name: str, files: list[AreaFile]) -> None:
            checks[name] = pool.submit(_check_package, name, [(f.rel, f.offset, f.size) for f in files])

        try:
            result.catalog = read_catalog(reader, prefix, result.area, on_package)
        except Unsupported as exc:
            result.failed = str(exc)
        if result.failed is None and not checks:
            result.failed = "it is empty"
        if result.failed is None:
            # Packing needs no check result: queued now, it keeps the workers busy to the end.
            result.members = partition(list(checks), groups)
            catalog = result.catalog
            files = {g: _files_of(catalog, names) for g, names in result.members.items()}
            largest_first = sorted(set(files) - set(unpacked), key=lambda g: -sum(f[2] for f in files[g]))
            result.packs = {
                g: pool.submit(_pack_group, _dirs_of(catalog, result.members[g]), files[g], layer_dir)
                for g in largest_first
            }
        images: dict[str, tuple[str, ...]] = {}
        for future in checks.values():
            if result.failed is not None:
                break
            name, outcome = future.result()
            if isinstance(outcome, str):
                result.failed, result.rejected = outcome, True
            else:
                images[name] = outcome
        for group, names in result.members.items():
            found = tuple(i for n in names for i in images.get(n, ()))
            result.groups[group] = CheckedGroup(None, found)
    except Exception as exc:  # no fork here, a worker killed (out of memory): the next path decides
        result.failed = f"the parallel check could not run: {exc or type(exc).__name__}"
    finally:
        _AREA = None
        if result.failed is not None:
            result.shutdown()
    return result
