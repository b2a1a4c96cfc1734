"""``iib-step report`` (the iib-report Task) against the real status API on loopback."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from status_api.db import upgrade
from tests.status_api.server import running_api

STEP = str(Path(sys.executable).with_name("iib-step"))
USER_TOKEN = "user-token-1"
WORKER_TOKEN = "worker-token-1"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('api')}/iib.db"
    upgrade(url)
    env = {
        "SQLALCHEMY_DATABASE_URI": url,
        "IIB_API_TOKENS": json.dumps({USER_TOKEN: "release@EXAMPLE.COM", WORKER_TOKEN: "worker@EXAMPLE.COM"}),
        "IIB_WORKER_USERNAMES": '["worker@EXAMPLE.COM"]',
        "IIB_BINARY_IMAGE_CONFIG": '{"prod": {"v4.17": "registry.example.com/opm:v4.17"}}',
        "LOGIN_DISABLED": "false",
        "IIB_REQUEST_RECURSIVE_RELATED_BUNDLES_DIR": str(tmp_path_factory.mktemp("nested")),
    }
    with running_api(env) as base:
        yield f"{base}/api/v1"


def new_request(api: str) -> int:
    response = requests.post(
        f"{api}/builds/rm",
        json={"from_index": "registry.example.com/index:v4.17", "operators": ["etcd"]},
        headers={"Authorization": f"Bearer {USER_TOKEN}"},
        timeout=10,
    )
    response.raise_for_status()
    return int(response.json()["id"])


def report(
    api: str, request_id: int, *args: str, tmp_path: Path, command: str = "report"
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "token").write_text(WORKER_TOKEN)
    env = {
        "PATH": "/usr/bin:/bin",
        "IIB_STATUS_API_URL": api,
        "IIB_REQUEST_ID": str(request_id),
        "IIB_STATUS_API_TOKEN_FILE": str(tmp_path),  # a mounted Secret, as the Task's workspace gives it
        "HOME": str(tmp_path),
    }
    return subprocess.run([STEP, command, *args], env=env, capture_output=True, text=True, check=False)


def state(api: str, request_id: int) -> tuple[str, str]:
    data = requests.get(f"{api}/builds/{request_id}", timeout=10).json()
    return data["state"], data["state_reason"]


def test_a_failed_task_marks_the_request_failed_with_tekton_s_reason(api: str, tmp_path: Path) -> None:
    rid = new_request(api)
    done = report(
        api, rid, "--pipeline-status=Failed", "--task-status=Failed", "--task-reason=TaskRunTimeout",
        "--task-name=rm", tmp_path=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert state(api, rid) == ("failed", "The Tekton task 'rm' timed out (TaskRunTimeout); see its logs")


def test_a_successful_run_the_step_could_not_report_becomes_complete(api: str, tmp_path: Path) -> None:
    rid = new_request(api)
    done = report(api, rid, "--pipeline-status=Succeeded", "--task-status=Succeeded", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert state(api, rid)[0] == "complete"


def test_a_request_the_step_already_finished_keeps_its_reason(api: str, tmp_path: Path) -> None:
    rid = new_request(api)
    requests.patch(
        f"{api}/builds/{rid}",
        json={"state": "failed", "state_reason": "Bundle x is missing"},
        headers={"Authorization": f"Bearer {WORKER_TOKEN}"},
        timeout=10,
    ).raise_for_status()
    done = report(api, rid, "--pipeline-status=Failed", "--task-status=Failed", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "already failed" in done.stdout
    assert state(api, rid) == ("failed", "Bundle x is missing")


def test_an_unknown_request_is_one_line(api: str, tmp_path: Path) -> None:
    done = report(api, 999999, "--pipeline-status=Failed", tmp_path=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "error: the status API has no request 999999; check the request-id param"
    ]


def test_without_a_status_api_nothing_is_reported(tmp_path: Path) -> None:
    done = subprocess.run(
        [STEP, "report", "--pipeline-status=Failed", "--status-api-url="],
        capture_output=True, text=True, check=False, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == 0
    assert "nothing to report" in done.stdout


def test_the_upload_step_puts_the_nested_bundles_the_build_step_wrote(api: str, tmp_path: Path) -> None:
    response = requests.post(
        f"{api}/builds/recursive-related-bundles",
        json={"parent_bundle_image": "quay.io/ns/parent-bundle:1"},
        headers={"Authorization": f"Bearer {USER_TOKEN}"},
        timeout=10,
    )
    response.raise_for_status()
    rid = int(response.json()["id"])
    listing = tmp_path / "nested-bundles.json"
    listing.write_text(json.dumps(["quay.io/ns/child-bundle@sha256:" + "a" * 64]))
    args = ("--kind=nested-bundles", f"--file={listing}")
    done = report(api, rid, *args, tmp_path=tmp_path, command="upload-artifact")
    assert done.returncode == 0, done.stderr
    requests.patch(  # the build step finished the request; the file is served once it is final
        f"{api}/builds/{rid}",
        json={"state": "complete", "state_reason": "The request completed successfully"},
        headers={"Authorization": f"Bearer {WORKER_TOKEN}"},
        timeout=10,
    ).raise_for_status()
    served = requests.get(f"{api}/builds/{rid}/nested-bundles", timeout=10)
    assert served.status_code == 200 and served.json() == json.loads(listing.read_text())
    missing = report(api, rid, "--kind=nested-bundles", f"--file={tmp_path / 'none.json'}", tmp_path=tmp_path,
                     command="upload-artifact")  # fmt: skip
    assert missing.returncode == 0 and "nothing to upload" in missing.stdout
    wrong = report(api, new_request(api), *args, tmp_path=tmp_path, command="upload-artifact")
    assert (
        wrong.returncode == 1
        and wrong.stderr.count("\n") == 1
        and "refused the nested-bundles upload" in wrong.stderr
    )
