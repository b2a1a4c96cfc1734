"""One interface over the two places images live: a registry repository and an OCI layout.

Image operations (build, copy, extract, inspect) are written once against ``Store``;
``transfer_blob`` moves a blob between stores the cheapest way available: nothing if it is already
there, a cross-repository mount within one registry, a hard link within one file system, and a
streamed copy only when the two are on different systems.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, BinaryIO

from iib_steps.images.manifests import Descriptor, RawManifest
from iib_steps.images.oci_layout import OciLayout
from iib_steps.images.reference import ImageLocation, LayoutImage, RegistryImage
from iib_steps.images.registry import RegistryClient, file_opener


class Store:
    """A repository of manifests and blobs."""

    name: str

    def get_manifest(self, reference: str | None) -> RawManifest:
        raise NotImplementedError

    def put_manifest(self, manifest: RawManifest, tag: str | None = None) -> None:
        """Store ``manifest`` by digest, and under ``tag`` when given."""
        raise NotImplementedError

    def has_blob(self, digest: str) -> bool:
        raise NotImplementedError

    def read_blob(self, digest: str) -> bytes:
        raise NotImplementedError

    def download_blob(self, digest: str, out: BinaryIO) -> int:
        raise NotImplementedError

    def put_blob_bytes(self, digest: str, data: bytes) -> None:
        raise NotImplementedError

    def put_blob_file(self, digest: str, size: int, path: Path) -> None:
        raise NotImplementedError


class RegistryStore(Store):
    """A repository in a registry."""

    def __init__(self, client: RegistryClient, host: str, repository: str) -> None:
        self.client, self.host, self.repository = client, host, repository
        self.name = f"{host}/{repository}"

    def get_manifest(self, reference: str | None) -> RawManifest:
        return self.client.get_manifest(self.host, self.repository, reference or "latest")

    def put_manifest(self, manifest: RawManifest, tag: str | None = None) -> None:
        self.client.put_manifest(self.host, self.repository, tag or manifest.digest, manifest)

    def has_blob(self, digest: str) -> bool:
        return self.client.blob_exists(self.host, self.repository, digest)

    def read_blob(self, digest: str) -> bytes:
        return self.client.get_blob_bytes(self.host, self.repository, digest)

    def download_blob(self, digest: str, out: BinaryIO) -> int:
        return self.client.download_blob(self.host, self.repository, digest, out)

    def put_blob_bytes(self, digest: str, data: bytes) -> None:
        import io

        self.client.upload_blob(self.host, self.repository, digest, len(data), lambda: io.BytesIO(data))

    def put_blob_file(self, digest: str, size: int, path: Path) -> None:
        self.client.upload_blob(self.host, self.repository, digest, size, file_opener(path))

    def put_blob_opener(self, digest: str, size: int, opener: Callable[[], IO[bytes]]) -> None:
        self.client.upload_blob(self.host, self.repository, digest, size, opener)


class LayoutStore(Store):
    """An OCI image layout directory."""

    def __init__(self, path: Path) -> None:
        self.layout = OciLayout(path)
        self.name = f"oci:{path}"

    def get_manifest(self, reference: str | None) -> RawManifest:
        return self.layout.get_manifest(reference)

    def put_manifest(self, manifest: RawManifest, tag: str | None = None) -> None:
        self.layout.put_manifest(manifest, tag)

    def has_blob(self, digest: str) -> bool:
        return self.layout.has_blob(digest)

    def read_blob(self, digest: str) -> bytes:
        return self.layout.read_blob(digest)

    def download_blob(self, digest: str, out: BinaryIO) -> int:
        return self.layout.download_blob(digest, out)

    def put_blob_bytes(self, digest: str, data: bytes) -> None:
        self.layout.put_blob_bytes(digest, data)

    def put_blob_file(self, digest: str, size: int, path: Path) -> None:
        self.layout.put_blob_file(digest, path)


def open_store(location: ImageLocation, client: RegistryClient) -> Store:
    """The store holding ``location``'s repository."""
    if isinstance(location, LayoutImage):
        return LayoutStore(location.path)
    assert isinstance(location, RegistryImage)
    return RegistryStore(client, location.registry, location.repository)


def transfer_blob(src: Store, dst: Store, desc: Descriptor, *, check_first: bool = True) -> str:
    """Make ``desc``'s blob present in ``dst``; say how: ``present``, ``mounted``, ``linked``, ``copied``."""
    if check_first and dst.has_blob(desc.digest):
        return "present"
    same_registry = isinstance(src, RegistryStore) and isinstance(dst, RegistryStore) and src.host == dst.host
    if same_registry and dst.client.mount_blob(dst.host, dst.repository, desc.digest, src.repository):  # type: ignore[union-attr]
        return "mounted"
    if isinstance(src, LayoutStore) and isinstance(dst, LayoutStore):
        dst.layout.put_blob_file(desc.digest, src.layout.blob_path(desc.digest))
        return "linked"
    if isinstance(src, LayoutStore):
        dst.put_blob_file(desc.digest, desc.size, src.layout.blob_path(desc.digest))
        return "copied"
    if isinstance(dst, LayoutStore):
        dst.layout.put_blob_stream(desc.digest, lambda fh: src.download_blob(desc.digest, fh))
        return "copied"
    with tempfile.TemporaryFile() as tmp:
        size = src.download_blob(desc.digest, tmp)
        tmp.flush()
        assert isinstance(dst, RegistryStore)

        def reopen() -> IO[bytes]:
            tmp.seek(0)
            return _NoClose(tmp)

        dst.put_blob_opener(desc.digest, size, reopen)
    return "copied"


class _NoClose:
    """A file wrapper whose ``close`` (and context exit) leaves the file open for a retry."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh

    def read(self, n: int = -1) -> bytes:
        return self._fh.read(n)

    def __enter__(self) -> _NoClose:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def close(self) -> None:
        return None
