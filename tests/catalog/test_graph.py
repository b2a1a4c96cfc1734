"""catalog.graph: opm's ``alpha render-graph`` mermaid text, and the graph as data."""

from __future__ import annotations

import pytest

from catalog.errors import CatalogError
from catalog.graph import channel_graphs, mermaid
from catalog.load import load_bytes

CATALOG = b"""
{"schema": "olm.package", "name": "p", "defaultChannel": "stable"}
{"schema": "olm.channel", "package": "p", "name": "stable", "entries": [
  {"name": "p.v1.0.0"},
  {"name": "p.v1.1.0", "replaces": "p.v1.0.0"},
  {"name": "p.v1.2.0", "replaces": "p.v1.1.0", "skips": ["p.v1.0.0"], "skipRange": ">=1.0.0 <1.2.0"}]}
{"schema": "olm.channel", "package": "p", "name": "fast", "entries": [{"name": "p.v1.2.0"}]}
{"schema": "olm.bundle", "package": "p", "name": "p.v1.0.0", "image": "r/p:1.0.0",
 "properties": [{"type": "olm.package", "value": {"packageName": "p", "version": "1.0.0"}}]}
{"schema": "olm.bundle", "package": "p", "name": "p.v1.1.0", "image": "r/p:1.1.0",
 "properties": [{"type": "olm.package", "value": {"packageName": "p", "version": "1.1.0"}}]}
{"schema": "olm.bundle", "package": "p", "name": "p.v1.2.0", "image": "r/p:1.2.0",
 "properties": [{"type": "olm.package", "value": {"packageName": "p", "version": "1.2.0"}}]}
{"schema": "olm.deprecations", "package": "p", "entries": [
  {"reference": {"schema": "olm.bundle", "name": "p.v1.0.0"}, "message": "old"},
  {"reference": {"schema": "olm.channel", "name": "fast"}, "message": "gone"}]}
{"schema": "olm.package", "name": "q", "defaultChannel": "a"}
{"schema": "olm.channel", "package": "q", "name": "a", "entries": [{"name": "q.v0.1.0"}]}
{"schema": "olm.bundle", "package": "q", "name": "q.v0.1.0", "image": "r/q:0.1.0",
 "properties": [{"type": "olm.package", "value": {"packageName": "q", "version": "0.1.0"}}]}
"""

EXPECTED_P = """graph LR
  classDef deprecated fill:#E8960F
  %% package "p"
  subgraph "p"
    %% channel "fast"
    subgraph p-fast["fast"]
      p-fast-p.v1.2.0["p.v1.2.0"]
    end
    %% channel "stable"
    subgraph p-stable["stable"]
      p-stable-p.v1.0.0["p.v1.0.0"]:::deprecated
      p-stable-p.v1.1.0["p.v1.1.0"]
      p-stable-p.v1.0.0["p.v1.0.0"]-- replace --> p-stable-p.v1.1.0["p.v1.1.0"]
      p-stable-p.v1.2.0["p.v1.2.0"]
      p-stable-p.v1.1.0["p.v1.1.0"]-- replace --> p-stable-p.v1.2.0["p.v1.2.0"]
      p-stable-p.v1.0.0["p.v1.0.0"]-- skip --> p-stable-p.v1.2.0["p.v1.2.0"]
      p-stable-p.v1.0.0["p.v1.0.0"]-- "skipRange(>=1.0.0 <1.2.0)" --> p-stable-p.v1.2.0["p.v1.2.0"]
      p-stable-p.v1.1.0["p.v1.1.0"]-- "skipRange(>=1.0.0 <1.2.0)" --> p-stable-p.v1.2.0["p.v1.2.0"]
    end
  end
style p-fast fill:#DCD0FF
"""


def test_mermaid_of_one_package_as_opm_prints_it() -> None:
    assert mermaid(load_bytes(CATALOG), package="p") == EXPECTED_P


def test_mermaid_of_every_package_sorted() -> None:
    text = mermaid(load_bytes(CATALOG))
    assert text.index('subgraph "p"') < text.index('subgraph "q"')
    assert '      q-a-q.v0.1.0["q.v0.1.0"]\n' in text


def test_minimum_edge_drops_older_edges() -> None:
    text = mermaid(load_bytes(CATALOG), minimum_edge="p.v1.1.0")
    assert "p.v1.0.0" not in text.split('subgraph p-stable["stable"]')[1]
    assert '-- replace --> p-stable-p.v1.2.0["p.v1.2.0"]' in text
    assert 'subgraph "q"' not in text


def test_unknown_minimum_edge() -> None:
    with pytest.raises(CatalogError, match='unknown minimum edge name: "nope"'):
        mermaid(load_bytes(CATALOG), minimum_edge="nope")


def test_channel_graphs_as_data() -> None:
    stable = next(g for g in channel_graphs(load_bytes(CATALOG), "p") if g.name == "stable")
    assert stable.is_default
    assert stable.names == ["p.v1.0.0", "p.v1.1.0", "p.v1.2.0"]
    assert [(e.source, e.kind) for e in stable.edges][:3] == [
        ("p.v1.0.0", "replace"),
        ("p.v1.1.0", "replace"),
        ("p.v1.0.0", "skip"),
    ]
