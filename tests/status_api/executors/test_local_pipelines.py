"""The ``local`` executor end to end on the project's own Pipelines (``pipelines/iib-add``,
``pipelines/iib-rm``) and the embedded runner: POST add, then rm on its output, through the real
server, against the local registry; the index images read back with skopeo.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from status_api.executors.local import default_pipelines_dir
from tests.iib_steps.steps.conftest import reg_world  # noqa: F401  (module fixture)
from tests.status_api.executors.test_local import HEADER, Server, final, wait_for

pytest.importorskip("iib_steps.tekton.runner", reason="the embedded runner is not in this tree")
if not (default_pipelines_dir() / "iib-add").is_dir() or not (default_pipelines_dir() / "iib-rm").is_dir():
    pytest.skip("pipelines/iib-add and pipelines/iib-rm are not in this tree", allow_module_level=True)

ADDED = "The operator bundle(s) were successfully added to the index image"
REMOVED = "The operator(s) were successfully removed from the index image"


@pytest.fixture
def api(reg_world: Any, tmp_path: Path, sqlite_url: str) -> Iterator[Server]:  # noqa: F811
    server = Server(tmp_path, sqlite_url, workers=2, pipelines=default_pipelines_dir())
    server.env["IIB_LOCAL_STEPS_SETTINGS"] = json.dumps(yaml.safe_load(reg_world.settings.read_text()))
    server.env["IIB_INSECURE_REGISTRIES"] = reg_world.env["IIB_INSECURE_REGISTRIES"]
    server.start()
    yield server
    server.stop()


def skopeo_manifest(image: str) -> dict[str, Any]:
    if shutil.which("skopeo") is None:
        pytest.skip("skopeo is not installed")
    done = subprocess.run(
        ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{image}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def reasons(api: Server, request_id: int) -> list[tuple[str, str]]:
    return [(h["state"], h["state_reason"]) for h in reversed(api.get(request_id)["state_history"])]


def test_add_then_rm_on_its_output(api: Server, reg_world: Any) -> None:  # noqa: F811
    bundle = reg_world.bundles["dbaas-operator-0.5.0"]
    add = requests.post(
        f"{api.base}/api/v1/builds/add",
        json={"from_index": reg_world.index, "bundles": [bundle], "binary_image": reg_world.binary},
        headers={HEADER: "alice@EXAMPLE.COM"},
        timeout=30,
    )
    assert add.status_code == 201, add.text
    add_id = add.json()["id"]
    added = final(api, add_id)
    assert (added["state"], added["state_reason"]) == ("complete", ADDED), added["state_reason"]
    history = reasons(api, add_id)
    assert history[0] == ("in_progress", "The request was initiated")
    assert ("in_progress", "Resolving the bundles") in history
    assert history[-1] == ("complete", ADDED)
    assert added["index_image"] == reg_world.output(str(add_id))
    assert added["bundle_mapping"] == {"dbaas-operator": [bundle]}
    manifest = skopeo_manifest(added["index_image"])
    assert manifest["mediaType"] == "application/vnd.docker.distribution.manifest.list.v2+json"

    rm_id = api.post_rm(["kube-green"], from_index=added["index_image"], binary_image=reg_world.binary)
    removed = final(api, rm_id)
    assert (removed["state"], removed["state_reason"]) == ("complete", REMOVED), removed["state_reason"]
    assert removed["from_index_resolved"] == added["index_image_resolved"]
    skopeo_manifest(removed["index_image"])
    catalog = reg_world.catalog_of(removed["index_image"], api.journal.parent / "catalog")
    assert "kube-green" not in catalog.package_names()
    assert "dbaas-operator" in catalog.package_names()

    wait_for(
        lambda: not list((Path(api.env["IIB_LOCAL_RUNS_DIR"]) / "jobs").glob("*.json")), "the runs ending"
    )
    log = requests.get(f"{api.base}/api/v1/builds/{rm_id}/logs", timeout=30)
    assert log.status_code == 200
    assert log.text.splitlines()[0].startswith("[rm : build] ")
