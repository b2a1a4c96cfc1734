"""Container image references, parsed the way docker/distribution's ``reference`` package does.

opm (v1.64+) checks every bundle ``image`` and ``relatedImages[].image`` with
``reference.ParseNormalizedNamed`` (github.com/distribution/reference v0.6.0); this module gives the
same answers and the same error texts, so that the catalog validator can quote them verbatim.

    >>> ref = parse_normalized_named("ubuntu:22.04")
    >>> str(ref), ref.domain, ref.path, ref.tag
    ('docker.io/library/ubuntu:22.04', 'docker.io', 'library/ubuntu', '22.04')

The grammar (distribution's, restated)::

    reference  := name [ ":" tag ] [ "@" digest ]
    name       := [domain "/"] path-component ("/" path-component)*
    domain     := (dns-name | "[" ipv6 "]") [":" port]
    path-component := [a-z0-9]+ (separator [a-z0-9]+)*      separator := "." | "_" | "__" | "-"+
    tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
    digest     := algorithm ":" hex{32,}

Nothing here touches the network, and the module imports nothing outside ``catalog``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from catalog.errors import CatalogError

DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
OFFICIAL_REPO_PREFIX = "library/"
DEFAULT_TAG = "latest"
NAME_TOTAL_LENGTH_MAX = 255

# distribution/reference's error texts.
ERR_REFERENCE_INVALID_FORMAT = "invalid reference format"
ERR_TAG_INVALID_FORMAT = "invalid tag format"
ERR_DIGEST_INVALID_FORMAT = "invalid digest format"
ERR_NAME_CONTAINS_UPPERCASE = "repository name must be lowercase"
ERR_NAME_EMPTY = "repository name must have at least one component"
ERR_NAME_TOO_LONG = f"repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters"
# opencontainers/go-digest's error texts.
ERR_CHECKSUM_INVALID_FORMAT = "invalid checksum digest format"
ERR_CHECKSUM_INVALID_LENGTH = "invalid checksum digest length"
ERR_DIGEST_UNSUPPORTED = "unsupported digest algorithm"


class ImageRefError(CatalogError, ValueError):
    """A string is not a valid image reference; the message is distribution's own text."""


# Regular expressions equivalent to distribution's regexp.go (ASCII only, like Go's \w).
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_DOMAIN_AND_PORT = rf"(?:{_DOMAIN_NAME}|{_IPV6})(?::[0-9]+)?"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_REMOTE_NAME = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_NAME = rf"(?:{_DOMAIN_AND_PORT}/)?{_REMOTE_NAME}"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}"

_REFERENCE_RE = re.compile(rf"({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?", re.ASCII)
_NAME_PARTS_RE = re.compile(rf"(?:({_DOMAIN_AND_PORT})/)?({_REMOTE_NAME})", re.ASCII)
_TAG_RE = re.compile(_TAG, re.ASCII)
_DIGEST_RE = re.compile(_DIGEST, re.ASCII)
_IDENTIFIER_RE = re.compile(r"[a-f0-9]{64}")

# Digest algorithms a Go binary such as opm has linked in, with the length of their hex encoding.
_ALGORITHM_HEX_LENGTH = {"sha256": 64, "sha384": 96, "sha512": 128}
_LOWER_HEX_RE = re.compile(r"[a-f0-9]+")


@dataclass(frozen=True)
class ImageRef:
    """A named image reference: ``domain/path[:tag][@digest]``.

    ``domain`` is empty only for references parsed without normalisation (``parse_reference`` of a
    name without a domain part); ``parse_normalized_named`` always fills it.
    """

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """``domain/path`` (just ``path`` when there is no domain)."""
        return f"{self.domain}/{self.path}" if self.domain else self.path

    @property
    def repository(self) -> str:
        """The repository path inside its registry (same as ``path``)."""
        return self.path

    def __str__(self) -> str:
        text = self.name
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text

    @property
    def familiar_name(self) -> str:
        """The short name Docker prints: ``ubuntu`` for ``docker.io/library/ubuntu``."""
        domain, path = self.domain, self.path
        if domain == DEFAULT_DOMAIN:
            domain = ""
            if path.startswith(OFFICIAL_REPO_PREFIX):
                rest = path[len(OFFICIAL_REPO_PREFIX) :]
                if "/" not in rest:
                    path = rest
        return f"{domain}/{path}" if domain else path

    @property
    def familiar_string(self) -> str:
        """The familiar name with tag and digest, as ``reference.FamiliarString``."""
        text = self.familiar_name
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text

    def with_tag(self, tag: str) -> ImageRef:
        """The same repository (and digest, if any) with ``tag``; checks the tag grammar."""
        if not _TAG_RE.fullmatch(tag):
            raise ImageRefError(ERR_TAG_INVALID_FORMAT)
        return ImageRef(self.domain, self.path, tag, self.digest)

    def with_digest(self, digest: str) -> ImageRef:
        """The same repository and tag pinned to ``digest``; checks the digest grammar."""
        if not _DIGEST_RE.fullmatch(digest):
            raise ImageRefError(ERR_DIGEST_INVALID_FORMAT)
        return ImageRef(self.domain, self.path, self.tag, digest)

    def name_only(self) -> ImageRef:
        """The repository alone, without tag or digest."""
        return ImageRef(self.domain, self.path)

    def tag_name_only(self) -> ImageRef:
        """``reference.TagNameOnly``: add the ``latest`` tag when there is neither tag nor digest."""
        if self.tag is None and self.digest is None:
            return ImageRef(self.domain, self.path, DEFAULT_TAG)
        return self

    def docker_ref(self) -> ImageRef:
        """``reference.ParseDockerRef``'s result: a digest wins over a tag; no tag means ``latest``."""
        if self.digest is not None:
            return ImageRef(self.domain, self.path, None, self.digest)
        return self.tag_name_only()


