"""Deterministic image layers: a sorted tar with fixed metadata, gzipped with a fixed header.

The same files always give the same bytes, hence the same digest: members are sorted by path, every
timestamp is ``mtime`` (0 by default), owners are root (0:0, no names), modes are 0755 for
directories and executables and 0644 otherwise, and the gzip header carries no name and no time.

Compression uses Intel's ISA-L (``isal``: about 3.5x zlib's speed at zlib's level 1, for smaller
output on catalog JSON; plain deflate that any gzip reader takes) and runs in parallel (it releases
the GIL): the tar stream is cut into fixed-size blocks
at fixed offsets, each block is deflated on its own with the previous 32 KiB as a preset dictionary
and ends with a sync flush, and the pieces are concatenated into one gzip member (what ``pigz``
does). The block size, not the number of threads, fixes the output, so the digest does not depend on
the machine. The uncompressed digest (diff_id), the CRC and the compressed digest are computed in the
same single pass.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tarfile
import tempfile
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from isal import isal_zlib

from iib_steps.errors import StepError

BLOCK_SIZE = 1024 * 1024  # fixed: part of what determines the output bytes
# ISA-L's levels are 0 to 3: 2 packs catalog JSON ~5% smaller than zlib's level 1 (BestSpeed, what
# go-containerregistry and tkn use) at a third of its CPU. IIB_LAYER_GZIP_LEVEL overrides it.
DEFAULT_LEVEL = int(os.environ.get("IIB_LAYER_GZIP_LEVEL", "2"))
_DICT_SIZE = 32 * 1024
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # deflate, no flags, mtime 0, OS unknown
_RECORD = tarfile.RECORDSIZE
OPAQUE_WHITEOUT = ".wh..wh..opq"


@dataclass(frozen=True)
class LayerSpec:
    """What one layer holds: local files or directories placed at paths inside the image.

    ``entries`` maps an absolute in-image path (``/configs``) to a local path; a directory is copied
    with everything under it, restricted to ``include`` (relative names below it) when given.
    ``opaque`` lists in-image directories whose lower-layer content this layer hides (an opaque
    whiteout), so that a reader can stop there.
    """

    entries: tuple[tuple[str, Path], ...]
    include: tuple[str, ...] | None = None
    opaque: tuple[str, ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()  # for the layer's descriptor in the manifest
    owner: tuple[int, int] = (0, 0)  # uid, gid of every member (IIB's cache is 1001:0)

    @classmethod
    def directory(
        cls,
        source: Path,
        dest: str = "/configs",
        include: Iterable[str] | None = None,
        opaque: bool = False,
        annotations: Mapping[str, str] | None = None,
    ) -> LayerSpec:
        """The tree under ``source`` (or only its ``include`` subpaths) at ``dest`` in the image."""
        return cls(
            ((dest, Path(source)),),
            tuple(sorted(include)) if include is not None else None,
            (dest,) if opaque else (),
            tuple(sorted((annotations or {}).items())),
        )


@dataclass(frozen=True)
class LayerBlob:
    """A written layer: the compressed file and its descriptors' numbers."""

    path: Path
    digest: str  # sha256 of the compressed bytes
    diff_id: str  # sha256 of the uncompressed tar
    size: int
    uncompressed_size: int = field(default=0)
    annotations: tuple[tuple[str, str], ...] = ()  # for the layer's descriptor in the manifest


@dataclass(frozen=True)
class _Member:
    name: str  # archive name, no leading slash
    local: Path | None  # None for synthesized directories and whiteouts
    kind: str  # "dir", "file", "symlink", "whiteout"


@dataclass(frozen=True)
class MemoryFile:
    """A regular file whose bytes are in memory (for :func:`memory_tar_stream`)."""

    name: str  # archive name, no leading slash
    data: bytes | memoryview
    executable: bool = False


def _archive_name(image_path: str) -> str:
    posix = PurePosixPath("/" + image_path.lstrip("/"))
    if ".." in posix.parts:
        raise StepError(f"image path {image_path!r} must not contain '..'")
    return str(posix).lstrip("/")


