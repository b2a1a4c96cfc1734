"""``iib-step add --greenwave-config``: the bundles are gated after they are resolved, before building."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from iib_steps.images.build import build_bundle_image
from tests.conftest import TESTDATA
from tests.fixtures.greenwave import Greenwave, missing
from tests.iib_steps.steps.conftest import World

pytestmark = pytest.mark.slow

CONFIG = {
    "decision_context": "iib_cvp_redhat_operator",
    "product_version": "cvp",
    "subject_type": "koji_build",
}
NVR = "dbaas-operator-bundle-container-0.5.0-12"


def _gated_world(world: World, greenwave: Greenwave, tmp_path: Path) -> tuple[str, Path]:
    bundle = world.ref("gated-dbaas-operator-bundle:v0.5.0")
    labels = {"com.redhat.component": "dbaas-operator-bundle-container", "version": "0.5.0", "release": "12"}
    build_bundle_image(
        TESTDATA / "bundles" / "dbaas-operator-0.5.0", [bundle], labels=labels, client=world.client
    )
    settings = yaml.safe_load(world.settings.read_text())
    settings["greenwave_url"] = greenwave.url
    path = tmp_path / "settings.yaml"
    path.write_text(yaml.safe_dump(settings))
    return bundle, path


def _add(world: World, bundle: str, settings: Path, request_json: Path, check: bool) -> Any:
    return world.run(
        "add",
        "--config",
        str(settings),
        "--request-id",
        world.next_id(),
        "--from-index",
        world.index,
        "--bundles",
        bundle,
        "--greenwave-config",
        json.dumps(CONFIG),
        "--request-json",
        str(request_json),
        check=check,
    )


def test_unsatisfied_policy_fails_the_add_before_building(
    oci_world: World, greenwave: Greenwave, tmp_path: Path
) -> None:
    bundle, settings = _gated_world(oci_world, greenwave, tmp_path)
    greenwave.decisions = {NVR: (False, missing(NVR, "cvp.redhat.detailed"))}
    proc = _add(oci_world, bundle, settings, tmp_path / "request.json", check=False)
    assert proc.returncode == 1, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, proc.stderr
    assert errors[0].startswith("error: Unsatisfied Greenwave policy for " + oci_world.base)
    assert errors[0].endswith(
        "with decision_context: iib_cvp_redhat_operator, product_version: cvp, subject_type: koji_build"
        " and test cases: cvp.redhat.detailed"
    )
    assert greenwave.received == [{**CONFIG, "subject_identifier": NVR}]
    assert "Building the index image" not in proc.stderr


def test_satisfied_policy_lets_the_add_complete(
    oci_world: World, greenwave: Greenwave, tmp_path: Path
) -> None:
    bundle, settings = _gated_world(oci_world, greenwave, tmp_path)
    greenwave.decisions = {NVR: (True, [])}
    proc = _add(oci_world, bundle, settings, tmp_path / "request.json", check=True)
    assert "Building the index image" in proc.stderr
    assert greenwave.received == [{**CONFIG, "subject_identifier": NVR}]
    assert json.loads((tmp_path / "request.json").read_text())["state"] == "complete"
