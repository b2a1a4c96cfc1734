"""The catalog as an upgrade graph: packages → channels → bundles (opm's ``alpha/model``).

A bundle that is in several channels has one :class:`Bundle` per channel, as in opm; each carries
its channel's ``replaces``/``skips``/``skipRange`` and the bundle blob's data. Every type has a
``validate()`` returning opm's error (a :class:`catalog.model_error.ValidationError` tree, or for
:class:`Deprecation` its one line) or None;
children are visited in name order, so the text is deterministic.

Made from a :class:`catalog.declcfg.DeclarativeConfig` by :func:`catalog.convert.convert_to_model`,
turned back into blobs by :func:`catalog.convert.convert_from_model`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from catalog.declcfg import PROP_PACKAGE, Icon, Property, RelatedImage
from catalog.errors import CatalogError
from catalog.goquote import go_quote
from catalog.model_error import ValidationError
from catalog.properties import Properties, PropertyParseError, parse_properties
from catalog.semver import PRVersion, SemverError, Version, parse_range

RELEASE_MAX_LENGTH = 20


class HeadError(CatalogError):
    """A channel has no head, or more than one."""


@dataclass(slots=True)
class Deprecation:
    message: str

    def validate(self) -> str | None:
        return "message must be set" if not self.message else None


def _deprecation_error(d: Deprecation | None) -> str | None:
    if d is None:
        return None
    err = d.validate()
    return f"invalid deprecation: {err}" if err else None


def parse_release(text: str) -> tuple[PRVersion, ...]:
    """opm's ``model.NewRelease``: dot-separated prerelease identifiers, at most 20 characters."""
    if not text:
        return ()
    if len(text.encode()) > RELEASE_MAX_LENGTH:
        raise CatalogError(
            f"invalid release {go_quote(text)}: exceeds maximum length of {RELEASE_MAX_LENGTH} characters"
        )
    segments: list[PRVersion] = []
    errors: list[str] = []
    for i, segment in enumerate(text.split(".")):
        try:
            segments.append(PRVersion.parse(segment))
        except SemverError as exc:
            errors.append(f"segment {i}: {exc}")
    if errors:
        raise CatalogError(f"invalid release {go_quote(text)}: " + "\n".join(errors))
    return tuple(segments)


@dataclass(eq=False, slots=True)
class Package:
    name: str
    description: str = ""
    icon: Icon | None = None
    default_channel: Channel | None = None
    channels: dict[str, Channel] = field(default_factory=dict)
    deprecation: Deprecation | None = None

    def bundles(self) -> list[Bundle]:
        """Every channel's bundles, channel by channel in name order (a bundle per channel it is in)."""
        return [b for name in sorted(self.channels) for b in self.channels[name].sorted_bundles()]

    def validate(self) -> ValidationError | None:
        result = ValidationError(f"invalid package {go_quote(self.name)}")
        if not self.name:
            result.add("package name must not be empty")
        if self.default_channel is None:
            result.add("default channel must be set")
        if not self.channels:
            result.add("package must contain at least one channel")
        found_default = False
        for key in sorted(self.channels):
            ch = self.channels[key]
            if key != ch.name:
                result.add(f"channel key {go_quote(key)} does not match channel name {go_quote(ch.name)}")
            result.add(ch.validate())
            if ch is self.default_channel:
                found_default = True
            if ch.package is not self:
                result.add(f"channel {go_quote(ch.name)} not correctly linked to parent package")
        result.add(self._duplicate_versions())
        if self.default_channel is not None and not found_default:
            result.add(f"default channel {go_quote(self.default_channel.name)} not found in channels list")
        result.add(_deprecation_error(self.deprecation))
        return result.or_none()

    def _duplicate_versions(self) -> str | None:
        names_by_version: dict[str, set[str]] = {}
        for ch in self.channels.values():
            for b in ch.bundles.values():
                names_by_version.setdefault(b.version_string(), set()).add(b.name)
        dups = [
            f"{{{v}: [{', '.join(sorted(names))}]}}"
            for v, names in sorted(names_by_version.items())
            if len(names) > 1
        ]
        if dups:
            return f"duplicate versions found in bundles: [{' '.join(dups)}]"
        return None


