"""OCI image layouts on disk (image-spec ``image-layout.md``): ``oci-layout``, ``index.json``, ``blobs/``.

Tags are ``org.opencontainers.image.ref.name`` annotations of ``index.json`` entries, as skopeo's
``oci:`` transport reads and writes them. Writes are atomic (temporary file, then rename) and
``index.json`` updates hold a file lock, so several writers may share one layout.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, BinaryIO

from iib_steps.errors import StepError
from iib_steps.images.manifests import OCI_INDEX, Descriptor, RawManifest, sniff_media_type

REF_NAME = "org.opencontainers.image.ref.name"
_ENSURE_LOCK = threading.Lock()
_LAYOUT_FILE = '{"imageLayoutVersion": "1.0.0"}'


class OciLayout:
    """One OCI image layout directory."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    # -- structure --------------------------------------------------------------------------------

    def exists(self) -> bool:
        return (self.path / "oci-layout").is_file() and (self.path / "index.json").is_file()

    def ensure(self) -> None:
        """Create an empty layout here unless one exists; refuse a non-empty directory that is not one."""
        if self.exists():
            return
        with _ENSURE_LOCK:
            if not self.exists():
                self._create()

    def _create(self) -> None:
        if self.path.exists() and (not self.path.is_dir() or any(self.path.iterdir())):
            raise StepError(f"{self.path} exists and is not an OCI image layout")
        (self.path / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        _atomic_write(self.path / "oci-layout", _LAYOUT_FILE.encode())
        if not (self.path / "index.json").exists():
            _atomic_write(self.path / "index.json", _dump_index([]))

    def _require(self) -> None:
        if not self.exists():
            raise StepError(f"{self.path} is not an OCI image layout (no oci-layout or index.json)")

    def blob_path(self, digest: str) -> Path:
        algorithm, _, encoded = digest.partition(":")
        if not encoded or "/" in encoded or "/" in algorithm:
            raise StepError(f"invalid digest {digest!r}")
        return self.path / "blobs" / algorithm / encoded

    def index_entries(self) -> list[Descriptor]:
        self._require()
        try:
            doc = json.loads((self.path / "index.json").read_bytes())
        except ValueError:
            raise StepError(f"{self.path}/index.json is not valid JSON") from None
        return [Descriptor.from_json(m) for m in doc.get("manifests") or ()]

    # -- manifests --------------------------------------------------------------------------------

    def resolve(self, reference: str | None) -> Descriptor:
        """The ``index.json`` entry for a tag, a digest, or (``None``) the layout's only image."""
        entries = self.index_entries()
        if reference is None:
            if len(entries) != 1:
                names = sorted((e.annotations or {}).get(REF_NAME, e.digest) for e in entries)
                raise StepError(
                    f"{self.path} holds {len(entries)} images ({', '.join(names)}); name one with :TAG"
                )
            return entries[0]
        if reference.startswith("sha256:"):
            for entry in entries:
                if entry.digest == reference:
                    return entry
            path = self.blob_path(reference)
            if path.is_file():
                return Descriptor("", reference, path.stat().st_size)
            raise StepError(f"no image {reference} in the OCI layout {self.path}")
        for entry in entries:
            if (entry.annotations or {}).get(REF_NAME) == reference:
                return entry
        raise StepError(f"no image tagged {reference!r} in the OCI layout {self.path}")

    def get_manifest(self, reference: str | None) -> RawManifest:
        desc = self.resolve(reference)
        data = self.read_blob(desc.digest)
        return RawManifest(data, sniff_media_type(data, desc.media_type or None), desc.digest)

    def put_manifest(self, manifest: RawManifest, tag: str | None = None) -> None:
        """Store the manifest blob; with ``tag``, point that tag at it (replacing the old entry)."""
        self.put_blob_bytes(manifest.digest, manifest.data)
        if tag is not None:
            self.set_tag(tag, manifest.descriptor())

    def set_tag(self, tag: str, descriptor: Descriptor) -> None:
        self.ensure()
        with self._index_lock():
            entries = [e for e in self.index_entries() if (e.annotations or {}).get(REF_NAME) != tag]
            annotations = dict(descriptor.annotations or {})
            annotations[REF_NAME] = tag
            entries.append(
                Descriptor(
                    descriptor.media_type,
                    descriptor.digest,
                    descriptor.size,
                    descriptor.platform,
                    annotations,
                )
            )
            _atomic_write(self.path / "index.json", _dump_index(entries))

    @contextmanager
    def _index_lock(self) -> Iterator[None]:
        with open(self.path / ".index.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    # -- blobs ------------------------------------------------------------------------------------

    def has_blob(self, digest: str) -> bool:
        return self.blob_path(digest).is_file()

    def read_blob(self, digest: str) -> bytes:
        try:
            data = self.blob_path(digest).read_bytes()
        except FileNotFoundError:
            raise StepError(f"the blob {digest} is missing from the OCI layout {self.path}") from None
        if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
            raise StepError(f"the blob {digest} in the OCI layout {self.path} does not match its digest")
        return data

    def open_blob(self, digest: str) -> IO[bytes]:
        try:
            return open(self.blob_path(digest), "rb")
        except FileNotFoundError:
            raise StepError(f"the blob {digest} is missing from the OCI layout {self.path}") from None

    def download_blob(self, digest: str, out: BinaryIO) -> int:
        with self.open_blob(digest) as src:
            shutil.copyfileobj(src, out, 1024 * 1024)
        return out.tell()

    def put_blob_bytes(self, digest: str, data: bytes) -> None:
        self.ensure()
        target = self.blob_path(digest)
        if not target.exists():
            _atomic_write(target, data)

    def put_blob_file(self, digest: str, source: Path) -> None:
        """Add a blob from a local file (hard-linked when on the same file system, else copied)."""
        self.ensure()
        target = self.blob_path(digest)
        if target.exists():
            return
        with _replacing(target) as tmp:
            os.unlink(tmp)  # a unique free name, for the link or the copy
            try:
                os.link(source, tmp)
            except OSError:
                shutil.copyfile(source, tmp)

    def put_blob_stream(self, digest: str, writer_fill: Callable[[BinaryIO], object]) -> None:
        """Add a blob by letting ``writer_fill(fh)`` write its bytes; the digest is checked."""
        self.ensure()
        target = self.blob_path(digest)
        if target.exists():
            return
        with _replacing(target) as tmp, open(tmp, "w+b") as fh:
            writer_fill(fh)
            fh.flush()
            fh.seek(0)
            hasher = hashlib.sha256()
            while chunk := fh.read(1024 * 1024):
                hasher.update(chunk)
            if "sha256:" + hasher.hexdigest() != digest:
                raise StepError(f"the blob {digest} arrived corrupted")


def _dump_index(entries: list[Descriptor]) -> bytes:
    doc = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [e.to_json() for e in entries]}
    return json.dumps(doc).encode()


@contextmanager
def _replacing(target: Path) -> Iterator[str]:
    """A new temporary file beside ``target`` that replaces it (mode 0644) if the block succeeds.

    The temporary file is removed whatever happens, so a failed write leaves nothing behind.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _atomic_write(path: Path, data: bytes) -> None:
    with _replacing(path) as tmp:
        Path(tmp).write_bytes(data)