def _collect(spec: LayerSpec) -> list[_Member]:
    members: dict[str, _Member] = {}

    def add_parents(name: str, floor: str) -> None:
        """Directory entries between ``floor`` (excluded) and ``name`` (excluded). Directories above
        a destination are left out, so that the layer never changes e.g. /tmp's mode or owner."""
        parts = name.split("/")
        depth = len(floor.split("/")) if floor else 0
        for i in range(depth + 1, len(parts)):
            parent = "/".join(parts[:i])
            members.setdefault(parent, _Member(parent, None, "dir"))

    for dest, local in spec.entries:
        base = _archive_name(dest)
        if not local.exists():
            raise StepError(f"{local} does not exist")
        if local.is_file():
            members[base] = _Member(base, local, "file")
            continue
        members[base] = _Member(base, local, "dir")
        roots = [local / rel for rel in spec.include] if spec.include is not None else [local]
        for root in roots:
            if not root.exists() and not root.is_symlink():
                raise StepError(f"{root} does not exist")
            rel_root = root.relative_to(local)
            name_root = f"{base}/{rel_root.as_posix()}" if str(rel_root) != "." else base
            add_parents(name_root, base)
            if root.is_symlink() or root.is_file():
                members[name_root] = _Member(name_root, root, "symlink" if root.is_symlink() else "file")
                continue
            members[name_root] = _Member(name_root, root, "dir")
            for dirpath, dirnames, filenames in os.walk(root):
                rel = Path(dirpath).relative_to(root).as_posix()
                prefix = name_root if rel == "." else f"{name_root}/{rel}"
                for d in dirnames:
                    p = Path(dirpath) / d
                    members[f"{prefix}/{d}"] = _Member(
                        f"{prefix}/{d}", p, "symlink" if p.is_symlink() else "dir"
                    )
                for f in filenames:
                    p = Path(dirpath) / f
                    members[f"{prefix}/{f}"] = _Member(
                        f"{prefix}/{f}", p, "symlink" if p.is_symlink() else "file"
                    )
    for opaque in spec.opaque:
        directory = _archive_name(opaque)
        members.setdefault(directory, _Member(directory, None, "dir"))
        members[f"{directory}/{OPAQUE_WHITEOUT}"] = _Member(
            f"{directory}/{OPAQUE_WHITEOUT}", None, "whiteout"
        )
    # Sort by path components so that a directory always precedes its content.
    return [members[k] for k in sorted(members, key=lambda n: n.split("/"))]


def _header(member: _Member, mtime: int, owner: tuple[int, int] = (0, 0)) -> tuple[bytes, int]:
    info = tarfile.TarInfo(member.name)
    info.mtime = mtime
    info.uid, info.gid = owner
    info.uname = info.gname = ""
    size = 0
    if member.kind == "dir":
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
    elif member.kind == "symlink":
        assert member.local is not None
        info.type = tarfile.SYMTYPE
        info.linkname = os.readlink(member.local)
        info.mode = 0o777
    elif member.kind == "whiteout":
        info.type = tarfile.REGTYPE
        info.mode = 0o644
    else:
        assert member.local is not None
        st = member.local.stat()
        info.type = tarfile.REGTYPE
        info.mode = 0o755 if st.st_mode & stat.S_IXUSR else 0o644
        size = st.st_size
    info.size = size
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"), size


def memory_tar_stream(
    directories: Iterable[str], files: Iterable[MemoryFile], mtime: int = 0, owner: tuple[int, int] = (0, 0)
) -> Iterator[bytes | memoryview]:
    """The tar :func:`tar_stream` gives for a tree holding these directories and files (archive
    names; every parent directory of a file is implied), from bytes in memory."""
    entries: dict[str, MemoryFile | None] = dict.fromkeys(directories)
    for file in files:
        parts = file.name.split("/")
        for i in range(1, len(parts)):
            entries.setdefault("/".join(parts[:i]), None)
        entries[file.name] = file
    total = 0
    for name in sorted(entries, key=lambda n: n.split("/")):
        file = entries[name]
        info = tarfile.TarInfo(name)
        info.mtime = mtime
        info.uid, info.gid = owner
        info.uname = info.gname = ""
        if file is None:
            info.type, info.mode, info.size = tarfile.DIRTYPE, 0o755, 0
        else:
            info.type, info.size = tarfile.REGTYPE, len(file.data)
            info.mode = 0o755 if file.executable else 0o644
        header = info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
        yield header
        total += len(header)
        if file is not None and info.size:
            yield file.data
            pad = (-info.size) % tarfile.BLOCKSIZE
            if pad:
                yield b"\0" * pad
            total += info.size + pad
    end = b"\0" * (2 * tarfile.BLOCKSIZE)
    total += len(end)
    yield end + b"\0" * ((-total) % _RECORD)


def tar_stream(spec: LayerSpec, mtime: int = 0, read_size: int = BLOCK_SIZE) -> Iterator[bytes]:
    """The layer's uncompressed tar, as a stream of byte strings."""
    total = 0
    for member in _collect(spec):
        header, size = _header(member, mtime, spec.owner)
        yield header
        total += len(header)
        if size:
            assert member.local is not None
            left = size
            with open(member.local, "rb") as fh:
                while left > 0:
                    chunk = fh.read(min(read_size, left))
                    if not chunk:
                        raise StepError(f"{member.local} shrank while it was being read")
                    left -= len(chunk)
                    yield chunk
            pad = (-size) % tarfile.BLOCKSIZE
            if pad:
                yield b"\0" * pad
            total += size + pad
    end = b"\0" * (2 * tarfile.BLOCKSIZE)
    total += len(end)
    yield end + b"\0" * ((-total) % _RECORD)


