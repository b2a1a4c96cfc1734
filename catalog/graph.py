"""The upgrade graph of a catalog's channels, and opm's ``alpha render-graph`` mermaid text.

``mermaid(cfg, package=..., minimum_edge=...)`` prints what ``opm alpha render-graph
[--package-name P] [--minimum-edge NAME]`` prints for the same catalog: ``graph LR``, a subgraph per
package (sorted), in it one per channel (sorted by name) listing its entries and their ``replace``,
``skip`` and ``skipRange(...)`` edges (a skipRange edge from every entry of the channel whose version
is in the range), then ``style`` lines for deprecated packages and channels.

``channel_graphs(cfg, package)`` gives the same edges as data (for the SVG drawing).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from catalog import semver
from catalog.declcfg import (
    SCHEMA_BUNDLE,
    SCHEMA_CHANNEL,
    SCHEMA_PACKAGE,
    Channel,
    ChannelEntry,
    DeclarativeConfig,
)
from catalog.errors import CatalogError
from catalog.goquote import go_quote
from catalog.properties import PropertyParseError, parse_properties

ZERO = semver.Version(0, 0, 0)


@dataclass(frozen=True, slots=True)
class Edge:
    """An upgrade from ``source`` to ``target``; ``kind`` is replace, skip or skipRange."""

    source: str
    target: str
    kind: str
    label: str


@dataclass(slots=True)
class ChannelGraph:
    """One channel: its entries in catalog order and its edges in opm's order."""

    package: str
    name: str
    entries: list[tuple[str, list[Edge]]] = field(default_factory=list)  # (entry, edges into it)
    deprecated: bool = False
    package_deprecated: bool = False
    deprecated_entries: set[str] = field(default_factory=set)
    is_default: bool = False
    versions: dict[str, semver.Version] = field(default_factory=dict)  # of its entries

    @property
    def edges(self) -> list[Edge]:
        return [edge for _, edges in self.entries for edge in edges]

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.entries]


def bundle_versions(cfg: DeclarativeConfig) -> dict[str, semver.Version]:
    """Every bundle's version by bundle name (the first bundle of a name wins), as opm reads it."""
    out: dict[str, semver.Version] = {}
    for bundle in cfg.bundles:
        if bundle.name in out:
            continue
        try:
            props = parse_properties(bundle.properties)
        except PropertyParseError as exc:
            raise CatalogError(f"parse properties for bundle {go_quote(bundle.name)}: {exc}") from None
        if len(props.packages) != 1:
            raise CatalogError(
                f'bundle {go_quote(bundle.name)} has multiple "olm.package" properties, expected exactly 1'
            )
        text = props.packages[0].version
        try:
            out[bundle.name] = semver.parse(text)
        except semver.SemverError as exc:
            raise CatalogError(
                f"bundle {go_quote(bundle.name)} has invalid version {go_quote(text)}: {exc}"
            ) from None
    return out


def _keep_entry(
    ce: ChannelEntry, versions: dict[str, semver.Version], floor: semver.Version
) -> ChannelEntry | None:
    """An entry cut down to its edges at or above ``floor`` (opm's filterChannel), or None to drop it."""
    out = ChannelEntry(name=ce.name)
    if ce.replaces and versions.get(ce.replaces, ZERO).compare(floor) >= 0:
        out.replaces = ce.replaces
    out.skips = [s for s in ce.skips if versions.get(s, ZERO).compare(floor) >= 0]
    if ce.skip_range:
        try:
            if semver.parse_range(ce.skip_range)(floor):
                out.skip_range = ce.skip_range
        except semver.SemverError:
            out.skip_range = ce.skip_range
    if out.replaces or out.skips or out.skip_range:
        return out
    bare = not (ce.replaces or ce.skips or ce.skip_range)
    return out if bare and versions.get(ce.name, ZERO).compare(floor) >= 0 else None


def _filter(
    channel: Channel,
    versions: dict[str, semver.Version],
    package: str,
    minimum_edge: str,
    floor: semver.Version,
    floor_package: str,
) -> list[ChannelEntry] | None:
    entries = channel.entries or []
    if not package and not minimum_edge:
        return entries
    if package and channel.package != package:
        return None
    if floor_package and channel.package != floor_package:
        return None
    if not minimum_edge:
        return [ChannelEntry(e.name, e.replaces, list(e.skips), e.skip_range) for e in entries] or None
    out: list[ChannelEntry] = []
    for ce in entries:
        if ce.name == minimum_edge:
            out.append(ChannelEntry(name=ce.name))
        elif (kept := _keep_entry(ce, versions, floor)) is not None:
            out.append(kept)
    return out or None


