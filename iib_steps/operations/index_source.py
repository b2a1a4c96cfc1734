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

import shutil
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from catalog.declcfg import DeclarativeConfig
from iib_steps.catalog_layers import group_of
from iib_steps.errors import StepError
from iib_steps.images.inspect import ExistingLayer
from iib_steps.operations import catalogs
from iib_steps.operations.imaging import ImageIO
from iib_steps.operations.prepack import Prepacker


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class IndexSource:
    """The catalog of ``from_index`` (or of nothing) as extracted under ``configs`` for one request."""

    images: ImageIO
    pull_spec: str | None
    configs: Path
    groups: int
    layers: dict[int, ExistingLayer] | None = None  # incremental: every catalog layer of from_index
    extracted: set[int] = field(default_factory=set)  # incremental: the groups under ``configs``
    layout_kept: bool = True  # ``configs`` is still laid out as it was extracted
    pure: bool = False  # one directory per package, each holding only that package's blobs
    prepacker: Prepacker | None = None  # full path: the groups being packed in the background

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
    ) -> IndexSource:
        """Extract what the request needs; ``touched`` None means it may touch any package.

        ``prepack_dir``: on the full path from an index without layer groups, pack its groups there
        in the background while the request goes on (:mod:`iib_steps.operations.prepack`).
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
        shutil.rmtree(self.configs)
        self.configs.mkdir(parents=True)
        self.images.extract_catalog(self.pull_spec, self.configs)

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

    def kept_layers(self) -> dict[int, ExistingLayer] | None:
        """Incremental path: the layers of the groups not extracted (reused as they are)."""
        if self.layers is None:
            return None
        return {g: layer for g, layer in self.layers.items() if g not in self.extracted}
