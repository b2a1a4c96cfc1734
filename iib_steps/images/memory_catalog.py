"""Reading an index image's catalog into shared memory, announcing each package as it completes.

The full path on an index not built here reads the whole catalog, then checks it package by package
in worker processes (:mod:`iib_steps.operations.stream_check`). Writing 365 MB of files and reading
them back costs more than checking them, and nothing can start before the last file is written.
Here a thread decompresses each layer straight into one anonymous shared memory area (the workers,
forked before it starts, see it), while the caller parses the tar headers in place (``tarfile`` on a
reader that waits for the bytes, so file contents are never copied) and is told as soon as a
package directory is complete (a tar holds a directory's entries together; the next package's first
entry closes the previous one). Files are then (offset, size) in the area.

Layers are read from the top down with the same overlay rules as :mod:`iib_steps.images.extract`.
Anything this reader does not handle raises :class:`Unsupported` and the caller takes the files path:
links or special files in the catalog, a file at its top, a package whose entries are not together
or that a lower layer adds to, ``.indexignore`` files, an area too small for the layers.
"""

from __future__ import annotations

import mmap
import os
import tarfile
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from isal import isal_zlib

from iib_steps.images.extract import _norm, _Overlay
from iib_steps.images.inspect import ImageReader
from iib_steps.images.layer_stream import GZIP_MAGIC, LayerStream
from iib_steps.images.manifests import Descriptor
from iib_steps.images.stores import LayoutStore

INDEXIGNORE = ".indexignore"
_CHUNK = 1024 * 1024
# The area is virtual memory: pages cost only once written. Room for JSON compressed 24 to 1.
_RATIO = 24


class Unsupported(Exception):
    """The catalog cannot be read this way; the message says why."""


@dataclass(frozen=True)
class AreaFile:
    """A catalog file: ``rel`` below the catalog directory, its bytes at ``offset`` in the area."""

    rel: str
    offset: int
    size: int
    executable: bool


@dataclass
class MemoryCatalog:
    """What the catalog directory holds: its files and explicit directories, by package."""

    files: dict[str, list[AreaFile]] = field(default_factory=dict)  # package -> files, in walk order
    dirs: dict[str, list[str]] = field(default_factory=dict)  # package -> directories (rel)
    layers_read: int = 0


