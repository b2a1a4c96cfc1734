"""The step image that ``make image`` builds: its metadata, its contents, and that it runs.

Slow: the first session on a machine builds the Debian base (minutes) and the image; later ones
reuse them while their inputs are unchanged.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.fixtures.step_image import (
    ROOT,
    VERSION,
    StepImage,
    podman_run,
    require_oci_runtime,
    runc_run,
    unpack_runc_bundle,
)

# The first test of a session may build the Debian base and the image: minutes on a busy machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def _skopeo(*args: str) -> dict:
    return json.loads(subprocess.run(["skopeo", *args], check=True, capture_output=True, text=True).stdout)


def test_skopeo_reads_labels_user_and_entrypoint(step_image: StepImage) -> None:
    inspected = _skopeo("inspect", step_image.ref)
    assert inspected["Digest"] == step_image.digest
    labels = inspected["Labels"]
    assert labels["org.opencontainers.image.version"] == VERSION
    assert labels["org.opencontainers.image.title"] == "iib-step"
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    if head.returncode == 0:
        assert labels["org.opencontainers.image.revision"] == head.stdout.strip()
    for key in ("source", "description", "licenses"):
        assert labels[f"org.opencontainers.image.{key}"]
    config = _skopeo("inspect", "--config", step_image.ref)["config"]
    assert config["User"] == "65532:65532"
    assert config["Entrypoint"] == ["iib-step"]


def test_layout_is_tagged_with_the_version(step_image: StepImage) -> None:
    index = json.loads((step_image.layout / "index.json").read_text())
    tags = {m["annotations"]["org.opencontainers.image.ref.name"]: m["digest"] for m in index["manifests"]}
    assert tags == {VERSION: step_image.digest}


def test_help_runs_as_65532_in_podman(step_image: StepImage, tmp_path: Path) -> None:
    require_oci_runtime("podman", step_image, tmp_path)
    shown = podman_run(step_image, ["--help"])
    assert shown.returncode == 0, shown.stderr
    assert "Usage: iib-step" in shown.stdout
    assert shown.stderr == ""
    whoami = podman_run(step_image, ["-u"], entrypoint="/usr/bin/id")
    assert whoami.stdout.strip() == "65532"


def test_help_runs_from_a_runc_bundle(step_image: StepImage, tmp_path: Path) -> None:
    require_oci_runtime("runc", step_image, tmp_path)
    bundle = unpack_runc_bundle(step_image, tmp_path / "bundle")
    shown = runc_run(bundle, ["add", "--help"])
    assert shown.returncode == 0, shown.stderr
    assert "--from-index" in shown.stdout
    ids = runc_run(bundle, ["/usr/bin/id"], entrypoint=False)
    assert ids.stdout.startswith("uid=65532(iib) gid=65532(iib)")


def test_image_holds_the_runtime_only(step_image: StepImage, tmp_path: Path) -> None:
    require_oci_runtime("runc", step_image, tmp_path)
    bundle = unpack_runc_bundle(step_image, tmp_path / "bundle")
    probe = (
        "import importlib.util, json; "
        "print(json.dumps({m: importlib.util.find_spec(m) is not None "
        "for m in ('iib_steps', 'status_api', 'catalog', 'litestar', 'pytest', 'iiblib', 'pip', 'ruff')}))"
    )
    found = runc_run(bundle, ["/opt/iib/bin/python", "-c", probe], entrypoint=False)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout) == {
        "iib_steps": True,
        "status_api": True,
        "catalog": True,
        "litestar": True,
        "pytest": False,
        "iiblib": False,
        "pip": False,
        "ruff": False,
    }
    # Package data travels in the wheel: the status API's migrations are there.
    assert list((bundle / "rootfs" / "opt" / "iib").glob("lib/python3*/site-packages/status_api/migrations"))
