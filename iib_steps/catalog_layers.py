"""Lay a catalog out in an index image as N stable layers, so that small changes upload small layers.

IIB puts the whole ``/configs`` tree in one layer, so adding one bundle recompresses and re-uploads
every package. Here each package directory goes to layer group ``sha256(name) mod N``; a layer is a
deterministic tar (sorted entries, fixed owner, mode and mtime) compressed with a fixed gzip header,
so an unchanged group gives a byte-identical blob whose digest the registry already holds, and the
image stays a plain ``/configs`` tree that ``opm serve`` reads (the layers merge by overlay).

Each layer descriptor carries the annotation :data:`GROUP_ANNOTATION` (``"<i>/<N>"``). A later build
with the same N may reuse a group's descriptor from the previous index image without touching its
files (:func:`reusable_groups`).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

GROUP_ANNOTATION = "io.iib-tekton.catalog.group"
CONFIGS_DIR = "configs"
_MTIME = 0
_GZIP_LEVEL = 6


def group_of(name: str, groups: int) -> int:
    """The layer group of a package (or top-level file) name: stable across builds and machines."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") % groups


@dataclass(slots=True)
class CatalogLayer:
    """One compressed layer holding ``/configs/<pkg>`` for the packages of a group."""

    group: int
    groups: int
    path: Path
    digest: str  # of the compressed blob
    diff_id: str  # of the uncompressed tar
    size: int
    packages: list[str] = field(default_factory=list)

    @property
    def annotation(self) -> str:
        return f"{self.group}/{self.groups}"


def partition(names: Iterable[str], groups: int) -> dict[int, list[str]]:
    """``{group: sorted names}`` for every group that has at least one name."""
    out: dict[int, list[str]] = {}
    for name in sorted(names):
        out.setdefault(group_of(name, groups), []).append(name)
    return out


def _tarinfo(name: str, *, directory: bool, size: int = 0, mode: int | None = None) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
    info.mode = mode if mode is not None else (0o755 if directory else 0o644)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = _MTIME
    info.size = size
    return info


def _walk(root: Path) -> list[Path]:
    """Every file and directory under ``root`` (itself included), sorted by relative path."""
    found = [root]
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        base = Path(dirpath)
        found.extend(base / d for d in dirnames)
        found.extend(base / f for f in sorted(filenames))
    return sorted(found, key=lambda p: p.relative_to(root.parent).as_posix())


def write_group_tar(configs: Path, names: list[str], out: Path) -> tuple[str, str, int]:
    """Write the layer for ``names`` (entries of ``configs``) to ``out``; return (digest, diff_id, size)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        tar.addfile(_tarinfo(f"{CONFIGS_DIR}/", directory=True))
        for name in names:
            top = configs / name
            for path in _walk(top) if top.is_dir() else [top]:
                rel = f"{CONFIGS_DIR}/{path.relative_to(configs).as_posix()}"
                if path.is_dir():
                    tar.addfile(_tarinfo(rel + "/", directory=True))
                else:
                    data = path.read_bytes()
                    tar.addfile(_tarinfo(rel, directory=False, size=len(data)), io.BytesIO(data))
    tar_bytes = raw.getvalue()
    diff_id = "sha256:" + hashlib.sha256(tar_bytes).hexdigest()
    blob = io.BytesIO()
    with gzip.GzipFile(fileobj=blob, mode="wb", compresslevel=_GZIP_LEVEL, mtime=_MTIME, filename="") as gz:
        gz.write(tar_bytes)
    data = blob.getvalue()
    out.write_bytes(data)
    return "sha256:" + hashlib.sha256(data).hexdigest(), diff_id, len(data)


def build_layers(
    configs: Path, out_dir: Path, groups: int, *, only: Iterable[int] | None = None
) -> list[CatalogLayer]:
    """Write one layer per non-empty group of ``configs``' top-level entries into ``out_dir``.

    ``only`` limits the work to those groups (the others are reused from the previous image).
    """
    configs = Path(configs)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = [p.name for p in configs.iterdir()] if configs.is_dir() else []
    wanted = set(only) if only is not None else None
    layers: list[CatalogLayer] = []
    for group, members in sorted(partition(names, groups).items()):
        if wanted is not None and group not in wanted:
            continue
        path = out_dir / f"catalog-{group:03d}-of-{groups:03d}.tar.gz"
        digest, diff_id, size = write_group_tar(configs, members, path)
        layers.append(CatalogLayer(group, groups, path, digest, diff_id, size, members))
    return layers


def reusable_groups(
    previous: Mapping[int, object], changed_names: Iterable[str], groups: int, present_groups: Iterable[int]
) -> tuple[set[int], set[int]]:
    """Split the groups of the new catalog into (reuse from ``previous``, rebuild).

    A group is reused when the previous image had a layer for it and none of its names changed.
    """
    dirty = {group_of(n, groups) for n in changed_names}
    present = set(present_groups)
    reuse = {g for g in present if g in previous and g not in dirty}
    return reuse, present - reuse