@dataclass(eq=False, slots=True)
class Channel:
    package: Package | None
    name: str
    bundles: dict[str, Bundle] = field(default_factory=dict)
    deprecation: Deprecation | None = None
    properties: list[Property] = field(default_factory=list)  # internal to opm, kept as given

    def sorted_bundles(self) -> list[Bundle]:
        return [self.bundles[n] for n in sorted(self.bundles)]

    def head(self) -> Bundle:
        """The one bundle that no other bundle replaces or skips; HeadError when not exactly one."""
        incoming: set[str] = set()
        for b in self.bundles.values():
            if b.replaces:
                incoming.add(b.replaces)
            incoming.update(b.skips)
        heads = [b for b in self.bundles.values() if b.name not in incoming]
        if not heads:
            raise HeadError("no channel head found in graph")
        if len(heads) > 1:
            names = ", ".join(sorted(b.name for b in heads))
            raise HeadError(f"multiple channel heads found in graph: {names}")
        return heads[0]

    def replaces_chain(self) -> list[str]:
        """Names on the replaces chain from the head (the tail may name a bundle not in the channel).

        Raises HeadError, or CatalogError with opm's cycle message. Linear in the chain length.
        """
        head = self.head()
        skipped: set[str] = set()
        for b in self.bundles.values():
            skipped.update(b.skips)
        chain = [head.name]
        index = {head.name: 0}
        cur: Bundle | None = head
        while cur is not None:
            target = cur.replaces
            if target in skipped:  # an edge to a skipped bundle is not followed (opm v1.58+)
                break
            if target in index:
                loop = [*chain[index[target] :], target]
                raise CatalogError(f"detected cycle in replaces chain of upgrade graph: {' -> '.join(loop)}")
            index[target] = len(chain)
            chain.append(target)
            cur = self.bundles.get(target)
        return chain

    def _validate_replaces_chain(self) -> str | None:
        try:
            chain = self.replaces_chain()
        except CatalogError as exc:
            return str(exc)
        skipped: set[str] = set()
        for b in self.bundles.values():
            skipped.update(b.skips)
        reached = set(chain)
        stranded = sorted({b.name for b in self.bundles.values()} - reached - skipped)
        if stranded:
            return f"channel contains one or more stranded bundles: {', '.join(stranded)}"
        return None

    def validate(self) -> ValidationError | None:
        result = ValidationError(f"invalid channel {go_quote(self.name)}")
        if not self.name:
            result.add("channel name must not be empty")
        if self.package is None:
            result.add("package must be set")
        if not self.bundles:
            result.add("channel must contain at least one bundle")
        else:
            result.add(self._validate_replaces_chain())
        for key in sorted(self.bundles):
            b = self.bundles[key]
            if key != b.name:
                result.add(f"bundle key {go_quote(key)} does not match bundle name {go_quote(b.name)}")
            result.add(b.validate())
            if b.channel is not self:
                result.add(f"bundle {go_quote(b.name)} not correctly linked to parent channel")
        result.add(_deprecation_error(self.deprecation))
        return result.or_none()