def _edges(
    entries: list[ChannelEntry], versions: dict[str, semver.Version], package: str
) -> list[tuple[ChannelEntry, list[Edge]]]:
    out = []
    for ce in entries:
        edges: list[Edge] = []
        if ce.replaces:
            edges.append(Edge(ce.replaces, ce.name, "replace", "replace"))
        edges.extend(Edge(s, ce.name, "skip", "skip") for s in ce.skips)
        if ce.skip_range:
            try:
                in_range = semver.parse_range(ce.skip_range)
            except semver.SemverError as exc:
                print(
                    f"warning: ignoring invalid SkipRange for package/edge {go_quote(package)}/"
                    f"{go_quote(ce.name)}: {exc}",
                    file=sys.stderr,
                )
            else:
                label = f"skipRange({ce.skip_range})"
                edges.extend(
                    Edge(e.name, ce.name, "skipRange", label)
                    for e in entries
                    if in_range(versions.get(e.name, ZERO))
                )
        out.append((ce, edges))
    return out


def channel_graphs(cfg: DeclarativeConfig, package: str = "", minimum_edge: str = "") -> list[ChannelGraph]:
    """The channels' graphs, ordered by channel name (stable), filtered as opm filters them."""
    versions = bundle_versions(cfg)
    floor = ZERO
    if minimum_edge:
        if minimum_edge not in versions:
            raise CatalogError(f"unknown minimum edge name: {go_quote(minimum_edge)}")
        floor = versions[minimum_edge]
    floor_package = ""
    if minimum_edge:
        floor_package = next(
            (c.package for c in cfg.channels for e in c.entries or [] if e.name == minimum_edge), ""
        )
    deprecated_packages: set[str] = set()
    deprecated_channels: set[str] = set()
    deprecated_bundles: set[str] = set()
    for dep in cfg.deprecations:
        for entry in dep.entries:
            schema = entry.reference.schema
            if schema == SCHEMA_PACKAGE:
                deprecated_packages.add(dep.package)
            elif schema == SCHEMA_CHANNEL:
                deprecated_channels.add(entry.reference.name)
            elif schema == SCHEMA_BUNDLE:
                deprecated_bundles.add(entry.reference.name)
    defaults = {p.name: p.default_channel for p in cfg.packages}
    graphs: list[ChannelGraph] = []
    for channel in sorted(cfg.channels, key=lambda c: c.name):
        entries = _filter(channel, versions, package, minimum_edge, floor, floor_package)
        if entries is None:
            continue
        graph = ChannelGraph(
            channel.package,
            channel.name,
            deprecated=channel.name in deprecated_channels,
            package_deprecated=channel.package in deprecated_packages,
            is_default=defaults.get(channel.package) == channel.name,
        )
        graph.deprecated_entries = {e.name for e in entries} & deprecated_bundles
        for ce, edges in _edges(entries, versions, channel.package):
            if versions.get(ce.name, ZERO).compare(floor) >= 0:
                graph.entries.append((ce.name, edges))
                graph.versions[ce.name] = versions.get(ce.name, ZERO)
        graphs.append(graph)
    return graphs


def mermaid(cfg: DeclarativeConfig, package: str = "", minimum_edge: str = "") -> str:
    """``opm alpha render-graph`` output for ``cfg`` (``--package-name``, ``--minimum-edge``)."""
    graphs = channel_graphs(cfg, package, minimum_edge)
    by_package: dict[str, list[str]] = {}
    deprecated_package = ""
    deprecated_channel_ids: list[str] = []
    for graph in graphs:
        lines = by_package.setdefault(graph.package, [])
        channel_id = f"{graph.package}-{graph.name}"
        lines.append(f"    %% channel {go_quote(graph.name)}")
        lines.append(f"    subgraph {channel_id}[{go_quote(graph.name)}]")
        if graph.package_deprecated:
            deprecated_package = graph.package
        if graph.deprecated:
            deprecated_channel_ids.append(channel_id)
        for name, edges in graph.entries:
            mark = ":::deprecated" if name in graph.deprecated_entries else ""
            entry_id = f"{channel_id}-{name}"
            lines.append(f"      {entry_id}[{go_quote(name)}]{mark}")
            for edge in edges:
                label = edge.kind if edge.kind != "skipRange" else f'"{edge.label}"'
                lines.append(
                    f"      {channel_id}-{edge.source}[{go_quote(edge.source)}]-- {label} --> "
                    f"{entry_id}[{go_quote(name)}]"
                )
        lines.append("    end")
    out = ["graph LR", "  classDef deprecated fill:#E8960F"]
    for name in sorted(by_package):
        out.append(f"  %% package {go_quote(name)}")
        out.append(f"  subgraph {go_quote(name)}")
        out.extend(by_package[name])
        out.append("  end")
    if deprecated_package:
        out.append(f"style {deprecated_package} fill:#989695")
    out.extend(f"style {cid} fill:#DCD0FF" for cid in deprecated_channel_ids)
    return "\n".join(out) + "\n"
