"""Scenarios of our own making in the style of ../shared/testdata/graph-modes, on bundles we write.

Each ``own-graph-modes/<name>/scenario.json`` lists the bundles (see ``own_bundles``) and the steps
opm's legacy ``registry add`` took, with the graph after a step (``expected``) or opm's refusal
(``error``), worked out from opm's populator and SQLite loader: a head displaced by a bundle that
replaces nothing stays in the index and comes back when a later bundle replaces or skips it; a named
default channel must be one of the channel heads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from catalog.declcfg import DeclarativeConfig
from catalog.errors import CatalogError
from catalog.ops import add_bundles
from catalog.validate import validate_config
from tests.catalog.ops.own_bundles import own_bundle

SCENARIOS = Path(__file__).parent / "own-graph-modes"
NAMES = sorted(p.name for p in SCENARIOS.iterdir() if (p / "scenario.json").is_file())


def _graph(cfg: DeclarativeConfig) -> dict[str, Any]:
    return {
        "defaultChannel": cfg.packages[0].default_channel,
        "channels": {
            c.name: [[e.name, e.replaces, list(e.skips), e.skip_range] for e in c.entries or []]
            for c in sorted(cfg.channels, key=lambda c: c.name)
        },
    }


@pytest.mark.parametrize("name", NAMES)
def test_own_scenario(name: str, tmp_path: Path) -> None:
    scenario = json.loads((SCENARIOS / name / "scenario.json").read_text())
    cfg = DeclarativeConfig()
    for i, step in enumerate(scenario["steps"]):
        assert step["op"] == "add"
        items = [
            own_bundle(tmp_path, scenario["bundles"][image], image) for image in step["bundles_or_packages"]
        ]
        if "error" in step:
            with pytest.raises(CatalogError) as refused:
                add_bundles(cfg, items, step["mode"])
            assert str(refused.value) == step["error"], f"step {i}"
            return
        cfg = add_bundles(cfg, items, step["mode"]).config
        validate_config(cfg)
        if "expected" in step:
            assert _graph(cfg) == step["expected"], f"step {i}"


def test_displaced_bundles_are_never_written(tmp_path: Path) -> None:
    scenario = json.loads((SCENARIOS / "displaced-head-stays-out" / "scenario.json").read_text())
    cfg = DeclarativeConfig()
    for step in scenario["steps"]:
        items = [own_bundle(tmp_path, scenario["bundles"][i], i) for i in step["bundles_or_packages"]]
        cfg = add_bundles(cfg, items, step["mode"]).config
    assert sorted(b.name for b in cfg.bundles) == ["demo.v2.0.0", "demo.v3.0.0"]
    assert [r.bundle.name for r in cfg.retained] == ["demo.v1.0.0"]


def test_csv_icon_with_line_breaks_is_decoded_as_go_does(tmp_path: Path) -> None:
    spec = {
        "package": "demo",
        "version": "1.0.0",
        "channels": ["stable"],
        "icon": ["aWNvbi1kYXRh", "LWluLWxp", "bmVz"],  # "icon-data-in-lines", broken over three lines
    }
    cfg = add_bundles(
        DeclarativeConfig(), [own_bundle(tmp_path, spec, "quay.io/example/own/demo:1.0.0")]
    ).config
    icon = cfg.packages[0].icon
    assert icon is not None
    assert (icon.base64data, icon.mediatype) == ("aWNvbi1kYXRhLWluLWxpbmVz", "image/png")
