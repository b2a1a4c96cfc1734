"""The example operators under examples/ render as opm would and add up to a valid catalog."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.declcfg import DeclarativeConfig
from catalog.ops import BundleToAdd, add_bundles
from catalog.render import bundle_annotations, render_bundle_dir
from catalog.validate import validate_config

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BUNDLES = sorted(p.parent.parent for p in EXAMPLES.glob("*/*/metadata/annotations.yaml"))


def _to_add(path: Path) -> BundleToAdd:
    image = f"registry.example.com/{path.parent.name}-bundle:v{path.name}"
    ann = bundle_annotations(path)
    return BundleToAdd.from_annotations(
        render_bundle_dir(path, image=image), ann.channels, ann.default_channel
    )


def test_three_packages_with_several_versions() -> None:
    packages = {p.parent.name for p in BUNDLES}
    assert packages == {"hello-operator", "tea-operator", "lamp-operator"}
    assert all(len(list((EXAMPLES / p).iterdir())) >= 2 for p in packages)


@pytest.mark.parametrize("path", BUNDLES, ids=lambda p: f"{p.parent.name}-{p.name}")
def test_bundle_renders(path: Path) -> None:
    bundle = render_bundle_dir(path)
    assert bundle.package == path.parent.name
    assert bundle.name == f"{path.parent.name}.v{path.name}"
    types = {p.type for p in bundle.properties}
    assert {"olm.package", "olm.gvk", "olm.bundle.object"} <= types


def test_all_versions_add_up_to_a_valid_catalog() -> None:
    result = add_bundles(DeclarativeConfig(), [_to_add(p) for p in BUNDLES])
    validate_config(result.config)
    channels = {(c.package, c.name): c for c in result.config.channels}
    hello = {e.name: e for e in channels["hello-operator", "alpha"].entries}
    assert hello["hello-operator.v0.2.0"].replaces == "hello-operator.v0.1.0"
    assert hello["hello-operator.v0.3.0"].skip_range == ">=0.1.0 <0.3.0"
    assert ("tea-operator", "stable-v2") in channels
    tea = next(p for p in result.config.packages if p.name == "tea-operator")
    assert tea.default_channel == "stable-v2"
