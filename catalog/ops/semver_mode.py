"""The legacy add's ``semver`` and ``semver-skippatch`` modes on one package (fbc-opm.md §3.3).

The channel graph is rebuilt from the package's entries as opm's loader did (every ``replaces`` and
``skips`` an edge), the new bundle is placed by version, and each channel is written back: the
replaces chain from the head, every other edge a skip.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from catalog.declcfg import Bundle, Channel, ChannelEntry, DeclarativeConfig, Package
from catalog.errors import CatalogError
from catalog.migrations import bundle_csv
from catalog.ops.graph import bundle_version, bundle_version_text, csv_graph_fields


@dataclass(slots=True)
class _ChannelGraph:
    head: str
    edges: dict[str, list[str]]  # node → the names it replaces or skips (replaces first)


def _graph_from_channels(part: DeclarativeConfig) -> dict[str, _ChannelGraph]:
    """The per-channel graph opm's legacy loader rebuilt from the index (every edge alike)."""
    present = {b.name for b in part.bundles}
    graphs: dict[str, _ChannelGraph] = {}
    for ch in part.channels:
        edges: dict[str, list[str]] = {}
        candidates: dict[str, None] = {}
        targets: set[str] = set()
        for e in ch.entries or []:
            if e.name not in present:
                continue
            out = edges.setdefault(e.name, [])
            candidates[e.name] = None
            for t in [e.replaces, *e.skips]:
                if t and t not in out:
                    out.append(t)
                if t:
                    targets.add(t)
        heads = [n for n in candidates if n not in targets]
        if not heads:
            raise CatalogError(f"no channel head found for {ch.name}")
        if len(heads) > 1:
            raise CatalogError(
                f"multiple candidate channel heads found for {ch.name}: [{' '.join(sorted(heads))}]"
            )
        graphs[ch.name] = _ChannelGraph(head=heads[0], edges=edges)
    return graphs


def add_semver(
    part: DeclarativeConfig,
    pkg: str,
    new: Bundle,
    channels: list[str],
    default_channel: str,
    skip_range: str,
    *,
    skippatch: bool,
) -> DeclarativeConfig:
    """Add one bundle to one package's blobs in semver (or semver-skippatch) mode."""
    version = bundle_version(new)
    graphs = _graph_from_channels(part)
    bundles = {b.name: b for b in part.bundles}
    versions = {name: bundle_version(b) for name, b in bundles.items()}

    default = part.packages[0].default_channel if part.packages else ""
    if default_channel:
        default = default_channel
    if not default:
        if len(channels) != 1:
            raise CatalogError("Default channel is missing and can't be inferred")
        default = channels[0]

    for ch_name in channels:
        graph = graphs.get(ch_name)
        if graph is None:
            graphs[ch_name] = _ChannelGraph(head=new.name, edges={new.name: []})
            continue
        chain = _chain(graph)
        on_chain = set(chain)
        lowest_ahead: str | None = None
        greatest_behind: str | None = None
        patches: list[str] = []
        for node in graph.edges:
            v = versions[node]
            c = v.compare(version)
            if c == 0:
                raise CatalogError(f"Bundle version {bundle_version_text(new)} already added to index")
            if c < 0 and skippatch and v.major == version.major and v.minor == version.minor:
                patches.append(node)
            elif node not in on_chain:
                continue  # a bundle only skipped by another keeps its place
            elif c > 0:
                if lowest_ahead is None or v < versions[lowest_ahead]:
                    lowest_ahead = node
            elif greatest_behind is None or v > versions[greatest_behind]:
                greatest_behind = node
        # The new bundle replaces the greatest lower version on the chain outside the patch releases
        # it skips, and the lowest higher one on the chain now replaces it. (opm looked at every
        # node, skipped ones included, and so broke the chain: "Invalid graph: some (non-bottom)
        # nodes ...".)
        out: list[str] = [greatest_behind] if greatest_behind else []
        out.extend(sorted(patches, key=lambda n: versions[n].key))
        for p in patches:
            del graph.edges[p]
        if lowest_ahead is not None:
            idx = chain.index(lowest_ahead)
            successor = chain[idx + 1] if idx + 1 < len(chain) else None
            kept = [t for t in graph.edges[lowest_ahead] if t != successor and t in graph.edges]
            graph.edges[lowest_ahead] = [new.name, *kept]
        else:
            graph.head = new.name
        graph.edges[new.name] = out

    bundles[new.name] = new
    skip_ranges = {e.name: e.skip_range for ch in part.channels for e in ch.entries or [] if e.skip_range}
    skip_ranges[new.name] = skip_range
    out_channels = [
        _channel_from_graph(ch_name, pkg, graphs[ch_name], bundles, skip_ranges) for ch_name in sorted(graphs)
    ]
    if default not in graphs:
        raise CatalogError(f"the default channel ({default}) does not exist")
    package = part.packages[0] if part.packages else Package(name=pkg)
    return replace(
        part,
        packages=[replace(package, default_channel=default)],
        channels=out_channels,
        bundles=list(bundles.values()),
    )


def _chain(graph: _ChannelGraph) -> list[str]:
    """The replaces chain from the head: each node's first edge to another node of the graph."""
    chain: list[str] = []
    cur: str | None = graph.head
    while cur is not None:
        chain.append(cur)
        cur = next((t for t in graph.edges.get(cur, []) if t in graph.edges and t not in chain), None)
    return chain


def _channel_from_graph(
    name: str, pkg: str, graph: _ChannelGraph, bundles: dict[str, Bundle], skip_ranges: dict[str, str]
) -> Channel:
    """Write one channel: the replaces chain from the head, every other edge a skip."""
    entries: dict[str, ChannelEntry] = {}

    def entry(n: str) -> ChannelEntry:
        e = entries.get(n)
        if e is None:
            sr = skip_ranges.get(n)
            e = entries[n] = ChannelEntry(
                name=n, skip_range=sr if sr is not None else _skip_range(bundles[n])
            )
        return e

    chain: list[str] = []
    cur: str | None = graph.head
    while cur is not None:
        chain.append(cur)
        e = entry(cur)
        targets = graph.edges.get(cur, [])
        nxt = next((t for t in targets if t in graph.edges and t not in chain), None)
        if nxt is not None:
            e.replaces = nxt
        for t in targets:
            if t == nxt:
                continue
            e.skips.append(t)
            if t in bundles:
                entry(t)
        cur = nxt
    stranded = sorted(n for n in graph.edges if n not in entries)
    if stranded:
        raise CatalogError(
            "Invalid graph: some (non-bottom) nodes defined in the graph were not mentioned as replacements "
            f"of any node: {', '.join(stranded)}"
        )
    return Channel(name=name, package=pkg, entries=[entries[n] for n in sorted(entries)])


def _skip_range(b: Bundle) -> str:
    csv = bundle_csv(b)
    if csv:
        return csv_graph_fields(csv).skip_range
    return ""
