"""Where an operation's catalog comes from: all of ``from_index``, or only the groups it touches.

The full path extracts the whole catalog (any index: ours, IIB's single layer, opm's, a legacy
SQLite index). The incremental path applies when ``from_index`` was built here with the configured
number of layer groups and carries a validation record matching its catalog layers
(:mod:`iib_steps.catalog_layers`): only the layers of the groups holding the packages the request
touches are downloaded (each checked against its diff_id), edited, validated and packed again; the
other groups' layers are reused by reference for every architecture. Anything unexpected (no record,
a record for other layers, a layer that is not what the config says) falls back to the full path.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from catalog.declcfg import DeclarativeConfig
from iib_steps.catalog_layers import group_of, partition
from iib_steps.errors import StepError
from iib_steps.images.build import PendingLayer
from iib_steps.images.inspect import ExistingLayer
from iib_steps.images.layers import LayerBlob
from iib_steps.operations import catalogs
from iib_steps.operations.group_check import CheckedGroup, check_groups
from iib_steps.operations.imaging import ImageIO
from iib_steps.operations.prepack import Prepacker
from iib_steps.operations.stream_check import StreamCheck, check_streamed


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class IndexSource:
    """The catalog of ``from_index`` (or of nothing) as extracted under ``configs`` for one request."""

    images: ImageIO
    pull_spec: str | None
    configs: Path
    groups: int
    # incremental: every catalog layer of from_index (or packed here from a catalog checked in groups)
    layers: dict[int, ExistingLayer | LayerBlob] | None = None
    extracted: set[int] = field(default_factory=set)  # incremental: the groups under ``configs``
    layout_kept: bool = True  # ``configs`` is still laid out as it was extracted
    pure: bool = False  # one directory per package, each holding only that package's blobs
    prepacker: Prepacker | None = None  # full path: the groups being packed in the background
    # checked in groups (group_check): the whole catalog, of which ``ensure`` moves groups to configs
    staging: Path | None = None
    checked: dict[int, CheckedGroup] = field(default_factory=dict)
    members: dict[int, list[str]] = field(default_factory=dict)
    streamed: StreamCheck | None = None  # ... read into memory rather than into ``staging``

    @property
    def incremental(self) -> bool:
        return self.layers is not None

    @classmethod
    def open(
        cls,
        images: ImageIO,
        pull_spec: str | None,
        configs: Path,
        groups: int,
        touched: Iterable[str] | None,
        prepack_dir: Path | None = None,
        workers: int = 0,
    ) -> IndexSource:
        """Extract what the request needs; ``touched`` None means it may touch any package.

        ``prepack_dir``: on the full path (an index without layer groups or a matching record), pack
        its groups there: with ``workers`` (worker processes, 1 or more) every package is checked
        and every group packed in them and the request goes on with the groups it touches
        (:meth:`check_in_groups`); with none, the groups are packed in the background while the
        whole catalog is loaded in this process (:mod:`iib_steps.operations.prepack`).
        """
        source = cls(images, pull_spec, configs, groups)
        if not pull_spec:
            return source
        found = images.catalog_layers(pull_spec, groups) if touched is not None else None
        if found is None or not found.validated:
            why = (
                "the request may touch any package"
                if touched is None
                else "it was not built here with this layout"
                if found is None
                else "its validation record does not match its catalog layers"
            )
            if touched is not None and workers >= 1 and prepack_dir is not None:
                rewritten = {group_of(p, groups) for p in touched}
                if source.check_in_groups(why, prepack_dir, workers, rewritten):
                    source.ensure(touched)
                    area = source.streamed.area if source.streamed is not None else None
                    held = f" ({area.filled / 2**20:.0f} MiB of catalog in shared memory)" if area else ""
                    log(
                        f"from_index {pull_spec}: every layer group loads and validates on its own; "
                        f"the request reads {len(source.extracted)} of {len(source.members)}{held}"
                    )
                return source
            source.fall_back(why)
            if found is None and prepack_dir is not None:
                source.start_prepacking(prepack_dir)
            return source
        source.layers = found.layers
        try:
            source.ensure(touched or ())
        except StepError as exc:
            source.fall_back(str(exc))
            return source
        log(
            f"from_index {pull_spec}: its validation record matches; read {len(source.extracted)} of "
            f"{len(found.layers)} catalog layer group(s)"
        )
        return source

    def fall_back(self, why: str) -> None:
        """Leave the incremental path: extract the whole catalog afresh (edits under ``configs`` are lost)."""
        log(f"from_index {self.pull_spec}: reading the whole catalog ({why})")
        self.layers, self.extracted = None, set()
        self.checked, self.members = {}, {}
        if self.streamed is not None:
            self.streamed.close()
            self.streamed = None
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None
        shutil.rmtree(self.configs)
        self.configs.mkdir(parents=True)
        self.images.extract_catalog(self.pull_spec, self.configs)

    def check_in_groups(self, why: str, layer_dir: Path, workers: int, rewritten: set[int]) -> bool:
        """Check every package of the whole catalog and pack every layer group on ``workers``
        processes, from memory (:mod:`iib_steps.operations.stream_check`) or else from files. True:
        the request goes on as on the incremental path. False: the catalog is under ``configs``, to
        be loaded as a whole (a package did not stand alone)."""
        log(
            f"from_index {self.pull_spec}: reading the whole catalog ({why}) and checking its packages "
            f"on {workers} process{'es' if workers > 1 else ''} as they are read"
        )
        streamed = check_streamed(
            self.images.locate(self.pull_spec), self.images.client, self.groups, layer_dir, workers, rewritten
        )
        if streamed.failed is None:
            self.streamed, self.members, self.checked = streamed, streamed.members, streamed.groups
            self.layers = {}  # being packed: kept_layers() hands them to the build as they are
            return True
        streamed.close()
        if streamed.rejected:
            log(f"from_index {self.pull_spec}: loading the whole catalog in one process ({streamed.failed})")
            self.images.extract_catalog(self.pull_spec, self.configs)
            return False
        log(f"from_index {self.pull_spec}: reading the catalog into memory failed ({streamed.failed})")
        return self._check_extracted_groups(layer_dir, workers)

    def _check_extracted_groups(self, layer_dir: Path, workers: int) -> bool:
        """:meth:`check_in_groups` on the catalog extracted to files (what the memory path does not
        handle: links, an ``.indexignore``, a package spread over layers)."""
        staging = self.configs.with_name(self.configs.name + "-whole")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        self.images.extract_catalog(self.pull_spec, staging)
        entries = list(staging.iterdir())
        members = partition([e.name for e in entries], self.groups)
        why = None
        if not entries:
            why = "it is empty"
        elif not all(e.is_dir() and not e.is_symlink() for e in entries):
            why = "it is not one directory per package"
        else:
            result = check_groups(staging, members, layer_dir, workers)
            why = result.failed
        if why is not None:
            log(f"from_index {self.pull_spec}: loading the whole catalog in one process ({why})")
            shutil.rmtree(self.configs)
            os.replace(staging, self.configs)
            return False
        self.staging, self.members, self.checked = staging, members, result.groups
        self.layers = {g: checked.layer for g, checked in result.groups.items()}
        return True

    def start_prepacking(self, layer_dir: Path) -> None:
        if self.configs.is_dir() and all(p.is_dir() for p in self.configs.iterdir()):
            layer_dir.mkdir(parents=True, exist_ok=True)
            self.prepacker = Prepacker(self.configs, self.groups, layer_dir)

    def ensure(self, packages: Iterable[str]) -> bool:
        """Incremental path: extract the groups holding ``packages`` not extracted yet; True if any."""
        if self.layers is None or not self.pull_spec:
            return False
        wanted = {group_of(p, self.groups) for p in packages} - self.extracted
        self.extracted |= wanted
        if self.streamed is not None:
            written = [g for g in sorted(wanted) if g in self.members]
            for group in written:
                self.streamed.write_packages(self.members[group], self.configs)
            return bool(written)
        if self.staging is not None:
            moved = [g for g in sorted(wanted) if g in self.members]
            for group in moved:
                for name in self.members[group]:
                    os.replace(self.staging / name, self.configs / name)
            return bool(moved)
        todo = [self.layers[g] for g in sorted(wanted) if g in self.layers]
        if todo:
            self.images.extract_groups(self.pull_spec, todo, self.configs)
        return bool(todo)

    def load(self) -> DeclarativeConfig:
        """Load the extracted catalog; lay it out one directory per package if it is not already.

        On the incremental path the groups read must stay self-contained (one directory per package,
        holding only its blobs, as an FBC fragment copied in may not be); else the catalog is read
        in full. Edits made under ``configs`` before loading are then lost: callers redo them.
        """
        cfg, self.pure = catalogs.load_checked(self.configs)
        if self.layers is not None and not (self.pure and catalogs.is_package_per_dir(cfg, self.configs)):
            self.fall_back("the groups read do not hold one package per directory")
            cfg, self.pure = catalogs.load_checked(self.configs)
        self.layout_kept = not catalogs.normalize(cfg, self.configs)
        if not self.layout_kept:
            self.pure = True  # rewritten by our writer
        return cfg

    def kept_layers(self) -> dict[int, ExistingLayer | LayerBlob | PendingLayer] | None:
        """Incremental path: the layers of the groups not extracted (reused as they are; read from
        memory, still being packed: see :meth:`release`)."""
        if self.layers is None:
            return None
        layers: dict[int, ExistingLayer | LayerBlob | PendingLayer] = dict(self.layers)
        if self.streamed is not None:
            layers = dict(self.streamed.pending_layers())
        return {g: layer for g, layer in layers.items() if g not in self.extracted}

    def release(self) -> None:
        """The build is over, passed or failed: stop packing in the background and let the workers
        that packed the layers go."""
        if self.prepacker is not None:
            self.prepacker.stop()
        if self.streamed is not None:
            self.streamed.shutdown()

    def bundle_images_elsewhere(self) -> list[str]:
        """The bundle images of the groups checked in parallel and not loaded here (empty otherwise:
        the incremental path knows only the groups it reads)."""
        kept = [c for g, c in sorted(self.checked.items()) if g not in self.extracted]
        return [image for group in kept for image in group.bundle_images]
