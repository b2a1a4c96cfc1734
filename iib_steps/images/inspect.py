"""Reading facts about an image: its digest, its architectures, its config and labels, its layers.

These are what IIB asks ``skopeo inspect`` for (spec/iib.md §4.0 step 3), read with our own client
from a registry or an OCI layout. Every function takes an image as a string (``docker://...``,
``host/repo:tag``, ``oci:PATH[:TAG]``) or a parsed location, and an optional shared client.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from iib_steps.errors import StepError
from iib_steps.images.manifests import Descriptor, ImageIndex, ImageManifest, Platform, RawManifest
from iib_steps.images.reference import ImageLocation, parse_image
from iib_steps.images.registry import RegistryClient
from iib_steps.images.stores import Store, open_store

_default_client: RegistryClient | None = None
_default_lock = threading.Lock()


def default_client() -> RegistryClient:
    """One process-wide client configured from the environment (auth file, insecure hosts, retries)."""
    global _default_client
    with _default_lock:
        if _default_client is None:
            _default_client = RegistryClient()
        return _default_client


def as_location(image: str | ImageLocation) -> ImageLocation:
    return parse_image(image) if isinstance(image, str) else image


@dataclass(frozen=True)
class ExistingLayer:
    """A layer already stored somewhere: reused by reference (mounted, linked), never rebuilt."""

    descriptor: Descriptor
    diff_id: str
    source: ImageLocation


@dataclass(frozen=True)
class ArchImage:
    """One architecture's image: its manifest (raw and parsed), its config, where it came from."""

    platform: Platform
    manifest: RawManifest
    parsed: ImageManifest
    config: dict[str, Any]
    config_bytes: bytes

    @property
    def labels(self) -> dict[str, str]:
        return dict((self.config.get("config") or {}).get("Labels") or {})

    @property
    def diff_ids(self) -> list[str]:
        return list((self.config.get("rootfs") or {}).get("diff_ids") or [])


@dataclass(frozen=True)
class ResolvedImage:
    """An image pinned to the digest of what its reference points at.

    ``digest`` is the sha256 of the raw manifest bytes (a list's own digest for a multi-arch image,
    as IIB's ``get_resolved_image`` computes it); ``arch_digests`` maps each architecture to its
    image manifest's digest, for callers that want one architecture pinned.
    """

    location: ImageLocation
    digest: str
    media_type: str
    arch_digests: dict[str, str]

    @property
    def pull_spec(self) -> str:
        """``host/repo@sha256:...`` (or ``oci:PATH@sha256:...``)."""
        pinned = self.location.with_digest(self.digest)
        return str(pinned)

    @property
    def is_list(self) -> bool:
        return self.media_type in (
            "application/vnd.docker.distribution.manifest.list.v2+json",
            "application/vnd.oci.image.index.v1+json",
        )

    @property
    def first_manifest_digest(self) -> str:
        """The first architecture's manifest digest (the image's own digest for a single image)."""
        return next(iter(self.arch_digests.values()), self.digest)


def _platform_entries(index: ImageIndex) -> list[Descriptor]:
    """The list's image entries that run on Linux, skipping attestations (``unknown/unknown``)."""
    out = []
    for desc in index.manifests:
        plat = desc.platform
        if plat is None or (plat.os in ("linux", "") and plat.architecture not in ("", "unknown")):
            out.append(desc)
    return out


