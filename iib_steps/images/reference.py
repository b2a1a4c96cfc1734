"""Where an image lives: a registry repository (``docker://host/repo:tag``, or plain ``host/repo:tag``)
or an OCI image layout on disk (``oci:PATH[:TAG]`` or ``oci:PATH@sha256:...``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from catalog.imageref import ImageRef, ImageRefError, parse_normalized_named, validate_digest
from iib_steps.errors import StepError

_OCI_TAG_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")


@dataclass(frozen=True)
class RegistryImage:
    """An image in a registry: ``registry/repository[:tag][@digest]`` (docker.io normalised)."""

    ref: ImageRef

    @property
    def registry(self) -> str:
        """The registry host (with port), e.g. ``quay.io`` or ``127.0.0.1:5000``."""
        return self.ref.domain

    @property
    def repository(self) -> str:
        return self.ref.path

    @property
    def tag(self) -> str | None:
        return self.ref.tag

    @property
    def digest(self) -> str | None:
        return self.ref.digest

    @property
    def reference(self) -> str:
        """What to ask the registry for: the digest if pinned, else the tag (``latest`` by default)."""
        return self.ref.digest or self.ref.tag or "latest"

    def with_digest(self, digest: str) -> RegistryImage:
        """The same repository pinned to ``digest`` (the tag dropped): ``host/repo@sha256:...``."""
        return RegistryImage(ImageRef(self.ref.domain, self.ref.path, None, digest))

    def with_tag(self, tag: str) -> RegistryImage:
        return RegistryImage(ImageRef(self.ref.domain, self.ref.path, tag, None))

    def same_repository(self, other: ImageLocation) -> bool:
        return isinstance(other, RegistryImage) and (self.registry, self.repository) == (
            other.registry,
            other.repository,
        )

    def __str__(self) -> str:
        return str(self.ref)

    @property
    def transport_ref(self) -> str:
        """The reference as skopeo writes it: ``docker://...``."""
        return f"docker://{self.ref}"


@dataclass(frozen=True)
class LayoutImage:
    """An image in an OCI image layout directory, named by a tag (``org.opencontainers.image.ref.name``)
    or a digest; with neither, the layout's only image."""

    path: Path
    tag: str | None = None
    digest: str | None = None

    @property
    def reference(self) -> str | None:
        return self.digest or self.tag

    def with_digest(self, digest: str) -> LayoutImage:
        return LayoutImage(self.path, None, digest)

    def with_tag(self, tag: str) -> LayoutImage:
        return LayoutImage(self.path, tag, None)

    def same_repository(self, other: ImageLocation) -> bool:
        return isinstance(other, LayoutImage) and self.path.resolve() == other.path.resolve()

    def __str__(self) -> str:
        if self.digest:
            return f"oci:{self.path}@{self.digest}"
        return f"oci:{self.path}:{self.tag}" if self.tag else f"oci:{self.path}"

    @property
    def transport_ref(self) -> str:
        return str(self)


ImageLocation = RegistryImage | LayoutImage


def parse_image(text: str) -> ImageLocation:
    """Parse ``docker://ref``, a plain registry reference, or ``oci:PATH[:TAG|@DIGEST]``.

    Raises ``StepError`` with one line naming the bad input.
    """
    if not text:
        raise StepError("an image reference is empty")
    if text.startswith("oci:"):
        return _parse_layout(text[4:], text)
    if text.startswith("docker://"):
        text = text[len("docker://") :]
    elif "://" in text:
        raise StepError(f"unsupported image transport in {text!r}: use docker:// or oci:")
    try:
        return RegistryImage(parse_normalized_named(text))
    except ImageRefError as exc:
        raise StepError(f"invalid image reference {text!r}: {exc}") from None


def _parse_layout(rest: str, original: str) -> LayoutImage:
    if not rest:
        raise StepError(f"invalid image reference {original!r}: the OCI layout path is empty")
    if "@" in rest:
        path, _, digest = rest.rpartition("@")
        try:
            validate_digest(digest)
        except ImageRefError as exc:
            raise StepError(f"invalid image reference {original!r}: {exc}") from None
        return LayoutImage(Path(path), None, digest)
    path, sep, tag = rest.rpartition(":")
    if sep and "/" not in tag and path:
        if not _OCI_TAG_RE.fullmatch(tag):
            raise StepError(f"invalid image reference {original!r}: invalid tag {tag!r}")
        return LayoutImage(Path(path), tag)
    return LayoutImage(Path(rest))
