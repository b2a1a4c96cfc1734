"""Removing packages and deprecating (truncating) bundles, on catalogs built from real bundles."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from catalog.declcfg import DeclarativeConfig, Deprecation, DeprecationEntry, Meta, PackageScopedReference
from catalog.errors import CatalogError
from catalog.ops import add_bundles, deprecate_bundles, remove_packages
from catalog.validate import validate_config
from tests.catalog.ops.scenarios import bundle_to_add

ECR = "quay.io/example/bundles/ecr-secret-operator:{}"
KG = "quay.io/example/bundles/kube-green:{}"


@pytest.fixture
def catalog(testdata: Path) -> DeclarativeConfig:
    """kube-green 0.3.0 → 0.5.2 (replaces) and ecr-secret-operator in three channels (semver)."""
    kg = [
        bundle_to_add(testdata, KG.format(v)) for v in ("0.3.0", "0.3.1", "0.4.0", "0.4.1", "0.5.0", "0.5.1")
    ]
    cfg = add_bundles(DeclarativeConfig(), kg, "replaces").config
    ecr = [bundle_to_add(testdata, ECR.format(v)) for v in ("0.4.0", "0.3.2", "0.4.1", "0.5.0", "0.6.0")]
    return add_bundles(cfg, ecr, "semver").config


def test_remove_takes_every_blob_of_the_package(catalog: DeclarativeConfig) -> None:
    catalog.deprecations.append(
        Deprecation("kube-green", [DeprecationEntry(PackageScopedReference("olm.package"), "gone")])
    )
    catalog.others.append(
        Meta("custom.schema", "kube-green", "x", {"schema": "custom.schema", "package": "kube-green"})
    )
    result = remove_packages(catalog, ["kube-green"])
    assert result.removed == ["kube-green"] and result.changed == []
    assert result.config.package_names() == {"ecr-secret-operator"}
    validate_config(result.config)


def test_remove_unknown_package_is_opms_error(catalog: DeclarativeConfig) -> None:
    with pytest.raises(
        CatalogError, match=r"^error removing operator package nope: no package found for packagename nope$"
    ):
        remove_packages(catalog, ["kube-green", "nope"])
    assert remove_packages(catalog, ["nope"], missing_ok=True).notes


def test_deprecating_a_middle_bundle_truncates_below_it(catalog: DeclarativeConfig) -> None:
    result = deprecate_bundles(catalog, [KG.format("0.4.0")])
    assert result.changed == ["kube-green"]
    alpha = next(c for c in result.config.channels if c.package == "kube-green")
    assert [(e.name, e.replaces) for e in alpha.entries or []] == [
        ("kube-green.v0.4.1", "kube-green.v0.4.0"),  # the tail now ends on the deprecated bundle
        ("kube-green.v0.5.0", "kube-green.v0.4.1"),
        ("kube-green.v0.5.1", "kube-green.v0.5.0"),
    ]
    names = {b.name for b in result.config.bundles if b.package == "kube-green"}
    assert names == {"kube-green.v0.4.1", "kube-green.v0.5.0", "kube-green.v0.5.1"}
    validate_config(result.config)


def test_deprecating_the_head_of_another_channel_removes_that_channel(catalog: DeclarativeConfig) -> None:
    result = deprecate_bundles(catalog, [ECR.format("0.4.1")])
    ecr = {c.name for c in result.config.channels if c.package == "ecr-secret-operator"}
    assert ecr == {"alpha", "v0.3"}
    assert "ecr-secret-operator.v0.4.0" not in {b.name for b in result.config.bundles}


def test_default_channel_head_needs_package_removal(catalog: DeclarativeConfig) -> None:
    with pytest.raises(CatalogError, match="Bundle deprecation causing default channel removal"):
        deprecate_bundles(catalog, [ECR.format("0.6.0")])
    with pytest.raises(
        CatalogError,
        match=r"must deprecate quay\.io/example/bundles/ecr-secret-operator:0\.3\.2, head of channel v0\.3",
    ):
        deprecate_bundles(catalog, [ECR.format("0.6.0")], allow_package_removal=True)
    heads = [ECR.format(v) for v in ("0.6.0", "0.4.1", "0.3.2")]
    result = deprecate_bundles(catalog, heads, allow_package_removal=True)
    assert result.removed == ["ecr-secret-operator"]
    assert result.config.package_names() == {"kube-green"}


def test_unknown_bundle_image_is_refused_unless_ignored(catalog: DeclarativeConfig) -> None:
    with pytest.raises(CatalogError, match="missing from registry"):
        deprecate_bundles(catalog, ["quay.io/x/y:1"])
    assert deprecate_bundles(catalog, ["quay.io/x/y:1"], ignore_missing=True).changed == []


def test_truncation_drops_deprecation_entries_of_bundles_it_removed(catalog: DeclarativeConfig) -> None:
    catalog = replace(
        catalog,
        deprecations=[
            Deprecation(
                "kube-green",
                [
                    DeprecationEntry(PackageScopedReference("olm.bundle", "kube-green.v0.3.0"), "old"),
                    DeprecationEntry(PackageScopedReference("olm.bundle", "kube-green.v0.5.0"), "buggy"),
                ],
            )
        ],
    )
    validate_config(catalog)
    result = deprecate_bundles(catalog, [KG.format("0.4.0")])
    assert result.notes == [
        "deprecation entry for olm.bundle kube-green.v0.3.0 of kube-green dropped: it is gone"
    ]
    assert [e.reference.name for e in result.config.deprecations[0].entries] == ["kube-green.v0.5.0"]
    validate_config(result.config)
