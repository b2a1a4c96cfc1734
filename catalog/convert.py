"""Blobs ⇄ model: opm's ``declcfg.ConvertToModel`` and ``ConvertFromModel``.

:func:`convert_to_model` checks the blobs in opm's order and raises the first problem as a
:class:`ConvertError` with opm's text; then it validates the model and raises its tree
(:class:`catalog.model_error.ValidationError`). Where opm walks a Go map, we walk names in sorted
order, so the same catalog always gives the same message.
"""

from __future__ import annotations

import re

from catalog.declcfg import (
    PROP_PACKAGE,
    SCHEMA_BUNDLE,
    SCHEMA_CHANNEL,
    SCHEMA_PACKAGE,
    ChannelEntry,
    DeclarativeConfig,
    Icon,
    PackageScopedReference,
    Property,
    RelatedImage,
)
from catalog.declcfg import Bundle as BundleBlob
from catalog.declcfg import Channel as ChannelBlob
from catalog.declcfg import Package as PackageBlob
from catalog.dns1123 import label_errors
from catalog.errors import CatalogError
from catalog.goquote import go_list, go_quote
from catalog.imageref import ImageRefError, parse_normalized_named
from catalog.jsonutil import compact
from catalog.model import Bundle, Channel, Deprecation, Model, Package, parse_release
from catalog.properties import PropertyParseError, parse_properties
from catalog.semver import SemverError
from catalog.semver import parse as parse_version


class ConvertError(CatalogError):
    """A catalog whose blobs cannot form a model; the message is opm's ConvertToModel text."""


def _reference_text(ref: PackageScopedReference) -> str:
    """Go's ``%#v`` of a ``declcfg.PackageScopedReference``."""
    return f"declcfg.PackageScopedReference{{Schema:{go_quote(ref.schema)}, Name:{go_quote(ref.name)}}}"


_DOMAIN_PART = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_PATH_PART = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
PLAIN_PULL_SPEC = re.compile(
    rf"{_DOMAIN_PART}(?:\.{_DOMAIN_PART})+(?::[0-9]+)?(?:/{_PATH_PART})+"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?"
)
"""Pull specs of the everyday shape (``registry.host/org/repo[:tag][@sha256:...]``, lowercase), which
``reference.ParseNormalizedNamed`` always accepts; anything else gets the full parse."""


class _PullSpecs:
    """Checks image pull specs once each (the same related image recurs across many bundles)."""

    def __init__(self) -> None:
        self._valid: set[str] = set()

    def check(self, spec: str, where: str) -> None:
        if not spec or spec in self._valid:
            return
        # (a margin under the 255-character name limit: normalizing may add "library/")
        if len(spec) <= 240 and PLAIN_PULL_SPEC.fullmatch(spec):
            self._valid.add(spec)
            return
        try:
            parse_normalized_named(spec)
        except ImageRefError as exc:
            raise ConvertError(f"{where}: invalid image pull spec {go_quote(spec)}: {exc}") from None
        self._valid.add(spec)


