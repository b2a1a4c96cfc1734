"""The ``kubernetes`` executor through the API, with the real ``kubernetes`` client (from a kubeconfig)
against the loopback Kubernetes API: PipelineRuns created (valid against Tekton's CRD schema),
routed per user, watched and recorded, their pods' step logs stored, cancelled.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from status_api.app import create_app
from status_api.models import requests
from status_api.pipelinerun import RunOutcome
from status_api.storage import LOGS, Kind, LocalStorage
from tests.conftest import SHARED, need_shared
from tests.fixtures.kubernetes import LoopbackKubernetes
from tests.status_api import samples
from tests.status_api.conftest import base_settings, user, worker

ALICE, BOB = "alice@EXAMPLE.COM", "bob@EXAMPLE.COM"
ADD = {
    "from_index": "registry.example.com/index:v4.17",
    "bundles": ["quay.io/ns/etcd-bundle:0.9.4"],
    "binary_image": "registry.example.com/opm:v4.17",
    "overwrite_from_index": True,
    "overwrite_from_index_token": "alice:hunter2",
}
RM = {
    "from_index": "registry.example.com/index:v4.17",
    "operators": ["etcd"],
    "binary_image": "registry.example.com/opm:v4.17",
}
BUNDLE = "quay.io/iib/pipelines@" + samples.DIGEST


def _schema() -> dict[str, Any]:
    return json.loads(need_shared(SHARED / "tekton-schemas" / "PipelineRun-v1.json").read_text())


@pytest.fixture
def kube(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackKubernetes]:
    api = LoopbackKubernetes(_schema())
    api.start()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "loop", "cluster": {"server": api.url}}],
        "users": [{"name": "iib", "user": {"token": "t"}}],
        "contexts": [{"name": "loop", "context": {"cluster": "loop", "user": "iib"}}],
        "current-context": "loop",
    }
    (tmp_path / "kubeconfig").write_text(json.dumps(config))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "kubeconfig"))
    yield api
    api.stop()


@pytest.fixture
def k8s_client(kube: LoopbackKubernetes, db_url: str, tmp_path: Path) -> Iterator[TestClient]:
    settings = base_settings(
        db_url,
        IIB_EXECUTOR="kubernetes",
        IIB_KUBERNETES_NAMESPACE="iib",
        IIB_KUBERNETES_SERVICE_ACCOUNT="iib-pipeline",
        IIB_PIPELINE_RESOLVER="bundles",
        IIB_PIPELINE_BUNDLE=BUNDLE,
        IIB_PIPELINE_WORKSPACES={
            "steps-config": {"configMap": {"name": "iib-steps-config"}},
            "registry-credentials": {"secret": {"secretName": "iib-registry-auth"}},
        },
        IIB_PIPELINE_TIMEOUT="2h0m0s",
        IIB_STATUS_API_URL="http://iib-status-api.iib.svc:8080/api/v1",
        IIB_USER_TO_QUEUE={f"SERIAL:{ALICE}": "overwrites"},
        IIB_KUBERNETES_QUEUES={
            "overwrites": {"namespace": "iib-serial", "service_account": "iib-overwriter"}
        },
        IIB_REQUEST_LOGS_DIR=str(tmp_path / "logs"),
    )
    with TestClient(create_app(settings), base_url="http://iib.example.com") as client:
        yield client
    client.app.state.ctx.db.dispose()


def wait_for(check: Callable[[], Any], what: str, limit: float = 30.0) -> Any:
    """Poll ``check`` until it returns something truthy; fail saying ``what`` never happened."""
    deadline = time.monotonic() + limit
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {limit} s")
        time.sleep(0.05)


def _finish(kube: LoopbackKubernetes, namespace: str, name: str, run: dict[str, Any]) -> None:
    kube.add_pod(
        namespace,
        name,
        "build",
        "2026-11-20T10:00:05Z",
        {
            "resolve": "Resolving the bundles\nResolved 1 bundle\n",
            "build": "Pushed quay.io/iib/iib-build:42\n",
        },
    )
    kube.add_pod(namespace, name, "report", "2026-11-20T10:04:00Z", {"report": "Reported complete\n"})
    kube.set_status(namespace, name, run["status"])


def test_create_route_watch_record_and_store_logs(k8s_client: TestClient, kube: LoopbackKubernetes) -> None:
    client = k8s_client
    created = client.post("/api/v1/builds/add", json=ADD, headers=user(ALICE))
    assert created.status_code == 201, created.text
    add_id = created.json()["id"]
    rm_id = client.post("/api/v1/builds/rm", json=RM, headers=user(BOB)).json()["id"]

    # Alice overwrites: her serial queue's namespace and service account; Bob gets the defaults.
    add_run = kube.runs[("iib-serial", f"iib-add-{add_id}")]
    rm_run = kube.runs[("iib", f"iib-rm-{rm_id}")]
    for run in (add_run, rm_run):
        jsonschema.Draft7Validator(_schema()).validate(run)
    spec = add_run["spec"]
    assert spec["pipelineRef"] == {
        "resolver": "bundles",
        "params": [
            {"name": "bundle", "value": BUNDLE},
            {"name": "name", "value": "iib-add"},
            {"name": "kind", "value": "pipeline"},
        ],
    }
    params = {p["name"]: p["value"] for p in spec["params"]}
    assert params["request-id"] == str(add_id)
    assert params["bundles"] == ["quay.io/ns/etcd-bundle:0.9.4"]
    assert params["overwrite-from-index"] == "true"
    assert params["status-api-url"] == "http://iib-status-api.iib.svc:8080/api/v1"
    assert "hunter2" not in json.dumps(add_run)
    assert spec["taskRunTemplate"] == {"serviceAccountName": "iib-overwriter"}
    assert rm_run["spec"]["taskRunTemplate"] == {"serviceAccountName": "iib-pipeline"}
    assert spec["timeouts"] == {"pipeline": "2h0m0s"}
    secret_name = f"iib-add-{add_id}-secrets"
    assert spec["workspaces"] == [
        {"name": "steps-config", "configMap": {"name": "iib-steps-config"}},
        {"name": "registry-credentials", "secret": {"secretName": "iib-registry-auth"}},
        {
            "name": "overwrite-from-index-token",
            "secret": {
                "secretName": secret_name,
                "items": [{"key": "overwrite-from-index-token.token", "path": "token"}],
            },
        },
    ]
    assert add_run["metadata"]["labels"] == {
        "app.kubernetes.io/part-of": "iib",
        "iib.redhat.com/request-id": str(add_id),
        "iib.redhat.com/request-type": "add",
    }
    assert add_run["metadata"]["annotations"] == {"iib.redhat.com/user": ALICE}
    # The token travels in a Secret the run owns (deleted with it).
    secret = kube.secrets[("iib-serial", secret_name)]
    assert base64.b64decode(secret["data"]["overwrite-from-index-token.token"]) == b"alice:hunter2"
    assert secret["metadata"]["ownerReferences"][0]["uid"] == add_run["metadata"]["uid"]
    assert ("iib", f"iib-rm-{rm_id}-secrets") not in kube.secrets

    # The request is linked to its run at once.
    with client.app.state.ctx.db.read() as conn:
        row = conn.execute(select(requests).where(requests.c.id == add_id)).one()
    assert (row.pipelinerun_uid, row.pipelinerun_namespace) == (add_run["metadata"]["uid"], "iib-serial")

    # While it runs, its log is read from the pods that exist so far.
    url = f"/api/v1/builds/{add_id}/logs"
    assert client.get(url).status_code == 400  # no pod yet: IIB's "not complete yet"
    kube.add_pod(
        "iib-serial", f"iib-add-{add_id}", "build", "2026-11-20T10:00:05Z", {"resolve": "Resolving\n"}
    )
    running = client.get(url)
    assert (running.status_code, running.text) == (
        200,
        f"PipelineRun iib-serial/iib-add-{add_id}\n[build : resolve] Resolving\n",
    )

    # Tekton finishes the run: the watcher records it and the pods' step logs are stored.
    done = samples.succeeded(results=samples.ADD_RESULTS)
    _finish(kube, "iib-serial", f"iib-add-{add_id}", done)
    body = wait_for(
        lambda: (r := client.get(f"/api/v1/builds/{add_id}").json())["state"] == "complete" and r,
        "recording the finished run",
    )
    assert body["index_image"] == "quay.io/iib/iib-build:42"
    logs = wait_for(
        lambda: (
            (r := client.get(f"/api/v1/builds/{add_id}/logs")).status_code == 200
            and "[report : report]" in r.text
            and r.text
        ),
        "storing the step logs",
    )
    assert logs == (
        f"PipelineRun iib-serial/iib-add-{add_id}\n"
        "[build : resolve] Resolving the bundles\n"
        "[build : resolve] Resolved 1 bundle\n"
        "[build : build] Pushed quay.io/iib/iib-build:42\n"
        "[report : report] Reported complete\n"
    )


def test_cancel_sets_spec_status_and_keeps_the_reason(
    k8s_client: TestClient, kube: LoopbackKubernetes
) -> None:
    client = k8s_client
    rm_id = client.post("/api/v1/builds/rm", json=RM, headers=user(BOB)).json()["id"]
    name = f"iib-rm-{rm_id}"
    assert client.post(f"/api/v1/builds/{rm_id}/cancel", headers=user(ALICE)).json() == {
        "error": "Only the user who submitted the request or an IIB worker may cancel it"
    }
    cancelled = client.post(f"/api/v1/builds/{rm_id}/cancel", headers=user(BOB))
    assert cancelled.status_code == 200
    assert (cancelled.json()["state"], cancelled.json()["state_reason"]) == ("failed", f"Canceled by {BOB}")
    assert kube.runs[("iib", name)]["spec"]["status"] == "Cancelled"
    again = client.post(f"/api/v1/builds/{rm_id}/cancel", headers=worker())
    assert (again.status_code, again.json()) == (
        400,
        {"error": f"The request {rm_id} is already failed and cannot be canceled"},
    )
    # Tekton reports the cancelled run: recorded, the reason stays the user's.
    kube.set_status("iib", name, samples.cancelled()["status"])
    wait_for(
        lambda: any(c == ("GET", "/api/v1/namespaces/iib/pods") for c in kube.calls),
        "reading the cancelled run's pods",
    )
    body = client.get(f"/api/v1/builds/{rm_id}").json()
    assert (body["state"], body["state_reason"]) == ("failed", f"Canceled by {BOB}")
    assert client.post("/api/v1/builds/999/cancel", headers=user(BOB)).status_code == 404


def test_a_retried_create_does_not_start_a_second_run(
    k8s_client: TestClient, kube: LoopbackKubernetes
) -> None:
    from status_api.executors import Submission

    client = k8s_client
    rm_id = client.post("/api/v1/builds/rm", json=RM, headers=user(BOB)).json()["id"]
    first = kube.runs[("iib", f"iib-rm-{rm_id}")]["metadata"]["uid"]
    executor = client.app.state.ctx.executor
    executor.submit(
        Submission(rm_id, "rm", {"from_index": RM["from_index"], "operators": ["etcd"]}, user=BOB)
    )
    assert [key for key in kube.runs if key[1] == f"iib-rm-{rm_id}"] == [("iib", f"iib-rm-{rm_id}")]
    assert kube.runs[("iib", f"iib-rm-{rm_id}")]["metadata"]["uid"] == first


@pytest.mark.parametrize("storage", ["folder", "s3"])
def test_cloudevents_path_collects_logs_too(
    kube: LoopbackKubernetes, db_url: str, tmp_path: Path, storage: str, request: pytest.FixtureRequest
) -> None:
    if storage == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        bucket = f"iib-k8s-{tmp_path.name.lower().replace('_', '-')}"[:60]
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
        where: dict[str, Any] = {"IIB_AWS_S3_BUCKET_NAME": bucket, "IIB_AWS_S3_ENDPOINT_URL": endpoint}
    else:
        where = {"IIB_REQUEST_LOGS_DIR": str(tmp_path / "logs")}
    settings = base_settings(
        db_url, IIB_EXECUTOR="kubernetes", IIB_KUBERNETES_NAMESPACE="iib", IIB_KUBERNETES_WATCH=False, **where
    )
    with TestClient(create_app(settings), base_url="http://iib.example.com") as client:
        rm_id = client.post("/api/v1/builds/rm", json=RM, headers=user(BOB)).json()["id"]
        name = f"iib-rm-{rm_id}"
        assert kube.runs[("iib", name)]["spec"]["pipelineRef"]["resolver"] == "cluster"
        kube.add_pod("iib", name, "build", "2026-11-20T10:00:05Z", {"rm": "Removed etcd\n"})
        final = kube.set_status("iib", name, samples.succeeded(request_type="rm")["status"])
        posted = client.post("/api/v1/pipelineruns", json=samples.cloudevent(final), headers=worker())
        assert posted.status_code == 200, posted.text
        assert posted.json()["state"] == "complete"
        # The log is stored once the run is recorded, in the background: wait for the step's line.
        logs = wait_for(
            lambda: (
                (r := client.get(f"/api/v1/builds/{rm_id}/logs")).status_code == 200
                and "[build : rm]" in r.text
                and r.text
            ),
            "storing the step logs",
        )
        assert logs.endswith("[build : rm] Removed etcd\n")
    client.app.state.ctx.db.dispose()


class RecordingStorage(LocalStorage):
    """A log folder that remembers every write."""

    def __init__(self, folder: Path) -> None:
        super().__init__({LOGS.name: str(folder)})
        self.writes: list[bytes] = []

    def put(self, kind: Kind, request_id: int, content: bytes) -> None:
        self.writes.append(content)
        super().put(kind, request_id, content)


def test_a_finished_run_s_log_is_stored_in_one_write(
    kube: LoopbackKubernetes, sqlite_url: str, tmp_path: Path
) -> None:
    """A GET of the log while it is being stored sees all of it or the earlier log, never only its
    header line."""
    from status_api.db import connect
    from status_api.executors.kubernetes import KubernetesExecutor

    settings = base_settings(sqlite_url, IIB_EXECUTOR="kubernetes", IIB_KUBERNETES_NAMESPACE="iib")
    storage = RecordingStorage(tmp_path / "logs")
    db = connect(sqlite_url)
    executor = KubernetesExecutor(settings, db, storage, watch=False)
    kube.add_pod("iib", "iib-rm-7", "build", "2026-11-20T10:00:05Z", {"rm": "Removed etcd\n"})
    kube.add_pod("iib", "iib-rm-7", "report", "2026-11-20T10:04:00Z", {"report": "Reported complete\n"})
    outcome = RunOutcome(
        uid="uid-7",
        name="iib-rm-7",
        namespace="iib",
        request_id=7,
        request_type="rm",
        state="complete",
        state_reason="done",
    )
    try:
        executor.recorded(outcome, 7)
    finally:
        executor.close()  # waits for the background collection
        db.dispose()
    assert storage.writes == [
        b"PipelineRun iib/iib-rm-7\n[build : rm] Removed etcd\n[report : report] Reported complete\n"
    ]
    assert storage.get(LOGS, 7) == storage.writes[0]
    assert [f.name for f in (tmp_path / "logs").iterdir()] == [LOGS.filename(7)]  # no temp file left


def test_an_invalid_pipelinerun_is_refused_and_leaves_nothing(
    kube: LoopbackKubernetes, db_url: str, tmp_path: Path
) -> None:
    settings = base_settings(
        db_url,
        IIB_EXECUTOR="kubernetes",
        IIB_KUBERNETES_NAMESPACE="iib",
        IIB_KUBERNETES_WATCH=False,
        IIB_PIPELINE_WORKSPACES={"steps-config": {"configMap": "iib-steps-config"}},  # not an object
    )
    with TestClient(create_app(settings), base_url="http://iib.example.com") as client:
        response = client.post("/api/v1/builds/add", json=ADD, headers=user(ALICE))
        assert (response.status_code, response.json()) == (
            500,
            {"error": "The scheduling of the build request with ID 1 failed"},
        )
        body = client.get("/api/v1/builds/1").json()
        assert (body["state"], body["state_reason"]) == ("failed", "The scheduling of the request failed")
    client.app.state.ctx.db.dispose()
    assert kube.runs == {}
    assert kube.secrets == {}  # the overwrite token's Secret was deleted again
    assert ("DELETE", "/api/v1/namespaces/iib/secrets/iib-add-1-secrets") in kube.calls
