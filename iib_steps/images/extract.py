"""Extracting directories from an image without a container runtime.

Layers are read from the top down. A file found in an upper layer wins; whiteouts (``.wh.NAME``)
and opaque directories (``.wh..wh..opq``) hide what lower layers hold. Reading stops at the first
layer below which nothing wanted can still be visible (an opaque whiteout or a whiteout at or above
each wanted directory), so the base layers of an index image built here are never downloaded.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from iib_steps.errors import StepError
from iib_steps.images.inspect import ImageReader
from iib_steps.images.layer_stream import LayerStream
from iib_steps.images.manifests import Descriptor
from iib_steps.images.reference import ImageLocation
from iib_steps.images.registry import RegistryClient
from iib_steps.images.stores import LayoutStore

CONFIGS_LABEL = "operators.operatorframework.io.index.configs.v1"
WHITEOUT = ".wh."
_TAR_BUFFER = 1024 * 1024  # tarfile's stream reads (10 KiB by default: many small calls)
OPAQUE = ".wh..wh..opq"


@dataclass(frozen=True)
class ExtractResult:
    """What an extraction did."""

    files: int
    layers_read: int
    layers_total: int
    found: dict[str, bool]  # wanted in-image directory → whether anything was there


def _norm(name: str) -> str | None:
    parts = [p for p in PurePosixPath("/" + name).parts[1:] if p not in ("", ".")]
    if ".." in parts:
        return None
    return "/".join(parts)


def _ancestors(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]


class _Overlay:
    """Tracks what upper layers already decided, so that lower layers only fill the gaps."""

    def __init__(self, wanted: Mapping[str, Path]) -> None:
        self.wanted = wanted
        self.seen: set[str] = set()  # paths written (or claimed) by upper layers
        self.hidden: set[str] = set()  # paths whited out for lower layers
        self.opaque: set[str] = set()  # directories whose lower content is hidden
        self.found = dict.fromkeys(wanted, False)
        self.files = 0
        self._made: set[Path] = set()  # directories known to exist (one mkdir each, not one per file)
        # What the layer being read decides for the layers below it (merged by end_layer).
        self._new_seen: set[str] = set()
        self._new_hidden: set[str] = set()
        self._new_opaque: set[str] = set()

    def admit(self, name: str, is_dir: bool) -> str | None:
        """The normalized path of a tar member that this layer adds to the merged view, or None: a
        whiteout (recorded for the layers below), a path hidden by an upper layer or already given."""
        path = _norm(name)
        if not path:
            return None
        base = path.rsplit("/", 1)[-1]
        parent = path.rsplit("/", 1)[0] if "/" in path else ""
        if base == OPAQUE:
            self._new_opaque.add(parent)
            return None
        if base.startswith(WHITEOUT):
            self._new_hidden.add(f"{parent}/{base[len(WHITEOUT) :]}".lstrip("/"))
            return None
        if path in self.seen or not self.visible(path):
            return None
        self._new_seen.add(path)
        if not is_dir:
            self._new_hidden.add(path)  # a non-directory hides a lower directory of the same name
        return path

    def end_layer(self) -> None:
        self.seen |= self._new_seen
        self.hidden |= self._new_hidden
        self.opaque |= self._new_opaque
        self._new_seen, self._new_hidden, self._new_opaque = set(), set(), set()

    def make_dir(self, path: Path) -> None:
        if path not in self._made:
            path.mkdir(parents=True, exist_ok=True)
            self._made.add(path)

    def target(self, path: str) -> tuple[str, Path] | None:
        for prefix, dest in self.wanted.items():
            if path == prefix or path.startswith(prefix + "/"):
                rel = path[len(prefix) :].lstrip("/")
                return prefix, dest / rel if rel else dest
        return None

    def visible(self, path: str) -> bool:
        ancestors = _ancestors(path)
        if any(a in self.hidden for a in ancestors):
            return False
        return not any(a in self.opaque for a in ancestors[:-1])

    def done(self) -> bool:
        """True when no lower layer can add anything under any wanted directory."""
        return all(
            any(a in self.opaque or a in self.hidden for a in _ancestors(prefix)) for prefix in self.wanted
        )


def _extract_layer(fileobj: IO[bytes], overlay: _Overlay, verify: bool = False) -> str | None:
    """Apply one layer (gzip, zstd or plain tar) under ``overlay``; return its diff_id if ``verify``."""
    stream = LayerStream(fileobj, hashed=verify, read_ahead=True)
    try:
        return _apply(stream, overlay, verify)
    finally:
        stream.close()


def _apply(stream: LayerStream, overlay: _Overlay, verify: bool) -> str | None:
    links: list[tuple[Path, str]] = []
    try:
        archive = tarfile.open(fileobj=stream, mode="r|", bufsize=_TAR_BUFFER)  # noqa: SIM115  (closed below)
    except tarfile.TarError as exc:
        raise StepError(f"a layer is not a readable tar archive: {exc}") from None
    with archive:
        for member in archive:
            path = overlay.admit(member.name, member.isdir())
            if path is None:
                continue
            where = overlay.target(path)
            if where is None:
                continue
            prefix, dest = where
            overlay.found[prefix] = True
            if member.isdir():
                overlay.make_dir(dest)
            elif member.isreg():
                overlay.make_dir(dest.parent)
                src = archive.extractfile(member)
                assert src is not None
                with open(dest, "wb") as out:
                    shutil.copyfileobj(src, out, 1024 * 1024)
                os.chmod(dest, 0o755 if member.mode & 0o100 else 0o644)
                overlay.files += 1
            elif member.issym():
                target = member.linkname
                if os.path.isabs(target) or ".." in PurePosixPath(target).parts:
                    continue  # never write links that may point outside the destination
                dest.parent.mkdir(parents=True, exist_ok=True)
                if dest.is_symlink() or dest.exists():
                    dest.unlink()
                os.symlink(target, dest)
            elif member.islnk():
                linked = _norm(member.linkname)
                if linked:
                    links.append((dest, linked))
    for dest, linked in links:
        where = overlay.target(linked)
        if where is not None and where[1].is_file():
            shutil.copyfile(where[1], dest)
            overlay.files += 1
    overlay.end_layer()
    if not verify:
        return None
    stream.drain()
    return stream.diff_id


def extract_paths(
    image: str | ImageLocation,
    wanted: Mapping[str, Path],
    *,
    arch: str | None = None,
    client: RegistryClient | None = None,
) -> ExtractResult:
    """Extract in-image directories into local ones: ``{"/configs": Path("out")}``.

    ``arch`` picks one image of a list (default linux/amd64, else the first). Local directories are
    created; files already there are overwritten.
    """
    reader = ImageReader(image, client)
    img = reader.default_arch_image(arch)
    norm_wanted: dict[str, Path] = {}
    for prefix, dest in wanted.items():
        key = _norm(prefix)
        if key is None:
            raise StepError(f"invalid path in image: {prefix!r}")
        norm_wanted[key] = Path(dest)
    overlay = _Overlay(norm_wanted)
    layers = list(img.parsed.layers)
    read = 0
    for desc in reversed(layers):
        if overlay.done():
            break
        read += 1
        _read_layer(reader, desc, overlay)
    return ExtractResult(overlay.files, read, len(layers), overlay.found)


def _read_layer(reader: ImageReader, desc: Descriptor, overlay: _Overlay, verify: bool = False) -> str | None:
    if isinstance(reader.store, LayoutStore):
        with reader.store.layout.open_blob(desc.digest) as fh:
            return _extract_layer(fh, overlay, verify)
    with tempfile.TemporaryFile() as tmp:
        reader.store.download_blob(desc.digest, tmp)
        tmp.seek(0)
        return _extract_layer(tmp, overlay, verify)


def extract_layers(
    image: str | ImageLocation,
    layers: Sequence[tuple[Descriptor, str]],
    dest: Path,
    prefix: str,
    *,
    client: RegistryClient | None = None,
) -> int:
    """Extract what these layers of ``image`` hold under ``prefix`` into ``dest``; return the file count.

    ``layers`` are (descriptor, diff_id) pairs, bottom first, whose content does not overlap (the
    catalog layer groups of an index built here). Each layer's uncompressed bytes must hash to its
    diff_id, else a StepError is raised: the blob is not the layer the image config names.
    """
    reader = ImageReader(image, client)
    key = _norm(prefix)
    if key is None:
        raise StepError(f"invalid path in image: {prefix!r}")
    overlay = _Overlay({key: Path(dest)})
    Path(dest).mkdir(parents=True, exist_ok=True)
    for desc, diff_id in reversed(layers):
        got = _read_layer(reader, desc, overlay, verify=True)
        if got != diff_id:
            raise StepError(f"the layer {desc.digest} of {reader.location} is not {diff_id} (it is {got})")
    return overlay.files


def extract_index_catalog(
    image: str | ImageLocation, dest: Path, *, arch: str | None = None, client: RegistryClient | None = None
) -> Path:
    """Extract the catalog of an FBC index image (its ``operators.operatorframework.io.index.configs.v1``
    directory) into ``dest``, which then holds the package directories. Returns ``dest``."""
    reader = ImageReader(image, client)
    img = reader.default_arch_image(arch)
    configs = img.labels.get(CONFIGS_LABEL)
    if not configs:
        raise StepError(
            f"the index image {reader.location} is not a file-based catalog: it has no {CONFIGS_LABEL} label"
        )
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    result = extract_paths(reader.location, {configs: dest}, arch=arch, client=reader.client)
    if not any(result.found.values()):
        raise StepError(f"the index image {reader.location} has nothing at {configs}")
    return dest


def extract_bundle(image: str | ImageLocation, dest: Path, *, client: RegistryClient | None = None) -> Path:
    """Extract a bundle image's ``/manifests`` and ``/metadata`` into ``dest/``."""
    dest = Path(dest)
    result = extract_paths(
        image, {"/manifests": dest / "manifests", "/metadata": dest / "metadata"}, client=client
    )
    missing = [p for p, ok in result.found.items() if not ok]
    if missing:
        raise StepError(f"the bundle image {image} has no /{' or /'.join(missing)} directory")
    return dest
