"""The container runtime: steps in their image through runc, on a busybox image the test builds
(skips with the reason where runc, root or /bin/busybox is missing)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from iib_steps.tekton.runner import run_pipeline, run_task
from iib_steps.tekton.runner.sources import REPO_ROOT
from tests.iib_steps.tekton.conftest import pipeline
from tests.iib_steps.tekton.oci_images import BUSYBOX, busybox_image


@pytest.fixture(scope="module")
def busybox(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    if shutil.which("runc") is None:
        pytest.skip("runc is missing: apt-get install runc (scripts/install-system-deps.sh)")
    if os.geteuid() != 0:
        pytest.skip("the container runtime runs runc as root")
    if not BUSYBOX.exists():
        pytest.skip(f"{BUSYBOX} is missing: apt-get install busybox-static (scripts/install-system-deps.sh)")
    root = tmp_path_factory.mktemp("images")
    return {"busybox": busybox_image(root / "busybox"), "cache": str(root / "cache")}


def _task(*steps: dict, **spec) -> dict:
    return {
        "apiVersion": "tekton.dev/v1",
        "kind": "Task",
        "metadata": {"name": "ct"},
        "spec": {"steps": list(steps), **spec},
    }


def test_a_step_runs_in_its_image_with_mounts_env_and_workdir(busybox, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("IIB_RUNNER_CACHE", busybox["cache"])
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "in.txt").write_text("from the host\n")
    task = _task(
        {
            "name": "inside",
            "image": "example.com/tools/busybox:1",
            "command": [
                "sh",
                "-c",
                'printf "%s" "$1" > $(results.echo.path); cat in.txt; echo "$IMAGE_ENV $STEP_ENV"; id -u',
                "sh",
                "$(params.value)",
            ],
            "workingDir": "$(workspaces.src.path)",
            "env": [{"name": "STEP_ENV", "value": "from-step"}],
        },
        {
            "name": "entrypoint",
            "image": "example.com/tools/busybox:1",
            "args": ["echo default entrypoint; pwd"],
        },
        params=[{"name": "value"}],
        results=[{"name": "echo"}],
        workspaces=[{"name": "src"}],
    )
    nasty = "it's $(params.value) `id`; ü\nline"
    result = run_task(
        task,
        params={"value": nasty},
        workspaces={"src": shared},
        runtime="container",
        image_map={"example.com/tools/busybox": busybox["busybox"]},
        runs_dir=tmp_path / "runs",
    )
    assert result.succeeded, result.message
    assert result.results == {"echo": nasty}
    log = (result.folder / "inside.log").read_text().splitlines()
    assert log == ["from the host", "from-image from-step", "0"]
    assert (result.folder / "entrypoint.log").read_text().splitlines() == ["default entrypoint", "/"]


def test_a_failing_step_in_a_container_fails_the_pipeline(busybox, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("IIB_RUNNER_CACHE", busybox["cache"])
    spec = pipeline(
        [
            {
                "name": "ok",
                "taskSpec": {
                    "steps": [{"name": "s", "image": "bb", "script": "echo fine > /tmp/x; cat /tmp/x"}]
                },
            },
            {
                "name": "bad",
                "runAfter": ["ok"],
                "taskSpec": {
                    "steps": [
                        {"name": "s", "image": "bb", "script": "echo 'error: no such bundle' >&2; exit 4"}
                    ]
                },
            },
        ]
    )
    result = run_pipeline(
        spec, runtime="container", image_map={"bb": busybox["busybox"]}, runs_dir=tmp_path / "runs"
    )
    assert result.reason == "Failed"
    assert "error: no such bundle" in result.message
    assert result.taskruns["bad"]["status"]["steps"][0]["terminated"]["exitCode"] == 4
    ok_log = result.folder / f"{result.name}-ok" / "s.log"
    assert ok_log.read_text().strip() == "fine"


def test_an_unknown_image_is_one_clear_line(busybox, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("IIB_RUNNER_CACHE", busybox["cache"])
    task = _task({"name": "s", "image": f"oci:{tmp_path}/nothing", "command": ["true"]})
    result = run_task(task, runtime="container", runs_dir=tmp_path / "runs")
    assert not result.succeeded
    assert "cannot read the step image" in result.message
    assert "\n" not in result.message


@pytest.fixture(scope="module")
def step_image_ref(busybox, request: pytest.FixtureRequest) -> str:
    """The step image's layout: IIB_TEST_STEP_IMAGE (PATH[:TAG]), else the session's step image (built
    from this tree with `make image` once, tests/fixtures/step_image.py)."""
    given = os.environ.get("IIB_TEST_STEP_IMAGE")
    if given:
        return f"oci:{given.removeprefix('oci:')}"
    return f"oci:{request.getfixturevalue('step_image_layout')}"


def test_iib_step_runs_in_the_step_image_and_gets_params_verbatim(
    step_image_ref: str, tmp_path: Path
) -> None:
    nasty = '/nope/it\'s "q" $(params.path) `id`; ü'
    bundle = REPO_ROOT / "examples" / "hello-operator" / "0.1.0"
    task = _task(
        {
            "name": "render",
            "image": "quay.io/iib-tekton/iib-step:0.1.0",
            "command": ["iib-step"],
            "args": ["catalog", "render", "$(workspaces.bundle.path)", "-o", "json"],
            "securityContext": {"runAsUser": 65532},
        },
        {
            "name": "validate",
            "image": "quay.io/iib-tekton/iib-step:0.1.0",
            "args": ["catalog", "validate", "$(params.path)"],
        },
        params=[{"name": "path"}],
        workspaces=[{"name": "bundle", "readOnly": True}],
    )
    result = run_task(
        task,
        params={"path": nasty},
        workspaces={"bundle": bundle},
        runtime="container",
        image_map={"quay.io/iib-tekton/iib-step": step_image_ref},
        runs_dir=tmp_path,
    )
    assert '"schema": "olm.bundle"' in (result.folder / "render.log").read_text()
    assert result.reason == "Failed"
    assert (
        result.message
        == f'"step-validate" exited with code 1: error: stat {nasty}: no such file or directory'
    )