def pull_spec_digest(pull_spec: str) -> str:
    """The digest of a pull spec pinned by digest (the text after ``@``), else ""."""
    return pull_spec.split("@", 1)[1] if "@" in pull_spec else ""


def validate_digest(digest: str) -> None:
    """Check a digest as go-digest's ``Digest.Validate`` does; raise ``ImageRefError`` if bad."""
    algorithm, sep, encoded = digest.partition(":")
    if not sep or not encoded:
        raise ImageRefError(ERR_CHECKSUM_INVALID_FORMAT)
    length = _ALGORITHM_HEX_LENGTH.get(algorithm)
    if length is None:
        if not _DIGEST_RE.fullmatch(digest):
            raise ImageRefError(ERR_CHECKSUM_INVALID_FORMAT)
        raise ImageRefError(ERR_DIGEST_UNSUPPORTED)
    if len(encoded) != length:
        raise ImageRefError(ERR_CHECKSUM_INVALID_LENGTH)
    if not _LOWER_HEX_RE.fullmatch(encoded):
        raise ImageRefError(ERR_CHECKSUM_INVALID_FORMAT)


def parse_reference(text: str) -> ImageRef:
    """``reference.Parse`` for named references: no docker.io normalisation.

    A digest-only reference (``sha256:...`` with no name) cannot be expressed here and fails with
    ``invalid reference format`` as a name would.
    """
    match = _REFERENCE_RE.fullmatch(text)
    if match is None:
        if text == "":
            raise ImageRefError(ERR_NAME_EMPTY)
        if _REFERENCE_RE.fullmatch(text.lower()) is not None:
            raise ImageRefError(ERR_NAME_CONTAINS_UPPERCASE)
        raise ImageRefError(ERR_REFERENCE_INVALID_FORMAT)
    name, tag, digest = match.group(1), match.group(2), match.group(3)
    parts = _NAME_PARTS_RE.fullmatch(name)
    assert parts is not None  # the name already matched the same grammar
    domain, path = parts.group(1) or "", parts.group(2)
    if len(path) > NAME_TOTAL_LENGTH_MAX:
        raise ImageRefError(ERR_NAME_TOO_LONG)
    if digest is not None:
        validate_digest(digest)
    return ImageRef(domain, path, tag, digest)


def _split_docker_domain(text: str) -> tuple[str, str]:
    """Split ``text`` into registry domain and the rest, filling in Docker Hub's defaults."""
    first, sep, rest = text.partition("/")
    if not sep:
        return DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX + text
    if first == LEGACY_DEFAULT_DOMAIN:
        domain, remote = DEFAULT_DOMAIN, rest
    elif first == "localhost" or "." in first or ":" in first or first.lower() != first:
        domain, remote = first, rest
    else:
        domain, remote = DEFAULT_DOMAIN, text
    if domain == DEFAULT_DOMAIN and "/" not in remote:
        remote = OFFICIAL_REPO_PREFIX + remote
    return domain, remote


def parse_normalized_named(text: str) -> ImageRef:
    """``reference.ParseNormalizedNamed``: parse ``text`` into a fully qualified reference.

    ``ubuntu`` becomes ``docker.io/library/ubuntu``, ``index.docker.io/x/y`` becomes
    ``docker.io/x/y``; the tag stays absent when not given (see ``ImageRef.tag_name_only``).
    Raises ``ImageRefError`` with distribution's message, e.g. ``invalid reference format`` or
    ``invalid reference format: repository name (Foo/bar) must be lowercase``.
    """
    if _IDENTIFIER_RE.fullmatch(text):
        raise ImageRefError(f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings")
    domain, remainder = _split_docker_domain(text)
    remote = remainder.split(":", 1)[0]
    if remote.lower() != remote:
        raise ImageRefError(f"invalid reference format: repository name ({remote}) must be lowercase")
    return parse_reference(f"{domain}/{remainder}")
