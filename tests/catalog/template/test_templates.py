"""Basic and semver templates: a real catalog round-trips through a basic template; the semver
template's channels follow opm's (v1.61+) linking, checked on opm's documented example."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from catalog.declcfg import Bundle, DeclarativeConfig, Property
from catalog.errors import CatalogError
from catalog.load import load_fs
from catalog.ops import package_config
from catalog.template import render_template
from catalog.template.semver import parse_semver_template
from catalog.validate import validate_config
from catalog.write import blob_dict


@pytest.fixture(scope="module")
def sample(testdata: Path) -> DeclarativeConfig:
    return load_fs(testdata / "catalogs" / "community-v4.16-sample")


def _renderer(bundles: list[Bundle]):
    by_image = {b.image: b for b in bundles}

    def render(image: str) -> DeclarativeConfig:
        if image not in by_image:
            raise CatalogError(f"cannot render {image}")
        return DeclarativeConfig(bundles=[by_image[image]])

    return render


def _as_basic_template(cfg: DeclarativeConfig) -> dict:
    entries = [blob_dict(p) for p in cfg.packages] + [blob_dict(c) for c in cfg.channels]
    entries += [{"schema": "olm.bundle", "image": b.image} for b in cfg.bundles]
    return {"schema": "olm.template.basic", "entries": entries}


@pytest.mark.parametrize("package", ["kube-green", "multicluster-global-hub-operator", "shipwright-operator"])
def test_basic_template_of_a_real_catalog_renders_back_to_it(sample: DeclarativeConfig, package: str) -> None:
    original = package_config(sample, package)
    out = render_template(_as_basic_template(original), _renderer(original.bundles))
    validate_config(out)
    assert [blob_dict(x) for x in out.packages] == [blob_dict(x) for x in original.packages]
    assert [blob_dict(x) for x in out.channels] == [blob_dict(x) for x in original.channels]
    assert sorted(b.name for b in out.bundles) == sorted(b.name for b in original.bundles)


def test_basic_template_bundles_must_be_image_references(sample: DeclarativeConfig) -> None:
    pkg = package_config(sample, "kube-green")
    template = _as_basic_template(pkg)
    template["entries"][-1]["package"] = "kube-green"
    with pytest.raises(CatalogError, match="unexpected fields present in basic template bundle"):
        render_template(template, _renderer(pkg.bundles))


# opm's documented example (alpha/template/semver/README.md): its bundles and the graph it shows.
CANDIDATE = [
    "0.1.0",
    "0.1.1",
    "0.1.2",
    "0.1.3",
    "0.2.0",
    "0.2.1",
    "0.2.2",
    "0.3.0",
    "1.0.0",
    "1.0.1",
    "1.1.0",
]
FAST = ["0.2.1", "0.2.2", "0.3.0", "1.0.1", "1.1.0"]
STABLE = ["1.0.1"]


def _testoperator() -> tuple[dict, list[Bundle]]:
    bundles = [
        Bundle(
            name=f"testoperator.v{v}",
            package="testoperator",
            image=f"quay.io/example/testoperator:v{v}",
            properties=[Property("olm.package", {"packageName": "testoperator", "version": v})],
        )
        for v in CANDIDATE
    ]
    doc = {
        "Schema": "olm.semver",  # keys are matched case-insensitively, as real templates write them
        "Candidate": {"Bundles": [{"Image": f"quay.io/example/testoperator:v{v}"} for v in CANDIDATE]},
        "Fast": {"Bundles": [{"Image": f"quay.io/example/testoperator:v{v}"} for v in FAST]},
        "Stable": {"Bundles": [{"Image": f"quay.io/example/testoperator:v{v}"} for v in STABLE]},
    }
    return doc, bundles


def _graph(cfg: DeclarativeConfig) -> dict[str, list[tuple[str, str, list[str]]]]:
    cut = lambda n: n.removeprefix("testoperator.v")  # noqa: E731
    return {
        c.name: [(cut(e.name), cut(e.replaces), [cut(s) for s in e.skips]) for e in c.entries or []]
        for c in cfg.channels
    }


def test_semver_template_major_channels() -> None:
    doc, bundles = _testoperator()
    doc["GenerateMajorChannels"] = True
    out = render_template(doc, _renderer(bundles))
    validate_config(out)
    assert out.packages[0].default_channel == "stable-v1"
    old = ["0.1.0", "0.1.1", "0.1.2"]
    assert _graph(out) == {
        "candidate-v0": [
            ("0.1.0", "", []),
            ("0.1.1", "", []),
            ("0.1.2", "", []),
            ("0.1.3", "", old),
            ("0.2.0", "", []),
            ("0.2.1", "", []),
            ("0.2.2", "0.1.3", [*old, "0.2.0", "0.2.1"]),
            ("0.3.0", "0.2.2", [*old, "0.1.3", "0.2.0", "0.2.1"]),
        ],
        "candidate-v1": [("1.0.0", "", []), ("1.0.1", "", ["1.0.0"]), ("1.1.0", "1.0.1", ["1.0.0"])],
        "fast-v0": [("0.2.1", "", []), ("0.2.2", "", ["0.2.1"]), ("0.3.0", "0.2.2", ["0.2.1"])],
        "fast-v1": [("1.0.1", "", []), ("1.1.0", "1.0.1", [])],
        "stable-v1": [("1.0.1", "", [])],
    }


def test_semver_template_minor_channels_by_default() -> None:
    doc, bundles = _testoperator()
    out = render_template(doc, _renderer(bundles))
    validate_config(out)
    assert out.packages[0].default_channel == "stable-v1.0"
    graph = _graph(out)
    assert graph["candidate-v0.2"] == [
        ("0.2.0", "", []),
        ("0.2.1", "", []),
        ("0.2.2", "0.1.3", ["0.1.0", "0.1.1", "0.1.2", "0.2.0", "0.2.1"]),
    ]
    assert graph["candidate-v1.1"] == [("1.1.0", "1.0.1", ["1.0.0"])]
    assert graph["fast-v0.3"] == [("0.3.0", "0.2.2", ["0.2.1"])]
    assert sorted(graph) == [
        "candidate-v0.1",
        "candidate-v0.2",
        "candidate-v0.3",
        "candidate-v1.0",
        "candidate-v1.1",
        "fast-v0.2",
        "fast-v0.3",
        "fast-v1.0",
        "fast-v1.1",
        "stable-v1.0",
    ]


def test_semver_template_on_real_bundles_gets_icon_and_description(testdata: Path) -> None:
    from tests.catalog.ops.scenarios import bundle_to_add

    versions = ["0.4.0", "0.4.1", "0.5.0", "0.5.1", "0.5.2", "0.6.0"]
    images = [f"quay.io/example/bundles/kube-green:{v}" for v in versions]
    bundles = [bundle_to_add(testdata, i).bundle for i in images]
    doc = {"schema": "olm.semver", "stable": {"bundles": [{"image": i} for i in images]}}
    out = render_template(doc, _renderer(bundles))
    validate_config(out)
    pkg = out.packages[0]
    assert pkg.default_channel == "stable-v0.6"
    assert pkg.description and pkg.icon is not None
    six = next(c for c in out.channels if c.name == "stable-v0.6")
    assert [(e.replaces, e.skips) for e in six.entries or []] == [
        (
            "kube-green.v0.5.2",
            ["kube-green.v0.4.0", "kube-green.v0.4.1", "kube-green.v0.5.0", "kube-green.v0.5.1"],
        )
    ]


def test_semver_template_refusals() -> None:
    doc, bundles = _testoperator()
    with pytest.raises(CatalogError, match='unknown field "Bogus"'):
        parse_semver_template({**doc, "Bogus": 1})
    with pytest.raises(CatalogError, match="DefaultChannelTypePreference set to 'major'"):
        parse_semver_template({**doc, "defaultChannelTypePreference": "major"})
    other = replace(
        bundles[1], properties=[Property("olm.package", {"packageName": "other", "version": "0.1.1"})]
    )
    with pytest.raises(CatalogError, match='does not belong to this package: "testoperator"'):
        render_template(doc, _renderer([bundles[0], other, *bundles[2:]]))
    with pytest.raises(CatalogError, match="unknown template schema"):
        render_template({"schema": "olm.template.substitutes"}, _renderer(bundles))
