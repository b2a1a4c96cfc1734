"""add-deprecations, FBC fragments, merge and create-empty on real catalogs (testdata/catalogs)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from catalog.declcfg import Deprecation, DeprecationEntry, PackageScopedReference
from catalog.errors import CatalogError
from catalog.load import load_fs
from catalog.ops import (
    add_deprecations,
    apply_fragment,
    create_empty,
    merge_catalogs,
    package_config,
    remove_packages,
)
from catalog.validate import validate_config


@pytest.fixture(scope="module")
def v416(testdata: Path):
    return load_fs(testdata / "catalogs" / "community-v4.16-sample")


@pytest.fixture(scope="module")
def v420(testdata: Path):
    return load_fs(testdata / "catalogs" / "community-v4.20")


def _graph(cfg, pkg):
    return {
        c.name: sorted((e.name, e.replaces, tuple(e.skips), e.skip_range) for e in c.entries or [])
        for c in cfg.channels
        if c.package == pkg
    }


def test_fragment_replaces_the_package_wholesale(v416, v420) -> None:
    fragment = package_config(v420, "kube-green")
    result = apply_fragment(v416, fragment)
    assert result.changed == ["kube-green"]
    assert result.notes == ["package kube-green replaced from the fragment"]
    got = package_config(result.config, "kube-green")
    assert sorted(b.name for b in got.bundles) == sorted(b.name for b in fragment.bundles)
    assert _graph(result.config, "kube-green") == _graph(v420, "kube-green")
    others = {p.name for p in v416.packages} - {"kube-green"}
    for name in others:
        assert package_config(result.config, name) == package_config(v416, name)
    validate_config(result.config)


def test_fragment_adds_a_new_package(v416, v420) -> None:
    result = apply_fragment(v416, package_config(v420, "hive-operator"))
    assert result.notes == ["package hive-operator added from the fragment"]
    assert "hive-operator" in result.config.package_names()


def test_empty_fragment_is_refused(v416) -> None:
    with pytest.raises(CatalogError, match="No packages found"):
        apply_fragment(v416, package_config(v416, "nothing-here"))


def test_add_deprecations_merges_and_checks_references(v416) -> None:
    dep = Deprecation(
        "kube-green",
        [
            DeprecationEntry(PackageScopedReference("olm.channel", "alpha"), "alpha is retired"),
            DeprecationEntry(PackageScopedReference("olm.bundle", "kube-green.v0.3.0"), "too old"),
        ],
    )
    result = add_deprecations(v416, [dep])
    assert result.changed == ["kube-green"]
    validate_config(result.config)
    again = Deprecation(
        "kube-green",
        [DeprecationEntry(PackageScopedReference("olm.bundle", "kube-green.v0.3.0"), "really old")],
    )
    merged = add_deprecations(result.config, [again]).config.deprecations
    assert len(merged) == 1
    assert [(e.reference.name, e.message) for e in merged[0].entries] == [
        ("alpha", "alpha is retired"),
        ("kube-green.v0.3.0", "really old"),
    ]
    bad = Deprecation("kube-green", [DeprecationEntry(PackageScopedReference("olm.bundle", "nope"), "x")])
    with pytest.raises(CatalogError, match="bundle 'nope' for package 'kube-green': bundle not found"):
        add_deprecations(v416, [bad])
    with pytest.raises(CatalogError, match="Cannot add deprecations for ghost"):
        add_deprecations(v416, [Deprecation("ghost", [])])


def test_merge_adds_the_target_bundles_the_source_lacks(v416) -> None:
    source = remove_packages(v416, ["kube-green"]).config
    result = merge_catalogs(source, v416, "replaces")
    assert result.changed == ["kube-green"]
    assert _graph(result.config, "kube-green") == _graph(v416, "kube-green")
    validate_config(result.config)


def test_merge_deprecates_what_the_target_release_must_not_carry(v416) -> None:
    source = remove_packages(v416, ["kube-green"]).config
    result = merge_catalogs(source, v416, "replaces", keep_bundle=lambda b: b.name != "kube-green.v0.5.0")
    names = {b.name for b in result.config.bundles if b.package == "kube-green"}
    assert names == {
        "kube-green.v0.5.1",
        "kube-green.v0.5.2",
        "kube-green.v0.6.0",
        "kube-green.v0.7.0",
        "kube-green.v0.7.1",
    }
    validate_config(result.config)


def test_merge_refuses_bundles_without_digest(v416) -> None:
    target = package_config(v416, "kube-green")
    target.bundles = [
        replace(target.bundles[0], image="quay.io/example/kube-green:latest"),
        *target.bundles[1:],
    ]
    with pytest.raises(CatalogError, match="not referenced by digest"):
        merge_catalogs(remove_packages(v416, ["kube-green"]).config, target)


def test_create_empty_removes_every_operator(v416) -> None:
    result = create_empty(v416)
    assert result.removed == sorted(p.name for p in v416.packages)
    assert result.config.package_names() == set()