def convert_to_model(cfg: DeclarativeConfig, *, validate: bool = True) -> Model:
    """Build the model of ``cfg`` with every ConvertToModel check; validate it unless told not to."""
    model = Model()
    default_channels: dict[str, str] = {}
    for p in cfg.packages:
        if not p.name:
            raise ConvertError("config contains package with no name")
        if p.name in model:
            raise ConvertError(f"duplicate package {go_quote(p.name)}")
        errs = label_errors(p.name)
        if errs:
            raise ConvertError(f"invalid package name {go_quote(p.name)}: {go_list(errs)}")
        icon = Icon(p.icon.base64data, p.icon.mediatype) if p.icon is not None else None
        model[p.name] = Package(name=p.name, description=p.description, icon=icon)
        default_channels[p.name] = p.default_channel

    # opm keeps, per package, the entries of the *last* channel it read (a known quirk): only
    # those are checked for a missing bundle blob below.
    channel_entries: dict[str, set[str]] = {}
    for c in cfg.channels:
        pkg = model.get(c.package)
        if pkg is None:
            raise ConvertError(f"unknown package {go_quote(c.package)} for channel {go_quote(c.name)}")
        if not c.name:
            raise ConvertError(f"package {go_quote(c.package)} contains channel with no name")
        if c.name in pkg.channels:
            raise ConvertError(f"package {go_quote(c.package)} has duplicate channel {go_quote(c.name)}")
        ch = Channel(package=pkg, name=c.name, properties=c.properties)
        names: set[str] = set()
        for entry in c.entries or ():
            if entry.name in ch.bundles:
                raise ConvertError(
                    f"invalid package {go_quote(c.package)}, channel {go_quote(c.name)}: "
                    f"duplicate entry {go_quote(entry.name)}"
                )
            names.add(entry.name)
            ch.bundles[entry.name] = Bundle(
                package=pkg,
                channel=ch,
                name=entry.name,
                replaces=entry.replaces,
                skips=entry.skips,
                skip_range=entry.skip_range,
            )
        channel_entries[c.package] = names
        pkg.channels[c.name] = ch
        if default_channels.get(c.package) == c.name:
            pkg.default_channel = ch

    bundle_names: dict[str, set[str]] = {}
    pull_specs = _PullSpecs()
    for b in cfg.bundles:
        if not b.package:
            raise ConvertError(f"package name must be set for bundle {go_quote(b.name)}")
        pkg = model.get(b.package)
        if pkg is None:
            raise ConvertError(f"unknown package {go_quote(b.package)} for bundle {go_quote(b.name)}")
        seen = bundle_names.setdefault(b.package, set())
        if b.name in seen:
            raise ConvertError(f"package {go_quote(b.package)} has duplicate bundle {go_quote(b.name)}")
        seen.add(b.name)

        try:
            props = parse_properties(b.properties)
        except PropertyParseError as exc:
            raise ConvertError(f"parse properties for bundle {go_quote(b.name)}: {exc}") from None
        if len(props.packages) != 1:
            raise ConvertError(
                f"package {go_quote(b.package)} bundle {go_quote(b.name)} must have exactly 1 "
                f"{go_quote(PROP_PACKAGE)} property, found {len(props.packages)}"
            )
        pkg_prop = props.packages[0]
        if b.package != pkg_prop.package_name:
            raise ConvertError(
                f"package {go_quote(b.package)} does not match {go_quote(PROP_PACKAGE)} property "
                f"{go_quote(pkg_prop.package_name)}"
            )
        where = f"package {go_quote(b.package)} bundle {go_quote(b.name)}"
        pull_specs.check(b.image, f"{where} image")
        for i, rel in enumerate(b.related_images):
            pull_specs.check(rel.image, f"{where} relatedImages[{i}].image")
        try:
            version = parse_version(pkg_prop.version)
        except SemverError as exc:
            raise ConvertError(
                f"error parsing bundle {go_quote(b.name)} version {go_quote(pkg_prop.version)}: {exc}"
            ) from None
        try:
            release = parse_release(pkg_prop.release)
        except CatalogError as exc:
            raise ConvertError(
                f"error parsing bundle {go_quote(b.name)} release version {go_quote(pkg_prop.release)}: {exc}"
            ) from None

        entries = channel_entries.get(b.package)
        if entries is not None:
            entries.discard(b.name)
        found = False
        for ch in pkg.channels.values():
            mb = ch.bundles.get(b.name)
            if mb is not None:
                found = True
                mb.image = b.image
                mb.properties = b.properties
                mb.related_images = b.related_images
                mb.props = props
                mb.version = version
                mb.release = release
        if not found:
            raise ConvertError(
                f"package {go_quote(b.package)}, bundle {go_quote(b.name)} not found in any channel entries"
            )

    for pkg_name in sorted(channel_entries):
        left = channel_entries[pkg_name]
        if left:
            raise ConvertError(
                f"no olm.bundle blobs found in package {go_quote(pkg_name)} "
                f"for olm.channel entries {go_list(sorted(left))}"
            )

    for pkg in model.values():
        name = default_channels.get(pkg.name, "")
        if name and pkg.default_channel is None:
            # opm adds an empty channel, which then fails validation
            placeholder = Channel(package=pkg, name=name)
            pkg.default_channel = placeholder
            pkg.channels[name] = placeholder

    _apply_deprecations(cfg, model, bundle_names)

    if validate:
        err = model.validate()
        if err is not None:
            raise err
    return model