@dataclass(eq=False, slots=True)
class Bundle:
    package: Package | None
    channel: Channel | None
    name: str
    image: str = ""
    replaces: str = ""
    skips: list[str] = field(default_factory=list)
    skip_range: str = ""
    properties: list[Property] = field(default_factory=list)
    related_images: list[RelatedImage] = field(default_factory=list)
    deprecation: Deprecation | None = None
    props: Properties | None = None  # the parsed properties, once read
    version: Version = field(default_factory=Version)  # 0.0.0 until the bundle blob is seen
    release: tuple[PRVersion, ...] = ()

    def parsed_properties(self) -> Properties:
        """The typed properties (read once and kept)."""
        if self.props is None:
            self.props = parse_properties(self.properties)
        return self.props

    @property
    def has_objects(self) -> bool:
        """Whether the bundle carries ``olm.bundle.object`` manifests (opm's ``len(Objects) > 0``)."""
        props = self.props
        if props is None:
            try:
                props = self.parsed_properties()
            except PropertyParseError:
                return False
        return bool(props.bundle_objects)

    def release_string(self) -> str:
        return ".".join(str(p) for p in self.release)

    def version_string(self) -> str:
        """The version, with ``-<release>`` appended when there is a release."""
        if self.release:
            return f"{self.version}-{self.release_string()}"
        return str(self.version)

    def normalized_name(self) -> str:
        """``<package>-v<version>-<release>`` for a bundle with a release, else its own name."""
        if self.release and self.package is not None:
            return f"{self.package.name}-v{self.version_string()}"
        return self.name

    def compare(self, other: Bundle) -> int:
        """Order by version, then release (a release sorts above none); same name compares equal."""
        if self.name == other.name:
            return 0
        c = self.version.compare(other.version)
        if c:
            return c
        if self.release and not other.release:
            return 1
        if other.release and not self.release:
            return -1
        return Version(pre=self.release).compare(Version(pre=other.release))

    def sort_key(self) -> tuple:
        """A key that sorts bundles as :meth:`compare` does (ties broken by nothing)."""
        rel = (1, tuple(p.key for p in self.release)) if self.release else (0, ())
        return (self.version.key, rel)

    def validate(self) -> ValidationError | None:
        result = ValidationError(f"invalid bundle {go_quote(self.name)}")
        if not self.name:
            result.add("name must be set")
        normalized = self.normalized_name()
        if self.name != normalized:
            result.add(f"name {go_quote(self.name)} does not match normalized name {go_quote(normalized)}")
        if self.channel is None:
            result.add("channel must be set")
        if self.package is None:
            result.add("package must be set")
        if self.channel is not None and self.package is not None and self.package is not self.channel.package:
            result.add("package does not match channel's package")
        props: Properties | None = None
        try:
            props = self.parsed_properties()
        except PropertyParseError as exc:
            result.add(str(exc))
        for i, skip in enumerate(self.skips):
            if not skip:
                result.add(f"skip[{i}] is empty")
        if self.skip_range:
            try:
                parse_range(self.skip_range)
            except SemverError as exc:
                result.add(f"invalid skipRange {go_quote(self.skip_range)}: {exc}")
        if props is not None and len(props.packages) != 1:
            result.add(f"must be exactly one property with type {go_quote(PROP_PACKAGE)}")
        if not self.image and not (props is not None and props.bundle_objects):
            result.add("bundle image must be set")
        result.add(_deprecation_error(self.deprecation))
        if self.version.build and self.release:
            result.add("cannot use build metadata in version with a release version")
        return result.or_none()


class Model(dict[str, Package]):
    """Packages by name."""

    def validate(self) -> ValidationError | None:
        result = ValidationError("invalid index")
        for key in sorted(self):
            pkg = self[key]
            if key != pkg.name:
                result.add(f"package key {go_quote(key)} does not match package name {go_quote(pkg.name)}")
            result.add(pkg.validate())
        return result.or_none()

    def add_bundle(self, bundle: Bundle) -> None:
        """Put ``bundle`` in its package and channel, creating them as needed (opm's ``AddBundle``).

        ``bundle.package`` and ``bundle.channel`` name where it goes; they are replaced by this
        model's own objects. A new package gets the bundle's channel as its default channel.
        """
        assert bundle.package is not None and bundle.channel is not None
        pkg = self.get(bundle.package.name)
        if pkg is None:
            pkg = self[bundle.package.name] = bundle.package
        bundle.package = pkg
        ch = pkg.channels.get(bundle.channel.name)
        if ch is None:
            ch = Channel(package=pkg, name=bundle.channel.name)
            pkg.channels[ch.name] = ch
        bundle.channel = ch
        ch.bundles[bundle.name] = bundle
        if pkg.default_channel is None:
            pkg.default_channel = ch