class ImageReader:
    """Reads one image (by location) through a store; caches what it fetched."""

    def __init__(self, image: str | ImageLocation, client: RegistryClient | None = None) -> None:
        self.location = as_location(image)
        self.client = client or default_client()
        self.store: Store = open_store(self.location, self.client)
        self._top: RawManifest | None = None

    @property
    def top(self) -> RawManifest:
        if self._top is None:
            self._top = self.store.get_manifest(self.location.reference)
        return self._top

    def platform_manifests(self) -> list[tuple[Platform, Descriptor | None]]:
        """(platform, descriptor) per architecture; a single image gives one entry with ``None``."""
        parsed = self.top.parse()
        if isinstance(parsed, ImageIndex):
            entries = _platform_entries(parsed)
            if not entries:
                raise StepError(f"the image {self.location} lists no Linux image")
            return [(d.platform or Platform(""), d) for d in entries]
        config = self._config_of(parsed)
        return [
            (
                Platform(
                    str(config.get("architecture", "")), str(config.get("os", "linux")), config.get("variant")
                ),
                None,
            )
        ]

    def _config_of(self, manifest: ImageManifest) -> dict[str, Any]:
        data = self.store.read_blob(manifest.config.digest)
        try:
            return json.loads(data)
        except ValueError:
            raise StepError(f"the config of {self.location} is not JSON") from None

    def arch_image(self, desc: Descriptor | None, platform: Platform | None = None) -> ArchImage:
        raw = self.top if desc is None else self.store.get_manifest(desc.digest)
        parsed = raw.parse()
        if not isinstance(parsed, ImageManifest):
            raise StepError(f"the image {self.location} nests an index inside an index; not supported")
        config_bytes = self.store.read_blob(parsed.config.digest)
        try:
            config = json.loads(config_bytes)
        except ValueError:
            raise StepError(f"the config of {self.location} is not JSON") from None
        plat = platform or Platform(
            str(config.get("architecture", "")), str(config.get("os", "linux")), config.get("variant")
        )
        return ArchImage(plat, raw, parsed, config, config_bytes)

    def images_by_arch(self) -> dict[str, tuple[Platform, Descriptor | None]]:
        """Architecture → (platform, descriptor); the first entry wins for a repeated architecture."""
        out: dict[str, tuple[Platform, Descriptor | None]] = {}
        for plat, desc in self.platform_manifests():
            out.setdefault(plat.architecture, (plat, desc))
        return out

    def default_arch_image(self, arch: str | None = None) -> ArchImage:
        """The image of ``arch``; by default linux/amd64 when listed, else the first."""
        by_arch = self.images_by_arch()
        if arch is not None:
            if arch not in by_arch:
                raise StepError(
                    f"the image {self.location} has no {arch} image; it has {', '.join(sorted(by_arch))}"
                )
            plat, desc = by_arch[arch]
        else:
            plat, desc = by_arch.get("amd64") or next(iter(by_arch.values()))
        return self.arch_image(desc, plat if desc is not None else None)


def resolve_image(image: str | ImageLocation, client: RegistryClient | None = None) -> ResolvedImage:
    """Pin ``image`` to its digest and learn the digest of each architecture's manifest."""
    reader = ImageReader(image, client)
    top = reader.top
    arch_digests: dict[str, str] = {}
    for plat, desc in reader.platform_manifests():
        arch_digests.setdefault(plat.architecture, desc.digest if desc is not None else top.digest)
    return ResolvedImage(reader.location, top.digest, top.media_type, arch_digests)


def get_architectures(image: str | ImageLocation, client: RegistryClient | None = None) -> list[str]:
    """The image's architectures, sorted (IIB's ``get_image_arches``)."""
    return sorted(ImageReader(image, client).images_by_arch())


def get_image_config(
    image: str | ImageLocation, arch: str | None = None, client: RegistryClient | None = None
) -> dict[str, Any]:
    """The image config JSON of ``arch`` (default linux/amd64, else the first listed)."""
    return ImageReader(image, client).default_arch_image(arch).config


def get_labels(
    image: str | ImageLocation, arch: str | None = None, client: RegistryClient | None = None
) -> dict[str, str]:
    """The config labels of ``arch`` (default linux/amd64, else the first listed)."""
    return ImageReader(image, client).default_arch_image(arch).labels


def get_layers(
    image: str | ImageLocation, arch: str | None = None, client: RegistryClient | None = None
) -> list[ExistingLayer]:
    """The layers of one architecture's image, bottom first, ready to reuse in a build."""
    reader = ImageReader(image, client)
    img = reader.default_arch_image(arch)
    diff_ids = img.diff_ids
    if len(diff_ids) != len(img.parsed.layers):
        raise StepError(
            f"the image {reader.location} has {len(img.parsed.layers)} layers but {len(diff_ids)} diff_ids"
        )
    return [ExistingLayer(d, i, reader.location) for d, i in zip(img.parsed.layers, diff_ids, strict=True)]


def labels_of(config: Mapping[str, Any]) -> dict[str, str]:
    return dict((config.get("config") or {}).get("Labels") or {})
