"""Recording PipelineRuns through ``POST /api/v1/pipelineruns``: first sight, idempotence, order."""

from __future__ import annotations

from typing import Any

from tests.status_api import samples
from tests.status_api.conftest import user, worker
from tests.status_api.samples import ADD_RESULTS, DIGEST

ADD = {
    "from_index": "registry.example.com/index:v4.17",
    "bundles": ["quay.io/ns/etcd-bundle:0.9.4"],
    "binary_image": "registry.example.com/opm:v4.17",
}


def _record(client: Any, body: Any) -> Any:
    return client.post("/api/v1/pipelineruns", json=body, headers=worker())


def test_run_started_elsewhere_creates_its_request(client: Any) -> None:
    response = _record(client, samples.pipelinerun(user="bob@EXAMPLE.COM"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["request_type"] == "add"
    assert body["user"] == "bob@EXAMPLE.COM"
    assert body["from_index"] == "registry.example.com/index:v4.17"
    assert body["bundles"] == ["quay.io/ns/etcd-bundle:0.9.4"]
    assert body["state"] == "in_progress"
    # The same run again (a duplicate CloudEvent) updates the same request.
    again = _record(client, samples.cloudevent(samples.succeeded(results=ADD_RESULTS)))
    assert again.status_code == 200
    done = again.json()
    assert done["id"] == body["id"]
    assert done["state"] == "complete"
    assert done["index_image_resolved"] == "quay.io/iib/iib-build@" + DIGEST
    assert done["arches"] == ["amd64", "s390x"]
    # A late "running" event does not reopen a finished request.
    late = _record(client, samples.pipelinerun()).json()
    assert (late["state"], late["state_reason"]) == ("complete", done["state_reason"])
    assert len(client.get("/api/v1/builds").json()["items"]) == 1


def test_run_of_an_api_request_keeps_the_workers_reason(client: Any) -> None:
    request_id = client.post("/api/v1/builds/add", json=ADD, headers=user()).json()["id"]
    running = _record(client, samples.pipelinerun(request_id=request_id)).json()
    assert running["id"] == request_id
    assert running["state_reason"] == (
        "The PipelineRun iib-add-x7k2p is running: Tasks Completed: 0 (Failed: 0, Cancelled 0), Skipped: 0"
    )
    reported = {"state": "failed", "state_reason": "Failed to build the index image: opm exited with 1"}
    client.patch(f"/api/v1/builds/{request_id}", json=reported, headers=worker())
    final = _record(client, samples.failed(request_id=request_id)).json()
    assert (final["state"], final["state_reason"]) == ("failed", reported["state_reason"])


def test_cancelled_and_timed_out_runs_fail_their_requests(client: Any) -> None:
    first = client.post("/api/v1/builds/add", json=ADD, headers=user()).json()["id"]
    second = client.post("/api/v1/builds/add", json=ADD, headers=user()).json()["id"]
    cancelled = _record(client, samples.cancelled(request_id=first, uid="uid-1")).json()
    assert cancelled["state"] == "failed" and cancelled["state_reason"].startswith(
        "The request was cancelled"
    )
    timed_out = _record(client, samples.timed_out(request_id=second, uid="uid-2")).json()
    assert timed_out["state"] == "failed" and timed_out["state_reason"].startswith("The request timed out")


def test_recording_needs_a_worker_and_a_known_request(client: Any) -> None:
    assert client.post("/api/v1/pipelineruns", json=samples.pipelinerun(), headers=user()).status_code == 403
    assert client.post("/api/v1/pipelineruns", json=samples.pipelinerun()).status_code == 401
    missing = _record(client, samples.pipelinerun(request_id=4242))
    assert missing.status_code == 404
    assert missing.json() == {"error": "The request 4242 of PipelineRun iib-add-x7k2p does not exist"}
    assert _record(client, {"kind": "PipelineRun"}).status_code == 400
