"""An upgrade graph drawn as SVG by our own small layout (no graphviz, no browser script).

One lane per channel, top to bottom; in a lane its bundles from the lowest version on the left to the
highest on the right. An edge goes from the version one upgrades from to the one it upgrades to:
``replace`` solid, ``skip`` dashed, ``skipRange`` dotted; edges between neighbours are straight, longer
ones arc above the lane. The default channel is marked, deprecated bundles and channels shaded.
"""

from __future__ import annotations

from html import escape

from catalog.graph import ChannelGraph

NODE_W, NODE_H, GAP, LABEL_W, MARGIN = 190, 34, 40, 150, 16
LANE_PAD = 28  # room above the nodes for arcs
STYLE = {
    "replace": 'stroke="#1f5fa8"',
    "skip": 'stroke="#7a3fa8" stroke-dasharray="7 4"',
    "skipRange": 'stroke="#2e8540" stroke-dasharray="2 3"',
}


def _text(x: float, y: float, text: str, extra: str = "") -> str:
    return f'<text x="{x:.0f}" y="{y:.0f}" {extra}>{escape(text)}</text>'


def _lane_height(graph: ChannelGraph, order: dict[str, int]) -> int:
    longest = max(
        (abs(order[e.target] - order[e.source]) for e in graph.edges if e.source in order), default=1
    )
    return NODE_H + LANE_PAD + min(longest, 6) * 10 + 24


def draw(graphs: list[ChannelGraph], title: str = "") -> str:
    """The SVG document for ``graphs`` (as :func:`catalog.graph.channel_graphs` returns them)."""
    lanes = []
    y = MARGIN + (28 if title else 0)
    width = LABEL_W + 2 * MARGIN + NODE_W
    for graph in graphs:
        names = sorted(
            dict.fromkeys(graph.names),
            key=lambda n: (graph.versions.get(n).key if n in graph.versions else (), n),
        )
        order = {name: i for i, name in enumerate(names)}
        height = _lane_height(graph, order)
        lanes.append((graph, names, order, y, height))
        width = max(width, LABEL_W + 2 * MARGIN + len(names) * (NODE_W + GAP))
        y += height
    height = y + MARGIN + 30
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12" role="img">',
        "<defs>",
        *(
            f'<marker id="arrow-{kind}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
            f'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{color}"/></marker>'
            for kind, color in (("replace", "#1f5fa8"), ("skip", "#7a3fa8"), ("skipRange", "#2e8540"))
        ),
        "</defs>",
    ]
    if title:
        out.append(_text(MARGIN, MARGIN + 14, title, 'font-size="16" font-weight="bold"'))
    for graph, names, order, top, lane_h in lanes:
        out.extend(_lane(graph, names, order, top, lane_h, width))
    out.append(_legend(height - MARGIN - 10))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _node_x(index: int) -> float:
    return MARGIN + LABEL_W + index * (NODE_W + GAP)


def _lane(
    graph: ChannelGraph, names: list[str], order: dict[str, int], top: float, lane_h: float, width: float
) -> list[str]:
    fill = "#ece6fb" if graph.deprecated else ("#f3f7fc" if graph.is_default else "#f8f8f8")
    node_y = top + lane_h - NODE_H - 12
    label = (
        graph.name
        + (" (default)" if graph.is_default else "")
        + (" (deprecated)" if graph.deprecated else "")
    )
    out = [
        f'<g class="channel" data-channel="{escape(graph.name)}">',
        f'<rect x="{MARGIN / 2:.0f}" y="{top + 4:.0f}" width="{width - MARGIN:.0f}" '
        f'height="{lane_h - 8:.0f}" rx="6" fill="{fill}" stroke="#d0d7de"/>',
        _text(MARGIN, node_y + NODE_H / 2 + 4, label, 'font-weight="bold"'),
    ]
    for edge in graph.edges:
        if edge.source not in order or edge.target not in order:
            continue
        a, b = order[edge.source], order[edge.target]
        x1, x2 = _node_x(a) + (NODE_W if a < b else 0), _node_x(b) + (0 if a < b else NODE_W)
        mid_y = node_y + NODE_H / 2
        title = f"<title>{escape(edge.label)}: {escape(edge.source)} to {escape(edge.target)}</title>"
        attrs = f'{STYLE[edge.kind]} fill="none" stroke-width="1.6" marker-end="url(#arrow-{edge.kind})"'
        if abs(b - a) == 1 and edge.kind == "replace":
            path = f"M{x1:.0f},{mid_y:.0f} L{x2:.0f},{mid_y:.0f}"
        else:
            x1, x2 = _node_x(a) + NODE_W / 2, _node_x(b) + NODE_W / 2
            lift = 14 + min(abs(b - a), 6) * 10 + (6 if edge.kind != "replace" else 0)
            top_y = node_y - lift
            path = f"M{x1:.0f},{node_y:.0f} C{x1:.0f},{top_y:.0f} {x2:.0f},{top_y:.0f} {x2:.0f},{node_y:.0f}"
        out.append(f'<path class="edge {edge.kind}" d="{path}" {attrs}>{title}</path>')
    for name in names:
        x = _node_x(order[name])
        shade = "#f6d4a0" if name in graph.deprecated_entries else "#ffffff"
        out.append(
            f'<g class="bundle" data-bundle="{escape(name)}"><rect x="{x:.0f}" y="{node_y:.0f}" '
            f'width="{NODE_W}" height="{NODE_H}" rx="5" fill="{shade}" stroke="#57606a"/>'
            + _text(x + NODE_W / 2, node_y + NODE_H / 2 + 4, _fit(name), 'text-anchor="middle"')
            + f"<title>{escape(name)}</title></g>"
        )
    out.append("</g>")
    return out


def _fit(name: str, limit: int = 28) -> str:
    return name if len(name) <= limit else "…" + name[-(limit - 1) :]


def _legend(y: float) -> str:
    parts = []
    x = MARGIN
    for kind in ("replace", "skip", "skipRange"):
        parts.append(
            f'<path d="M{x},{y:.0f} L{x + 30},{y:.0f}" {STYLE[kind]} stroke-width="1.6" '
            f'marker-end="url(#arrow-{kind})"/>' + _text(x + 36, y + 4, kind)
        )
        x += 120
    return '<g class="legend">' + "".join(parts) + "</g>"
