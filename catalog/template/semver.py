"""``olm.semver`` templates: channels generated from bundle versions (opm v1.61+ algorithm, §3.4).

Bundles listed under ``candidate``, ``fast`` and ``stable`` land in channels named
``<archetype>-v<X>.<Y>`` (minor) and/or ``<archetype>-v<X>`` (major). Within an archetype, kind and
major version, the highest patch of each minor stream replaces the highest patch of the previous
minor stream and skips every earlier bundle; lower patches get no edges of their own. The default
channel is the "high-water" one: highest archetype, then highest version, then preferred kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from catalog import semver
from catalog.declcfg import PROP_PACKAGE, Channel, ChannelEntry, DeclarativeConfig, Icon, Package
from catalog.errors import CatalogError
from catalog.goquote import go_quote
from catalog.migrations import bundle_csv
from catalog.template.basic import BundleRenderer

SCHEMA_SEMVER = "olm.semver"
ARCHETYPES = ("candidate", "fast", "stable")  # lowest to highest priority
_KIND_PRIORITY = {"": 0, "major": 1, "minor": 2}
_FIELDS = {
    "schema": "schema",
    "generatemajorchannels": "generateMajorChannels",
    "generateminorchannels": "generateMinorChannels",
    "defaultchanneltypepreference": "defaultChannelTypePreference",
    "candidate": "candidate",
    "fast": "fast",
    "stable": "stable",
}


@dataclass(slots=True)
class SemverTemplate:
    """The parsed template, its defaults applied."""

    generate_major: bool
    generate_minor: bool
    preference: str
    bundles: dict[str, list[str]]  # archetype → images


def _strict(obj: Any, known: dict[str, str], where: str) -> dict[str, Any]:
    """Go's strict JSON decoding: keys matched case-insensitively, unknown keys refused."""
    if obj is None:
        return {}
    if not isinstance(obj, dict):
        raise CatalogError(f"{where}: expected an object")
    out: dict[str, Any] = {}
    for key, value in obj.items():
        field = known.get(str(key).lower())
        if field is None:
            raise CatalogError(f'error unmarshaling JSON: while decoding JSON: json: unknown field "{key}"')
        out[field] = value
    return out


def parse_semver_template(doc: dict[str, Any]) -> SemverTemplate:
    """Read an ``olm.semver`` document and apply opm's defaults and checks."""
    data = _strict(doc, _FIELDS, "template")
    if data.get("schema") != SCHEMA_SEMVER:
        raise CatalogError(f'readFile: input file has unknown schema, should be "{SCHEMA_SEMVER}"')
    major = bool(data.get("generateMajorChannels"))
    minor = bool(data.get("generateMinorChannels"))
    if not major and not minor:
        minor = True
    pref = data.get("defaultChannelTypePreference") or ""
    if pref == "":
        pref = "minor" if minor else "major"
    elif pref == "minor" and not minor:
        raise CatalogError(
            "schema attribute mismatch: DefaultChannelTypePreference set to 'minor' doesn't make sense "
            "if not generating minor-version channels"
        )
    elif pref == "major" and not major:
        raise CatalogError(
            "schema attribute mismatch: DefaultChannelTypePreference set to 'major' doesn't make sense "
            "if not generating major-version channels"
        )
    elif pref not in ("minor", "major"):
        raise CatalogError(
            f"unknown DefaultChannelTypePreference: {go_quote(str(pref))}; "
            "valid values are 'major' or 'minor'"
        )
    bundles: dict[str, list[str]] = {}
    for arch in ARCHETYPES:
        section = _strict(data.get(arch), {"bundles": "bundles"}, arch)
        images = []
        for entry in section.get("bundles") or []:
            image = _strict(entry, {"image": "image"}, f"{arch} bundle").get("image") or ""
            images.append(str(image))
        bundles[arch] = images
    return SemverTemplate(major, minor, pref, bundles)


@dataclass(slots=True)
class _Tuple:
    arch: str
    kind: str
    channel: str
    name: str
    version: semver.Version
    index: int


def render_semver(doc: dict[str, Any], render_bundle: BundleRenderer) -> DeclarativeConfig:
    """Render the template: the bundles, the generated channels and the package."""
    t = parse_semver_template(doc)
    out = DeclarativeConfig()
    image_of: dict[str, str] = {}
    for images in t.bundles.values():
        for image in images:
            if image in image_of:
                continue
            rendered = render_bundle(image)
            if len(rendered.bundles) != 1:
                raise CatalogError(
                    f"bundle reference {go_quote(image)} resulted in {len(rendered.bundles)} bundles, "
                    "expected 1"
                )
            image_of[image] = rendered.bundles[0].image
            out.extend(rendered)
    if not out.bundles:
        raise CatalogError("render: no bundles specified or no bundles could be rendered")

    package = ""
    versions: dict[str, dict[str, semver.Version]] = {}
    for arch in ARCHETYPES:
        entries: dict[str, semver.Version] = {}
        for image in t.bundles[arch]:
            b = next((x for x in out.bundles if x.image == image_of[image]), None)
            if b is None:
                raise CatalogError(
                    f"supplied bundle image name {go_quote(image)} not found in rendered bundle images"
                )
            pkgs = [p.value for p in b.properties if p.type == PROP_PACKAGE]
            if len(pkgs) != 1:
                raise CatalogError(
                    f'bundle {go_quote(b.name)} has multiple "olm.package" properties, expected exactly 1'
                )
            name, text = str(pkgs[0].get("packageName", "")), str(pkgs[0].get("version", ""))
            try:
                v = semver.parse(text)
            except CatalogError as exc:
                raise CatalogError(
                    f"bundle {go_quote(b.name)} has invalid version {go_quote(text)}: {exc}"
                ) from None
            if package and name != package:
                raise CatalogError(
                    f"bundle {go_quote(name)} does not belong to this package: {go_quote(package)}"
                )
            if not package:
                package = name
                out.packages.append(Package(name=name))
            if b.name in entries:
                raise CatalogError(f"duplicate bundle name {go_quote(b.name)}")
            entries[b.name] = v
        _no_build_conflicts(entries)
        versions[arch] = entries

    channels, default = _generate_channels(t, package, versions)
    out.channels = channels
    out.packages[0].default_channel = default
    _package_metadata(out, default)
    return out


