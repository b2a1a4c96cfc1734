"""Every testdata/graph-modes scenario replayed with our add, rm and deprecate, against opm's result."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog.validate import validate_config
from catalog.write import write_fs
from tests.catalog.ops.fbcjson import blobs_by_package, read_catalog_dir
from tests.catalog.ops.scenarios import opm_error_text, replay
from tests.conftest import TESTDATA

SCENARIOS = TESTDATA / "graph-modes"
NAMES = sorted(p.name for p in SCENARIOS.iterdir() if p.is_dir()) if SCENARIOS.is_dir() else []
WITH_EXPECTED = [n for n in NAMES if (SCENARIOS / n / "expected").is_dir()]
# opm refused these requests by rule: we refuse them the same way.
REFUSED_BY_RULE = [
    "deprecate-head-refused",
    "ecr-shuffled-replaces",
    "kube-green-shuffled-replaces",
    "readd-present-bundle",
    "rm-unknown-package",
]
# opm failed these valid semver-skippatch requests through a defect ("Invalid graph: some
# (non-bottom) nodes ..."): skipping the lower patches dropped the link to older minors.
OPM_DEFECTS = [
    "kube-green-ascending-semver-skippatch",
    "kube-green-one-batch-semver-skippatch",
    "kube-green-shuffled-semver-skippatch",
]


def test_every_scenario_is_covered(testdata: Path) -> None:
    assert sorted(WITH_EXPECTED + REFUSED_BY_RULE + OPM_DEFECTS) == NAMES


@pytest.mark.parametrize("name", WITH_EXPECTED)
def test_same_catalog_as_opm(testdata: Path, name: str, tmp_path: Path) -> None:
    outcome = replay(testdata, SCENARIOS / name)
    assert outcome.failed_step is None, outcome.error
    validate_config(outcome.config)
    expected = SCENARIOS / name / "expected"
    assert blobs_by_package(outcome.config) == read_catalog_dir(expected)
    # Written as opm writes: byte for byte the files opm migrate wrote.
    write_fs(outcome.config, tmp_path)
    ours = {str(p.relative_to(tmp_path)): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    theirs = {str(p.relative_to(expected)): p.read_bytes() for p in expected.rglob("*") if p.is_file()}
    assert ours == theirs


@pytest.mark.parametrize("name", REFUSED_BY_RULE)
def test_same_refusal_as_opm(testdata: Path, name: str) -> None:
    steps = json.loads((SCENARIOS / name / "scenario.json").read_text())["steps"]
    failing = next(i for i, s in enumerate(steps) if "error" in s)
    outcome = replay(testdata, SCENARIOS / name)
    assert outcome.failed_step == failing
    assert outcome.error and outcome.error in opm_error_text(steps[failing])


def _chain(outcome, channel: str = "alpha") -> dict[str, tuple[str, list[str]]]:
    ch = next(c for c in outcome.config.channels if c.name == channel)
    short = lambda n: n.removeprefix("kube-green.v")  # noqa: E731
    return {short(e.name): (short(e.replaces), [short(s) for s in e.skips]) for e in ch.entries or []}


@pytest.mark.parametrize("name", OPM_DEFECTS)
def test_valid_graph_where_opm_failed_through_a_defect(testdata: Path, name: str) -> None:
    """opm lost the chain below a skipped patch release and refused; we keep every bundle reachable."""
    steps = json.loads((SCENARIOS / name / "scenario.json").read_text())["steps"]
    assert "Invalid graph: some (non-bottom) nodes" in steps[-1]["error"]
    outcome = replay(testdata, SCENARIOS / name)
    assert outcome.failed_step is None, outcome.error
    validate_config(outcome.config)
    added = {i.rsplit(":", 1)[1] for s in steps for i in s["bundles_or_packages"]}
    chain = _chain(outcome)
    assert set(chain) == added
    highest = max(added, key=lambda v: tuple(int(x) for x in v.split(".")))
    assert all(highest not in (r, *s) for r, s in chain.values())  # the highest version is the head


def test_skippatch_defect_case_keeps_the_older_minor_reachable(testdata: Path) -> None:
    outcome = replay(testdata, SCENARIOS / "kube-green-ascending-semver-skippatch")
    assert _chain(outcome) == {
        "0.3.0": ("", []),
        "0.3.1": ("0.3.0", []),
        "0.4.0": ("", []),
        "0.4.1": ("0.3.1", ["0.4.0"]),  # opm made 0.4.1 replace only 0.4.0 and lost 0.3.x
    }


@pytest.mark.parametrize("name", ["kube-green-ascending-replaces", "global-hub-ascending-semver-skippatch"])
def test_same_catalog_with_our_own_bundle_renderer(testdata: Path, name: str, monkeypatch) -> None:
    """The same scenarios with bundles rendered by catalog.render instead of opm's golden output."""
    from catalog.ops import BundleToAdd
    from catalog.render import bundle_annotations, render_bundle_dir
    from tests.catalog.ops import scenarios

    def ours(testdata: Path, image: str) -> BundleToAdd:
        package, version = image.rsplit("/", 1)[1].split(":")
        path = testdata / "bundles" / f"{package}-{version}"
        ann = bundle_annotations(path)
        return BundleToAdd.from_annotations(
            render_bundle_dir(path, image=image), ann.channels, ann.default_channel
        )

    monkeypatch.setattr(scenarios, "bundle_to_add", ours)
    outcome = replay(testdata, SCENARIOS / name)
    assert outcome.failed_step is None, outcome.error
    assert blobs_by_package(outcome.config) == read_catalog_dir(SCENARIOS / name / "expected")
