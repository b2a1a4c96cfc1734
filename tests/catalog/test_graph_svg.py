"""catalog.graph_svg: the upgrade graph as a well-formed SVG with every bundle and edge."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from catalog.graph import channel_graphs
from catalog.graph_svg import draw
from catalog.load import load_bytes
from tests.catalog.test_graph import CATALOG

NS = {"s": "http://www.w3.org/2000/svg"}


def test_svg_has_a_lane_per_channel_and_every_edge() -> None:
    root = ET.fromstring(draw(channel_graphs(load_bytes(CATALOG), "p"), title="p"))
    lanes = root.findall(".//s:g[@class='channel']", NS)
    assert [lane.get("data-channel") for lane in lanes] == ["fast", "stable"]
    stable = lanes[1]
    bundles = [g.get("data-bundle") for g in stable.findall("s:g[@class='bundle']", NS)]
    assert bundles == ["p.v1.0.0", "p.v1.1.0", "p.v1.2.0"]
    kinds = [p.get("class") for p in stable.findall("s:path", NS)]
    assert kinds == ["edge replace"] * 2 + ["edge skip"] + ["edge skipRange"] * 2
    assert "(default)" in "".join(stable.itertext())


def test_svg_escapes_names() -> None:
    cfg = load_bytes(CATALOG.replace(b'"fast"', b'"f<a>&st"'))
    text = draw(channel_graphs(cfg, "p"))
    ET.fromstring(text)
    assert "f&lt;a&gt;&amp;st" in text
