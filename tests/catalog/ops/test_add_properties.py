"""Add on a real csv.metadata catalog (no CSV manifests left to read the graph from), and the
order-independence of semver mode over every insertion order hypothesis tries."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.declcfg import DeclarativeConfig
from catalog.load import load_fs
from catalog.ops import add_bundles, package_config
from catalog.validate import validate_config
from tests.catalog.ops.scenarios import bundle_to_add
from tests.conftest import TESTDATA

pytestmark = pytest.mark.skipif(not TESTDATA.exists(), reason=f"{TESTDATA} is absent")

VERSIONS = ["0.3.0", "0.3.1", "0.4.0", "0.4.1", "0.5.0", "0.5.1", "0.5.2", "0.6.0", "0.7.0", "0.7.1"]
KG = "quay.io/example/bundles/kube-green:{}"


def _graph(cfg: DeclarativeConfig) -> dict:
    return {
        c.name: [(e.name, e.replaces, tuple(e.skips), e.skip_range) for e in c.entries or []]
        for c in cfg.channels
    }


@pytest.mark.parametrize("mode", ["replaces", "semver"])
def test_re_adding_the_head_of_a_csv_metadata_catalog_restores_its_graph(testdata: Path, mode: str) -> None:
    original = package_config(load_fs(testdata / "catalogs" / "community-v4.20" / "kube-green"), "kube-green")
    head = "kube-green.v0.7.1"
    trimmed = replace(
        original,
        channels=[
            replace(c, entries=[e for e in c.entries or [] if e.name != head]) for c in original.channels
        ],
        bundles=[b for b in original.bundles if b.name != head],
    )
    result = add_bundles(trimmed, [bundle_to_add(testdata, KG.format("0.7.1"))], mode)
    validate_config(result.config)
    assert _graph(result.config) == _graph(original)
    kept = {b.name: b for b in result.config.bundles if b.name != head}
    assert kept == {b.name: b for b in original.bundles if b.name != head}  # csv.metadata blobs untouched


_ITEMS: dict[str, object] = {}


def _item(version: str):
    if version not in _ITEMS:
        _ITEMS[version] = bundle_to_add(TESTDATA, KG.format(version))
    return _ITEMS[version]


@settings(max_examples=25, deadline=None)
@given(order=st.permutations(VERSIONS))
def test_semver_mode_gives_one_chain_whatever_the_order(order: list[str]) -> None:
    cfg = DeclarativeConfig()
    for v in order:
        cfg = add_bundles(cfg, [_item(v)], "semver").config
    validate_config(cfg)
    alpha = cfg.channels[0]
    chain = {e.name: e.replaces for e in alpha.entries or []}
    names = [f"kube-green.v{v}" for v in VERSIONS]
    assert chain == {n: (names[i - 1] if i else "") for i, n in enumerate(names)}


@settings(max_examples=25, deadline=None)
@given(order=st.permutations(VERSIONS))
def test_skippatch_mode_always_gives_a_valid_graph(order: list[str]) -> None:
    """opm refused many of these orders ("Invalid graph"); every one must give a valid graph here."""
    cfg = DeclarativeConfig()
    for v in order:
        cfg = add_bundles(cfg, [_item(v)], "semver-skippatch").config
    validate_config(cfg)
    alpha = cfg.channels[0]
    assert {e.name for e in alpha.entries or []} == {f"kube-green.v{v}" for v in VERSIONS}
    targets = {t for e in alpha.entries or [] for t in (e.replaces, *e.skips)}
    assert "kube-green.v0.7.1" not in targets  # the highest version heads the channel
