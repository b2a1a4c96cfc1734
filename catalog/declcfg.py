"""The File-Based Catalog blobs as typed values (opm's ``alpha/declcfg/declcfg.go``).

Only types live here: loading is in :mod:`catalog.load`, writing in :mod:`catalog.write`.
Field order of each class is the order opm writes the JSON keys in.

Property values and ``Meta`` blobs hold *parsed JSON* (dicts, lists, str, int, float, bool, None).
Their canonical bytes are the compact JSON with sorted keys that opm's ``Meta`` re-encoding gives;
:func:`catalog.jsonutil.compact` produces them. ``olm.bundle.object`` payloads stay base64 text until
something needs the manifest they carry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SCHEMA_PACKAGE = "olm.package"
SCHEMA_CHANNEL = "olm.channel"
SCHEMA_BUNDLE = "olm.bundle"
SCHEMA_DEPRECATIONS = "olm.deprecations"

# Property types (alpha/property/property.go)
PROP_PACKAGE = "olm.package"
PROP_PACKAGE_REQUIRED = "olm.package.required"
PROP_GVK = "olm.gvk"
PROP_GVK_REQUIRED = "olm.gvk.required"
PROP_BUNDLE_OBJECT = "olm.bundle.object"
PROP_CSV_METADATA = "olm.csv.metadata"
PROP_CHANNEL = "olm.channel"
PROP_DEPRECATED = "olm.deprecated"


@dataclass(slots=True)
class Icon:
    base64data: str  # base64 text as it appears in the catalog (Go []byte)
    mediatype: str


@dataclass(slots=True)
class Package:
    name: str
    default_channel: str = ""
    icon: Icon | None = None
    description: str = ""
    properties: list[Property] = field(default_factory=list)
    schema: str = SCHEMA_PACKAGE


@dataclass(slots=True)
class ChannelEntry:
    name: str
    replaces: str = ""
    skips: list[str] = field(default_factory=list)
    skip_range: str = ""


@dataclass(slots=True)
class Channel:
    name: str
    package: str
    entries: list[ChannelEntry] | None = None  # None is written as "entries": null
    properties: list[Property] = field(default_factory=list)
    schema: str = SCHEMA_CHANNEL


@dataclass(slots=True)
class Property:
    type: str
    value: Any  # parsed JSON; canonical bytes = catalog.jsonutil.compact(value)


@dataclass(slots=True)
class RelatedImage:
    name: str
    image: str


@dataclass(slots=True)
class Bundle:
    name: str
    package: str
    image: str = ""
    properties: list[Property] = field(default_factory=list)
    related_images: list[RelatedImage] = field(default_factory=list)
    schema: str = SCHEMA_BUNDLE


@dataclass(slots=True)
class PackageScopedReference:
    schema: str
    name: str = ""


@dataclass(slots=True)
class DeprecationEntry:
    reference: PackageScopedReference
    message: str


@dataclass(slots=True)
class Deprecation:
    package: str
    entries: list[DeprecationEntry] = field(default_factory=list)
    schema: str = SCHEMA_DEPRECATIONS
    entries_null: bool = False  # "entries" was null or absent: opm writes an empty list back as null


@dataclass(slots=True)
class Meta:
    """Any blob, as opm's ``declcfg.Meta``: used for schemas other than the four above."""

    schema: str
    package: str
    name: str
    blob: dict[str, Any]  # the whole parsed object, written back verbatim (keys sorted)


@dataclass(slots=True)
class RetainedBundle:
    """A bundle opm's legacy index still holds although no channel lists it any more (a head that a
    replaces-mode add displaced), with its own graph fields: a later bundle that replaces or skips it
    links it back. Never written: opm's migrate shows only bundles on a channel."""

    bundle: Bundle
    replaces: str = ""
    skips: list[str] = field(default_factory=list)
    skip_range: str = ""


@dataclass(slots=True)
class DeclarativeConfig:
    packages: list[Package] = field(default_factory=list)
    channels: list[Channel] = field(default_factory=list)
    bundles: list[Bundle] = field(default_factory=list)
    deprecations: list[Deprecation] = field(default_factory=list)
    others: list[Meta] = field(default_factory=list)
    retained: list[RetainedBundle] = field(default_factory=list, compare=False, repr=False)

    def extend(self, other: DeclarativeConfig) -> None:
        """Append every blob of ``other`` to this config (and the bundles it retains)."""
        self.packages.extend(other.packages)
        self.channels.extend(other.channels)
        self.bundles.extend(other.bundles)
        self.deprecations.extend(other.deprecations)
        self.others.extend(other.others)
        self.retained.extend(other.retained)

    def package_names(self) -> set[str]:
        """Every package any blob belongs to."""
        names = {p.name for p in self.packages}
        names.update(c.package for c in self.channels)
        names.update(b.package for b in self.bundles)
        names.update(d.package for d in self.deprecations)
        names.update(o.package for o in self.others if o.package)
        return names