def _blocks(chunks: Iterable[bytes | memoryview], size: int) -> Iterator[bytes]:
    """Re-cut a byte stream into blocks of exactly ``size`` bytes (the last may be shorter), copying
    each byte once at most (a chunk that is exactly a block passes through)."""
    pending: list[bytes | memoryview] = []
    have = 0
    for chunk in chunks:
        n = len(chunk)  # a memoryview here is always of bytes (one byte per item)
        start = 0
        while n - start >= size - have:
            take = size - have
            if not pending and start == 0 and take == n:
                yield chunk if type(chunk) is bytes else bytes(chunk)
            else:
                pending.append(memoryview(chunk)[start : start + take])
                yield b"".join(pending)
            pending, have = [], 0
            start += take
        if start < n:
            pending.append(memoryview(chunk)[start:] if start else chunk)
            have += n - start
    if pending:
        yield b"".join(pending)


def _deflate(block: bytes, zdict: bytes | None, level: int, last: bool) -> bytes:
    if zdict:
        comp = isal_zlib.compressobj(level, isal_zlib.DEFLATED, -15, 9, isal_zlib.Z_DEFAULT_STRATEGY, zdict)
    else:
        comp = isal_zlib.compressobj(level, isal_zlib.DEFLATED, -15, 9)
    out = comp.compress(block)
    return out + comp.flush(isal_zlib.Z_FINISH if last else isal_zlib.Z_SYNC_FLUSH)


def gzip_stream(
    chunks: Iterable[bytes | memoryview], out, level: int = DEFAULT_LEVEL, threads: int | None = None
) -> tuple[str, str, int, int]:
    """Gzip ``chunks`` into the binary file ``out``; return (digest, diff_id, size, uncompressed size)."""
    if not 0 <= level <= isal_zlib.ISAL_BEST_COMPRESSION:
        raise StepError(f"layer compression level {level} is out of range: set IIB_LAYER_GZIP_LEVEL to 0..3")
    workers = threads or min(4, os.cpu_count() or 1)
    raw_hash, gz_hash = hashlib.sha256(), hashlib.sha256()
    crc, raw_size, gz_size = 0, 0, 0

    def emit(data: bytes) -> None:
        nonlocal gz_size
        gz_hash.update(data)
        out.write(data)
        gz_size += len(data)

    emit(_GZIP_HEADER)
    pending: deque[Future[bytes]] = deque()
    previous_tail = b""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        blocks = _blocks(chunks, BLOCK_SIZE)
        block = next(blocks, None)
        while block is not None:
            following = next(blocks, None)
            raw_hash.update(block)
            crc = isal_zlib.crc32(block, crc)
            raw_size += len(block)
            pending.append(pool.submit(_deflate, block, previous_tail, level, following is None))
            previous_tail = block[-_DICT_SIZE:]
            while len(pending) > 2 * workers:
                emit(pending.popleft().result())
            block = following
        if raw_size == 0:
            pending.append(pool.submit(_deflate, b"", b"", level, True))
        while pending:
            emit(pending.popleft().result())
    emit(crc.to_bytes(4, "little") + (raw_size & 0xFFFFFFFF).to_bytes(4, "little"))
    return "sha256:" + gz_hash.hexdigest(), "sha256:" + raw_hash.hexdigest(), gz_size, raw_size


def write_layer(
    spec: LayerSpec, work_dir: Path, level: int = DEFAULT_LEVEL, mtime: int = 0, threads: int | None = None
) -> LayerBlob:
    """Write ``spec`` as a gzipped tar into ``work_dir``; the file is named by its digest."""
    return _write_tar(tar_stream(spec, mtime), work_dir, level, threads, spec.annotations)


def write_memory_layer(
    directories: Iterable[str],
    files: Iterable[MemoryFile],
    work_dir: Path,
    level: int = DEFAULT_LEVEL,
    threads: int | None = None,
) -> LayerBlob:
    """The layer :func:`write_layer` writes for a tree holding these directories and files (archive
    names), from bytes in memory."""
    return _write_tar(memory_tar_stream(directories, files), work_dir, level, threads, ())


def _write_tar(
    chunks: Iterable[bytes | memoryview],
    work_dir: Path,
    level: int,
    threads: int | None,
    annotations: tuple[tuple[str, str], ...],
) -> LayerBlob:
    work_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=work_dir, prefix=".layer-", suffix=".tar.gz")
    try:
        with os.fdopen(fd, "wb") as out:
            digest, diff_id, size, raw_size = gzip_stream(chunks, out, level, threads)
        final = work_dir / f"{digest.split(':', 1)[1]}.tar.gz"
        os.replace(tmp, final)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return LayerBlob(final, digest, diff_id, size, raw_size, annotations)


def write_layers(
    specs: Sequence[LayerSpec], work_dir: Path, level: int = DEFAULT_LEVEL, mtime: int = 0
) -> list[LayerBlob]:
    """Write several layers one after another (each already uses every core)."""
    return [write_layer(spec, work_dir, level, mtime) for spec in specs]
