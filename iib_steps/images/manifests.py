"""Image manifests and indexes: OCI and Docker schema 2, parsed from and written to raw bytes.

A manifest's digest is always the sha256 of the exact bytes a registry or a layout stores, so every
function here keeps the raw bytes next to the parsed form.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from iib_steps.errors import StepError

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_FOREIGN_LAYER = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"

# Layer types an index image may reuse from its binary image (in either output format).
REUSABLE_LAYERS = frozenset(
    (OCI_LAYER_GZIP, OCI_LAYER_TAR, DOCKER_LAYER_GZIP, DOCKER_FOREIGN_LAYER,
     "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip")
)  # fmt: skip
IMAGE_MANIFESTS = (OCI_MANIFEST, DOCKER_MANIFEST)
INDEXES = (OCI_INDEX, DOCKER_LIST)
ACCEPT_ALL = ", ".join((DOCKER_LIST, OCI_INDEX, DOCKER_MANIFEST, OCI_MANIFEST))

# Output formats of the build and copy operations.
FORMAT_DOCKER = "v2s2"
FORMAT_OCI = "oci"
FORMATS = (FORMAT_DOCKER, FORMAT_OCI)

_TO_DOCKER = {
    OCI_MANIFEST: DOCKER_MANIFEST,
    OCI_INDEX: DOCKER_LIST,
    OCI_CONFIG: DOCKER_CONFIG,
    OCI_LAYER_GZIP: DOCKER_LAYER_GZIP,
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip": DOCKER_FOREIGN_LAYER,
}
_TO_OCI = {docker: oci for oci, docker in _TO_DOCKER.items()}


def sha256_digest(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def media_type_for(kind_media_type: str, fmt: str) -> str:
    """The media type of the same kind of object in output format ``fmt`` (``v2s2`` or ``oci``)."""
    table = _TO_DOCKER if fmt == FORMAT_DOCKER else _TO_OCI
    if kind_media_type in table:
        return table[kind_media_type]
    if fmt == FORMAT_DOCKER and kind_media_type.startswith("application/vnd.oci."):
        raise StepError(f"cannot write a Docker v2s2 image with a {kind_media_type} blob; use the OCI format")
    return kind_media_type


@dataclass(frozen=True)
class Platform:
    """``os/architecture[/variant]`` of one image in an index."""

    architecture: str
    os: str = "linux"
    variant: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"architecture": self.architecture, "os": self.os}
        if self.variant:
            out["variant"] = self.variant
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Platform:
        return cls(str(data.get("architecture", "")), str(data.get("os", "")), data.get("variant") or None)


@dataclass(frozen=True)
class Descriptor:
    """A content descriptor: what a manifest says about a blob or about another manifest."""

    media_type: str
    digest: str
    size: int
    platform: Platform | None = None
    annotations: Mapping[str, str] | None = None
    urls: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.urls:
            out["urls"] = list(self.urls)
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        if self.platform is not None:
            out["platform"] = self.platform.to_json()
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Descriptor:
        try:
            return cls(
                media_type=str(data.get("mediaType", "")),
                digest=str(data["digest"]),
                size=int(data["size"]),
                platform=Platform.from_json(data["platform"]) if data.get("platform") else None,
                annotations=dict(data["annotations"]) if data.get("annotations") else None,
                urls=tuple(data.get("urls") or ()),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise StepError(f"malformed descriptor in manifest: {exc}") from None

    def with_media_type(self, media_type: str) -> Descriptor:
        return Descriptor(media_type, self.digest, self.size, self.platform, self.annotations, self.urls)


@dataclass(frozen=True)
class ImageManifest:
    """One image: a config blob and its layers (OCI image manifest or Docker v2s2 manifest)."""

    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]
    annotations: Mapping[str, str] | None = None

    def to_bytes(self) -> bytes:
        out: dict[str, Any] = {"schemaVersion": 2, "mediaType": self.media_type}
        out["config"] = self.config.to_json()
        out["layers"] = [layer.to_json() for layer in self.layers]
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return _dump(out)


@dataclass(frozen=True)
class ImageIndex:
    """Several images by platform (OCI image index or Docker manifest list)."""

    media_type: str
    manifests: tuple[Descriptor, ...]
    annotations: Mapping[str, str] | None = None

    def to_bytes(self) -> bytes:
        out: dict[str, Any] = {"schemaVersion": 2, "mediaType": self.media_type}
        out["manifests"] = [m.to_json() for m in self.manifests]
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return _dump(out)


@dataclass(frozen=True)
class RawManifest:
    """A manifest as stored: its bytes, media type and digest (sha256 of the bytes)."""

    data: bytes
    media_type: str
    digest: str = field(default="")

    def __post_init__(self) -> None:
        if not self.digest:
            object.__setattr__(self, "digest", sha256_digest(self.data))

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEXES

    def parse(self) -> ImageManifest | ImageIndex:
        """The parsed manifest; one clear error for schema 1 or anything unknown."""
        return parse_manifest(self.data, self.media_type)

    def descriptor(self, platform: Platform | None = None) -> Descriptor:
        return Descriptor(self.media_type, self.digest, len(self.data), platform)


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, indent=3, ensure_ascii=False).encode()


def sniff_media_type(data: bytes, declared: str | None = None) -> str:
    """The media type of manifest bytes: the declared one if useful, else the ``mediaType`` field."""
    if declared and declared not in ("application/json", "application/octet-stream", "text/plain"):
        return declared.split(";")[0].strip()
    try:
        doc = json.loads(data)
    except ValueError:
        raise StepError("the registry returned a manifest that is not JSON") from None
    if isinstance(doc, dict):
        if doc.get("mediaType"):
            return str(doc["mediaType"])
        if doc.get("schemaVersion") == 1:
            return DOCKER_SCHEMA1
        if "manifests" in doc:
            return OCI_INDEX
        if "config" in doc:
            return OCI_MANIFEST
    raise StepError("cannot tell the media type of a manifest")


def parse_manifest(data: bytes, media_type: str) -> ImageManifest | ImageIndex:
    """Parse manifest bytes of ``media_type``."""
    if media_type in (DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED):
        raise StepError("Docker schema 1 manifests are not supported; convert the image to v2s2 first")
    try:
        doc = json.loads(data)
    except ValueError:
        raise StepError(f"malformed {media_type} manifest: not JSON") from None
    if not isinstance(doc, dict):
        raise StepError(f"malformed {media_type} manifest: not a JSON object")
    if media_type in INDEXES:
        return ImageIndex(
            media_type,
            tuple(Descriptor.from_json(m) for m in doc.get("manifests") or ()),
            doc.get("annotations") or None,
        )
    if media_type in IMAGE_MANIFESTS:
        if "config" not in doc:
            raise StepError(f"malformed {media_type} manifest: no config")
        return ImageManifest(
            media_type,
            Descriptor.from_json(doc["config"]),
            tuple(Descriptor.from_json(layer) for layer in doc.get("layers") or ()),
            doc.get("annotations") or None,
        )
    raise StepError(f"unsupported manifest media type {media_type!r}")


def is_gzip_layer(media_type: str) -> bool:
    return media_type in (OCI_LAYER_GZIP, DOCKER_LAYER_GZIP, DOCKER_FOREIGN_LAYER) or media_type.endswith(
        "+gzip"
    )


def is_zstd_layer(media_type: str) -> bool:
    return media_type.endswith("+zstd")