def _apply_deprecations(cfg: DeclarativeConfig, model: Model, bundle_names: dict[str, set[str]]) -> None:
    with_deprecations: set[str] = set()
    for i, dep in enumerate(cfg.deprecations):
        if not dep.package:
            raise ConvertError(f"package name must be set for deprecation item {i}")
        pkg = model.get(dep.package)
        if pkg is None:
            raise ConvertError(f"cannot apply deprecations to an unknown package {go_quote(dep.package)}")
        if dep.package in with_deprecations:
            raise ConvertError(f"expected a maximum of one deprecation per package: {go_quote(dep.package)}")
        with_deprecations.add(dep.package)

        refs: set[tuple[str, str]] = set()
        for j, entry in enumerate(dep.entries):
            ref = entry.reference
            if not ref.schema:
                raise ConvertError(
                    f"schema must be set for deprecation entry [{j}] for package {go_quote(dep.package)}"
                )
            if (ref.schema, ref.name) in refs:
                raise ConvertError(
                    f"duplicate deprecation entry {_reference_text(ref)} for package {go_quote(dep.package)}"
                )
            refs.add((ref.schema, ref.name))
            if ref.schema == SCHEMA_BUNDLE:
                if ref.name not in bundle_names.get(dep.package, ()):
                    raise ConvertError(
                        f"cannot deprecate bundle {go_quote(ref.name)} for package "
                        f"{go_quote(dep.package)}: bundle not found"
                    )
                for ch in pkg.channels.values():
                    mb = ch.bundles.get(ref.name)
                    if mb is not None:
                        mb.deprecation = Deprecation(entry.message)
            elif ref.schema == SCHEMA_CHANNEL:
                ch = pkg.channels.get(ref.name)
                if ch is None:
                    raise ConvertError(
                        f"cannot deprecate channel {go_quote(ref.name)} for package "
                        f"{go_quote(dep.package)}: channel not found"
                    )
                ch.deprecation = Deprecation(entry.message)
            elif ref.schema == SCHEMA_PACKAGE:
                if ref.name:
                    raise ConvertError(
                        f"package name must be empty for deprecated package {go_quote(dep.package)} "
                        f"(specified {go_quote(ref.name)})"
                    )
                pkg.deprecation = Deprecation(entry.message)
            else:
                raise ConvertError(
                    f"cannot deprecate object {_reference_text(ref)} referenced by entry {j} "
                    f"for package {go_quote(dep.package)}: object schema unknown"
                )


# ---------------------------------------------------------------------------------------------
# model → blobs


def _property_sort_key(p: Property) -> tuple[str, bytes]:
    return (p.type, compact(p.value))


def convert_from_model(model: Model) -> DeclarativeConfig:
    """The blobs of ``model`` as opm's ``ConvertFromModel`` makes them.

    Packages sorted by name; channels by (package, name) with entries sorted by name; bundles by
    (package, name), each with the properties of all its channel copies, deduplicated and sorted by
    (type, compact JSON value). Deprecations are not written back (opm does not either).
    """
    cfg = DeclarativeConfig()
    for pkg_name in sorted(model):
        pkg = model[pkg_name]
        icon = Icon(pkg.icon.base64data, pkg.icon.mediatype) if pkg.icon is not None else None
        cfg.packages.append(
            PackageBlob(
                name=pkg.name,
                default_channel=pkg.default_channel.name if pkg.default_channel is not None else "",
                icon=icon,
                description=pkg.description,
            )
        )
        blobs: dict[str, BundleBlob] = {}
        for ch_name in sorted(pkg.channels):
            ch = pkg.channels[ch_name]
            entries = []
            for b in ch.sorted_bundles():
                entries.append(ChannelEntry(b.name, b.replaces, list(b.skips), b.skip_range))
                blob = blobs.get(b.name)
                if blob is None:
                    blob = blobs[b.name] = BundleBlob(
                        name=b.name,
                        package=pkg.name,
                        image=b.image,
                        related_images=[RelatedImage(r.name, r.image) for r in b.related_images],
                    )
                blob.properties.extend(b.properties)
            cfg.channels.append(
                ChannelBlob(name=ch.name, package=pkg.name, entries=entries, properties=ch.properties)
            )
        for name in sorted(blobs):
            blob = blobs[name]
            keyed: dict[tuple[str, bytes], Property] = {}
            for p in blob.properties:
                keyed.setdefault(_property_sort_key(p), p)
            blob.properties = [keyed[k] for k in sorted(keyed)]
            cfg.bundles.append(blob)
    return cfg


# ---------------------------------------------------------------------------------------------
# per package


def split_by_package(cfg: DeclarativeConfig) -> dict[str, DeclarativeConfig]:
    """Every package's blobs in its own config, in one pass (the blobs themselves are shared).

    Blobs that belong to no package (custom schemas without one) are kept under the key "".
    """
    parts: dict[str, DeclarativeConfig] = {}

    def part(name: str) -> DeclarativeConfig:
        got = parts.get(name)
        if got is None:
            got = parts[name] = DeclarativeConfig()
        return got

    for p in cfg.packages:
        part(p.name).packages.append(p)
    for c in cfg.channels:
        part(c.package).channels.append(c)
    for b in cfg.bundles:
        part(b.package).bundles.append(b)
    for d in cfg.deprecations:
        part(d.package).deprecations.append(d)
    for o in cfg.others:
        part(o.package or "").others.append(o)
    return parts


def package_model(cfg: DeclarativeConfig, name: str, *, validate: bool = True) -> Package:
    """The model of one package of ``cfg`` (as ``opm serve`` converts packages one at a time)."""
    part = split_by_package(cfg).get(name, DeclarativeConfig())
    model = convert_to_model(part, validate=validate)
    pkg = model.get(name)
    if pkg is None:
        raise ConvertError(f"package {go_quote(name)} not found")
    return pkg