class SharedArea:
    """Shared memory that one writer fills from the start and readers wait on.

    A memory file (``memfd``) mapped shared, so forked children see it: the writer puts bytes in with
    ``pwrite``, which lets other threads run and costs about half what copying into the mapping
    does (no page fault per page); without memfd, an anonymous shared mapping written through.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = max(capacity, mmap.PAGESIZE)
        self._fd: int | None = None
        try:
            fd = os.memfd_create("iib-catalog", os.MFD_CLOEXEC)
        except (AttributeError, OSError):  # not Linux, or refused (a seccomp profile)
            fd = None
        if fd is not None:
            try:
                os.ftruncate(fd, self.capacity)  # sparse: pages exist once written
                self.mm = mmap.mmap(fd, self.capacity)
            except OSError:
                os.close(fd)
            else:
                self._fd = fd
        if self._fd is None:
            self.mm = mmap.mmap(-1, self.capacity)  # MAP_SHARED | MAP_ANONYMOUS
        self.filled = 0
        self._end: int | None = None  # where the layer being written ends, once it has
        self._error: str | None = None
        self._cond = threading.Condition()

    def write_layer(self, raw: IO[bytes]) -> None:
        """Decompress one layer blob after what is there (in a thread of its own)."""
        stream = LayerStream(raw, hashed=False)
        while chunk := stream.read(_CHUNK):
            self.append(chunk)
        self.end_layer()

    def append(self, chunk: bytes) -> None:
        end = self.filled + len(chunk)
        if end > self.capacity:
            raise Unsupported("the layers are larger than the memory set aside for them")
        if self._fd is None:
            self.mm[self.filled : end] = chunk
        else:
            view, at = memoryview(chunk), self.filled
            while view:
                written = os.pwrite(self._fd, view, at)
                view, at = view[written:], at + written
        with self._cond:
            self.filled = end
            self._cond.notify_all()

    def end_layer(self) -> None:
        with self._cond:
            self._end = self.filled
            self._cond.notify_all()

    def fail(self, message: str) -> None:
        with self._cond:
            self._error = message
            self._cond.notify_all()

    def start_layer(self) -> None:
        with self._cond:
            self._end = None

    def wait(self, upto: int) -> int:
        """Block until ``upto`` bytes are written or the layer ended; return what is readable."""
        with self._cond:
            while self.filled < upto and self._end is None and self._error is None:
                self._cond.wait()
            if self._error is not None:
                raise Unsupported(self._error)
            return min(upto, self.filled)

    def close(self) -> None:
        self.mm.close()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class _LayerReader:
    """A file object over one layer's bytes in the area, for ``tarfile`` (reads wait for the writer)."""

    def __init__(self, area: SharedArea, start: int) -> None:
        self.area = area
        self.start = start
        self.pos = 0

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = self.area.capacity
        begin = self.start + self.pos
        end = self.area.wait(begin + n)
        data = self.area.mm[begin:end] if end > begin else b""
        self.pos += len(data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence == 0:
            self.pos = offset
        elif whence == 1:
            self.pos += offset
        else:
            raise OSError("seeking from the end of a layer being decompressed")
        return self.pos

    def tell(self) -> int:
        return self.pos


def read_catalog(
    reader: ImageReader, prefix: str, area: SharedArea, on_package: Callable[[str, list[AreaFile]], None]
) -> MemoryCatalog:
    """Read the catalog directory ``prefix`` of the image into ``area``; ``on_package(name, files)``
    is called once per package, as soon as its entries are all read."""
    key = _norm(prefix)
    if not key:
        raise Unsupported(f"the catalog directory {prefix!r} is not a directory below /")
    parser = _Parser(key, area, on_package)
    img = reader.default_arch_image()
    for desc in reversed(list(img.parsed.layers)):
        if parser.overlay.done():
            break
        parser.catalog.layers_read += 1
        start = area.filled
        area.start_layer()
        writer = threading.Thread(
            target=_fill, args=(reader, desc, area), name="layer-to-memory", daemon=True
        )
        writer.start()
        try:
            with tarfile.TarFile(fileobj=_LayerReader(area, start), mode="r") as archive:  # type: ignore[arg-type]
                for member in archive:
                    parser.take(member, start)
        except tarfile.TarError as exc:
            raise Unsupported(f"a layer is not a readable tar archive: {exc}") from None
        finally:
            writer.join()
        area.wait(area.capacity)  # raises the writer's error, if any
        parser.end_layer()
    return parser.catalog


def _fill(reader: ImageReader, desc: Descriptor, area: SharedArea) -> None:
    try:
        if isinstance(reader.store, LayoutStore):
            with reader.store.layout.open_blob(desc.digest) as fh:
                area.write_layer(fh)
            return
        with _DownloadSink(area) as sink:
            reader.store.download_blob(desc.digest, sink)  # type: ignore[arg-type]
            sink.finish()
    except Exception as exc:  # handed to the reader, raised there
        area.fail(str(exc) or type(exc).__name__)


class _DownloadSink:
    """Where a registry download writes: a gzip layer is decompressed into the area as it arrives
    (the download overlaps the decompression); anything else goes to a file first. A download that
    starts over (a retry) cannot be followed: the caller then takes the files path."""

    def __init__(self, area: SharedArea) -> None:
        self.area = area
        self.written = 0
        self.decoder = None  # gzip: the current member's decoder
        self.spill: IO[bytes] | None = None  # not gzip: the blob, decompressed at the end

    def __enter__(self) -> _DownloadSink:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.spill is not None:
            self.spill.close()

    def seek(self, offset: int, whence: int = 0) -> int:
        if offset or self.written:
            raise Unsupported("a layer download started over")
        return 0

    def truncate(self, size: int | None = None) -> int:
        return 0

    def write(self, data: bytes) -> int:
        size = len(data)
        if not self.written:
            if data[:2] == GZIP_MAGIC:
                self.decoder = isal_zlib.decompressobj(wbits=31)
            else:
                self.spill = tempfile.TemporaryFile()  # noqa: SIM115  (closed by __exit__)
        self.written += size
        if self.spill is not None:
            return self.spill.write(data)
        while data:
            if self.decoder is None:  # a gzip stream may hold several members
                self.decoder = isal_zlib.decompressobj(wbits=31)
            out = self.decoder.decompress(data)
            if out:
                self.area.append(out)
            if self.decoder.eof:
                data, self.decoder = self.decoder.unused_data, None
            else:
                data = b""
        return size

    def finish(self) -> None:
        if self.spill is not None:
            self.spill.seek(0)
            self.area.write_layer(self.spill)
            return
        if self.decoder is not None:  # a member began and did not end
            raise Unsupported("a layer's gzip stream ends early")
        self.area.end_layer()


class _Parser:
    """Applies tar members, upper layers first, with the overlay rules of extraction."""

    def __init__(self, key: str, area: SharedArea, on_package: Callable[[str, list[AreaFile]], None]) -> None:
        self.key = key
        self.overlay = _Overlay({key: Path("/memory")})  # nothing is written: only the rules are used
        self.catalog = MemoryCatalog()
        self.on_package = on_package
        self.closed: set[str] = set()
        self.current: str | None = None
        self._files: dict[str, dict[str, AreaFile]] = {}

    def close_current(self) -> None:
        name = self.current
        if name is not None:
            self.closed.add(name)
            self.current = None
            files = sorted(self._files.get(name, {}).values(), key=lambda f: f.rel.split("/"))
            self.catalog.files[name] = files
            self.on_package(name, files)

    def end_layer(self) -> None:
        self.close_current()
        self.overlay.end_layer()

    def take(self, member: tarfile.TarInfo, start: int) -> None:
        path = self.overlay.admit(member.name, member.isdir())
        if path is None:
            return
        key = self.key
        if not (path == key or path.startswith(key + "/")):
            return
        self.overlay.found[key] = True
        rel = path[len(key) + 1 :]
        if not rel:
            if not member.isdir():
                raise Unsupported("the catalog directory is not a directory")
            return
        package, _, inner = rel.partition("/")
        if package != self.current:
            if package in self.closed:
                raise Unsupported(f"the entries of the package directory {package} are not together")
            self.close_current()
            self.current = package
        files = self._files.setdefault(package, {})
        if member.isdir():
            self.catalog.dirs.setdefault(package, []).append(rel)
        elif member.isreg():
            if not inner:
                raise Unsupported(f"{rel} is a file at the top of the catalog")
            if rel.rsplit("/", 1)[-1] == INDEXIGNORE:
                raise Unsupported(f"{rel} is an .indexignore file")
            files[rel] = AreaFile(rel, start + member.offset_data, member.size, bool(member.mode & 0o100))
        else:
            raise Unsupported(f"{rel} is a link or a special file")