def _no_build_conflicts(entries: dict[str, semver.Version]) -> None:
    seen: dict[tuple, int] = {}
    errors = []
    for v in entries.values():
        key = v.key
        if key in seen:
            stripped = semver.Version(v.major, v.minor, v.patch, v.pre)
            errors.append(
                f"bundle version {go_quote(str(v))} cannot be compared to {go_quote(str(stripped))}"
            )
        seen[key] = 1
    if errors:
        joined = errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
        raise CatalogError(
            "render: unable to post-process bundle info: encountered bundle versions which differ only by "
            f"build metadata, which cannot be ordered: {joined}"
        )


def _channel_names(t: SemverTemplate, arch: str, v: semver.Version) -> dict[str, str]:
    names = {}
    if t.generate_major:
        names["major"] = f"{arch}-v{v.major}"
    if t.generate_minor:
        names["minor"] = f"{arch}-v{v.major}.{v.minor}"
    return names


def _generate_channels(
    t: SemverTemplate, package: str, versions: dict[str, dict[str, semver.Version]]
) -> tuple[list[Channel], str]:
    channels: dict[str, Channel] = {}
    tuples: list[_Tuple] = []
    # high-water channel: (archetype priority, version of the bundle that opened it, kind)
    best: tuple[int, semver.Version, str, str] | None = None

    def higher(
        cand: tuple[int, semver.Version, str, str], cur: tuple[int, semver.Version, str, str] | None
    ) -> bool:
        if cur is None:
            cur = (0, semver.Version(0, 0, 0), "", "")
        if cand[0] != cur[0]:
            return cand[0] > cur[0]
        if cand[1].compare(cur[1]) != 0:
            return cand[1].compare(cur[1]) > 0
        if cand[2] != cur[2]:
            if cand[2] == t.preference:
                return True
            if cur[2] == t.preference:
                return False
            return _KIND_PRIORITY[cand[2]] > _KIND_PRIORITY[cur[2]]
        return False

    for prio, arch in enumerate(ARCHETYPES):
        bundles = versions[arch]
        for name in sorted(bundles, key=lambda n: bundles[n].key):
            v = bundles[name]
            for kind, ch_name in sorted(_channel_names(t, arch, v).items()):
                ch = channels.get(ch_name)
                if ch is None:
                    ch = channels[ch_name] = Channel(name=ch_name, package=package, entries=[])
                    cand = (prio, v, kind, ch_name)
                    if higher(cand, best):
                        best = cand
                assert ch.entries is not None
                ch.entries.append(ChannelEntry(name=name))
                tuples.append(_Tuple(arch, kind, ch_name, name, v, len(ch.entries) - 1))
    _link(channels, tuples)
    return [channels[n] for n in sorted(channels)], best[3] if best else ""


def _link(channels: dict[str, Channel], tuples: list[_Tuple]) -> None:
    order = {a: i for i, a in enumerate(ARCHETYPES)}
    tuples.sort(key=lambda x: (order[x.arch], _KIND_PRIORITY[x.kind], x.version.key))

    def finish(tup: _Tuple, replaces: str, skips: set[str]) -> None:
        entries = channels[tup.channel].entries
        assert entries is not None
        entry = entries[tup.index]
        entry.replaces = replaces
        rest = sorted(skips - {replaces})
        if rest:
            entry.skips = rest

    prev_zmax = ""
    cur_skips: set[str] = set()
    for prev, cur in pairwise(tuples):
        arch_change = cur.arch != prev.arch
        kind_change = cur.kind != prev.kind
        x_change = cur.version.major != prev.version.major
        y_change = x_change or cur.version.minor != prev.version.minor
        if arch_change or kind_change or x_change or y_change:
            finish(prev, prev_zmax, cur_skips)
        if arch_change or kind_change or x_change:
            cur_skips = set()
            prev_zmax = ""
        else:
            if y_change:
                prev_zmax = prev.name
            cur_skips.add(prev.name)
    if len(tuples) > 1:
        last, before = tuples[-1], tuples[-2]
        if (
            last.arch == before.arch
            and last.kind == before.kind
            and last.version.major == before.version.major
        ):
            finish(last, prev_zmax, cur_skips)


def _package_metadata(cfg: DeclarativeConfig, default: str) -> None:
    """Description and icon from the CSV of the default channel's last entry (opm v1.65+)."""
    channel = next((c for c in cfg.channels if c.name == default), None)
    if channel is None or not channel.entries:
        return
    head = channel.entries[-1].name
    bundle = next((b for b in cfg.bundles if b.name == head), None)
    csv = bundle_csv(bundle) if bundle else None
    if not csv:
        return
    spec = csv.get("spec") or {}
    desc = spec.get("description")
    if isinstance(desc, str) and desc:
        cfg.packages[0].description = desc
    icons = spec.get("icon")
    if isinstance(icons, list) and icons and isinstance(icons[0], dict):
        import base64

        from catalog.gobase64 import std_decode

        data = std_decode(str(icons[0].get("base64data") or ""))
        if data is None:
            return
        cfg.packages[0].icon = Icon(
            base64data=base64.b64encode(data).decode(), mediatype=str(icons[0].get("mediatype") or "")
        )
