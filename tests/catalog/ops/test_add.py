"""Worked examples of the graph update modes (fbc-opm.md §3.3) on real bundles, and add's options."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.declcfg import DeclarativeConfig
from catalog.errors import CatalogError
from catalog.ops import BundleToAdd, add_bundles
from catalog.ops.add import MODE_REPLACES, MODE_SEMVER, MODE_SEMVER_SKIPPATCH
from catalog.ops.graph import GraphFields
from catalog.sqlite import read_index_db
from catalog.validate import validate_config
from tests.catalog.ops.scenarios import bundle_to_add

KG = "quay.io/example/bundles/kube-green:{}"
HUB = "quay.io/example/bundles/multicluster-global-hub-operator:{}"


def _add(testdata: Path, cfg: DeclarativeConfig, image: str, mode: str, **kw) -> DeclarativeConfig:
    result = add_bundles(cfg, [bundle_to_add(testdata, image)], mode, **kw)
    validate_config(result.config)
    return result.config


def _entries(cfg: DeclarativeConfig, channel: str, prefix: str) -> dict[str, tuple[str, list[str]]]:
    ch = next(c for c in cfg.channels if c.name == channel)
    cut = lambda n: n.removeprefix(prefix)  # noqa: E731
    return {cut(e.name): (cut(e.replaces), [cut(s) for s in e.skips]) for e in ch.entries or []}


def test_semver_inserts_a_version_between_two_existing_ones(testdata: Path) -> None:
    cfg = DeclarativeConfig()
    for v in ("0.3.0", "0.5.0"):
        cfg = _add(testdata, cfg, KG.format(v), MODE_SEMVER)
    assert _entries(cfg, "alpha", "kube-green.v") == {"0.3.0": ("", []), "0.5.0": ("0.3.0", [])}
    cfg = _add(testdata, cfg, KG.format("0.4.0"), MODE_SEMVER)
    # 0.4.0 replaces the greatest lower version; the lowest higher one now replaces 0.4.0.
    assert _entries(cfg, "alpha", "kube-green.v") == {
        "0.3.0": ("", []),
        "0.4.0": ("0.3.0", []),
        "0.5.0": ("0.4.0", []),
    }


def test_skippatch_collapses_patch_releases(testdata: Path) -> None:
    cfg = DeclarativeConfig()
    for v in ("0.4.1", "0.5.0", "0.5.1", "0.5.2"):
        cfg = _add(testdata, cfg, KG.format(v), MODE_SEMVER_SKIPPATCH)
    assert _entries(cfg, "alpha", "kube-green.v") == {
        "0.4.1": ("", []),
        "0.5.0": ("", []),
        "0.5.1": ("", []),
        "0.5.2": ("0.4.1", ["0.5.0", "0.5.1"]),  # one hop from any 0.5.z, the chain goes on to 0.4
    }
    # Only channel heads keep their manifests, as opm's semver modes left them.
    objects = {b.name: any(p.type == "olm.bundle.object" for p in b.properties) for b in cfg.bundles}
    assert objects == {
        "kube-green.v0.4.1": False,
        "kube-green.v0.5.0": False,
        "kube-green.v0.5.1": False,
        "kube-green.v0.5.2": True,
    }


def test_replaces_follows_the_csv_chain_with_its_skips(testdata: Path) -> None:
    cfg = DeclarativeConfig()
    for v in ("1.0.0", "1.1.0", "1.2.0", "1.2.1"):
        cfg = _add(testdata, cfg, HUB.format(v), MODE_REPLACES)
    # 1.2.1's CSV replaces 1.1.0 and skips 1.2.0: 1.2.0 stays in the channel, reachable by the skip.
    assert _entries(cfg, "release-2.11", "multicluster-global-hub-operator.v") == {
        "1.0.0": ("", []),
        "1.1.0": ("1.0.0", []),
        "1.2.0": ("", []),
        "1.2.1": ("1.1.0", ["1.2.0"]),
    }
    # Replaces mode keeps every bundle's manifests.
    assert all(any(p.type == "olm.bundle.object" for p in b.properties) for b in cfg.bundles)


def test_default_channel_follows_the_highest_version(testdata: Path) -> None:
    items = [
        bundle_to_add(testdata, HUB.format(v)) for v in ("1.0.0", "1.1.0", "1.2.0", "1.2.1", "1.3.0", "1.4.0")
    ]
    cfg = add_bundles(DeclarativeConfig(), items, MODE_REPLACES).config
    assert cfg.packages[0].default_channel == "release-2.13"
    result = add_bundles(cfg, [bundle_to_add(testdata, HUB.format("1.5.0"))], MODE_REPLACES)
    assert result.changed == ["multicluster-global-hub-operator"]
    assert result.config.packages[0].default_channel == "release-1.5"


def test_added_bundle_lists_its_image_first_among_related_images(testdata: Path) -> None:
    cfg = _add(testdata, DeclarativeConfig(), KG.format("0.5.0"), MODE_SEMVER)
    assert [r.image for r in cfg.bundles[0].related_images] == [
        KG.format("0.5.0"),
        "docker.io/kubegreen/kube-green:0.5.0",
        "gcr.io/kubebuilder/kube-rbac-proxy:v0.13.0",
    ]


def test_icon_comes_from_the_default_channel_head(testdata: Path) -> None:
    cfg = _add(testdata, DeclarativeConfig(), KG.format("0.5.0"), MODE_SEMVER)
    assert cfg.packages[0].icon is not None and cfg.packages[0].icon.mediatype


def test_unknown_mode_is_refused(testdata: Path) -> None:
    with pytest.raises(CatalogError, match="Invalid channel update mode sideways specified"):
        add_bundles(DeclarativeConfig(), [bundle_to_add(testdata, KG.format("0.3.0"))], "sideways")


def test_equal_version_is_refused_in_semver_mode(testdata: Path) -> None:
    cfg = _add(testdata, DeclarativeConfig(), KG.format("0.3.0"), MODE_SEMVER)
    item = bundle_to_add(testdata, KG.format("0.3.0"))
    item.bundle.name = "kube-green.v0.3.0-rebuilt"
    item.bundle.image = "quay.io/example/bundles/kube-green:rebuilt"
    with pytest.raises(CatalogError, match=r"^Bundle version 0\.3\.0 already added to index$"):
        add_bundles(cfg, [item], MODE_SEMVER)


def test_skip_present_skips_what_the_index_has(testdata: Path) -> None:
    cfg = _add(testdata, DeclarativeConfig(), KG.format("0.3.0"), MODE_REPLACES)
    result = add_bundles(
        cfg,
        [bundle_to_add(testdata, KG.format("0.3.0")), bundle_to_add(testdata, KG.format("0.3.1"))],
        MODE_REPLACES,
        skip_present=True,
    )
    assert result.notes == [f"bundle {KG.format('0.3.0')} is already in the index: skipped"]
    assert sorted(b.name for b in result.config.bundles) == ["kube-green.v0.3.0", "kube-green.v0.3.1"]


def test_overwrite_latest_replaces_the_channel_head(testdata: Path) -> None:
    cfg = DeclarativeConfig()
    for v in ("0.3.0", "0.3.1"):
        cfg = _add(testdata, cfg, KG.format(v), MODE_REPLACES)
    rebuilt = bundle_to_add(testdata, KG.format("0.3.1"))
    rebuilt.bundle.image = "quay.io/example/bundles/kube-green@sha256:" + "1" * 64
    with pytest.raises(CatalogError, match="Bundle already added that provides package and csv"):
        add_bundles(cfg, [rebuilt], MODE_REPLACES)
    out = add_bundles(cfg, [rebuilt], MODE_REPLACES, overwrite_latest=True).config
    head = next(b for b in out.bundles if b.name == "kube-green.v0.3.1")
    assert head.image == rebuilt.bundle.image
    assert _entries(out, "alpha", "kube-green.v") == {"0.3.0": ("", []), "0.3.1": ("0.3.0", [])}


def test_overwrite_latest_refuses_a_bundle_below_the_head(testdata: Path) -> None:
    cfg = DeclarativeConfig()
    for v in ("0.3.0", "0.3.1"):
        cfg = _add(testdata, cfg, KG.format(v), MODE_REPLACES)
    old = bundle_to_add(testdata, KG.format("0.3.0"))
    old.bundle.image = "quay.io/example/bundles/kube-green:0.3.0-rebuilt"
    with pytest.raises(CatalogError, match="Cannot overwrite a bundle that is not at the head of a channel"):
        add_bundles(cfg, [old], MODE_REPLACES, overwrite_latest=True)


def test_a_failed_add_leaves_the_catalog_untouched(testdata: Path) -> None:
    cfg = _add(testdata, DeclarativeConfig(), KG.format("0.3.0"), MODE_REPLACES)
    before = repr(cfg)
    with pytest.raises(CatalogError, match=r"replaces nonexistent bundle kube-green\.v0\.4\.1"):
        add_bundles(cfg, [bundle_to_add(testdata, KG.format("0.5.0"))], MODE_REPLACES)
    assert repr(cfg) == before


def test_max_openshift_version_for_bundles_with_removed_apis(testdata: Path) -> None:
    legacy = read_index_db(testdata / "sqlite" / "bundles.db")  # etcd ships v1beta1 CRDs
    etcd = next(b for b in legacy.bundles if b.name == "etcdoperator.v0.9.2")
    etcd.image = "quay.io/example/etcd:0.9.2"
    item = BundleToAdd(bundle=etcd, channels=["alpha"], default_channel="alpha", graph=GraphFields())
    result = add_bundles(DeclarativeConfig(), [item], MODE_REPLACES, max_openshift_version=True)
    props = {p.type: p.value for p in result.config.bundles[0].properties}
    assert props["olm.maxOpenShiftVersion"] == 4.8
    kube_green = [bundle_to_add(testdata, KG.format("0.3.0"))]
    plain = add_bundles(DeclarativeConfig(), kube_green, MODE_REPLACES, max_openshift_version=True)
    assert all(p.type != "olm.maxOpenShiftVersion" for p in plain.config.bundles[0].properties)
