"""The one PipelineRun → request mapping, on real-shaped v1 objects checked against Tekton's CRD schema."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from status_api.errors import ValidationError
from status_api.pipelinerun import read_pipelinerun
from tests.conftest import SHARED, need_shared
from tests.status_api import samples
from tests.status_api.samples import ADD_RESULTS, DIGEST

ALL_SAMPLES = {
    "running": samples.pipelinerun(),
    "succeeded": samples.succeeded(results=ADD_RESULTS),
    "failed": samples.failed(),
    "cancelled": samples.cancelled(),
    "timed_out": samples.timed_out(),
    "string_results": samples.succeeded(
        results=[
            {"name": "arches", "value": '["ppc64le"]'},
            {"name": "bundle_mapping", "value": '{"a": ["q/a:1"]}'},
        ]
    ),
}


@pytest.mark.shared
@pytest.mark.parametrize("name", sorted(ALL_SAMPLES))
def test_samples_are_valid_pipelineruns(name: str) -> None:
    schema = json.loads(need_shared(SHARED / "tekton-schemas" / "PipelineRun-v1.json").read_text())
    jsonschema.Draft7Validator(schema).validate(ALL_SAMPLES[name])


def test_succeeded_with_string_array_and_object_results() -> None:
    outcome = read_pipelinerun(ALL_SAMPLES["succeeded"])
    assert (outcome.state, outcome.state_reason) == (
        "complete",
        "The operator bundle(s) were successfully added to the index image",
    )
    assert outcome.fields["index_image"] == "quay.io/iib/iib-build:42"
    assert outcome.fields["index_image_resolved"] == "quay.io/iib/iib-build@" + DIGEST
    assert outcome.fields["bundle_mapping"] == {"etcd": ["quay.io/ns/etcd-bundle:0.9.4"]}
    assert outcome.arches == ["amd64", "s390x"]
    # IMAGE_URL/IMAGE_DIGEST fill the internal copy, which no named result set.
    assert outcome.fields["internal_index_image_copy"] == "quay.io/iib/iib-build:42"
    assert outcome.fields["internal_index_image_copy_resolved"] == "quay.io/iib/iib-build@" + DIGEST
    assert (outcome.uid, outcome.name, outcome.namespace) == (
        "6c1f0e0a-2b7d-4a51-9d7e-3f9a8e1c2b01",
        "iib-add-x7k2p",
        "iib",
    )
    assert outcome.params["from_index"] == "registry.example.com/index:v4.17"
    assert outcome.params["bundles"] == ["quay.io/ns/etcd-bundle:0.9.4"]
    assert outcome.completion_time == "2026-11-20T10:05:00Z"


def test_json_in_string_results_fills_list_and_object_fields() -> None:
    outcome = read_pipelinerun(ALL_SAMPLES["string_results"])
    assert outcome.arches == ["ppc64le"]
    assert outcome.fields["bundle_mapping"] == {"a": ["q/a:1"]}


@pytest.mark.parametrize(
    ("name", "state", "reason"),
    [
        (
            "running",
            "in_progress",
            "The PipelineRun iib-add-x7k2p is running: "
            "Tasks Completed: 0 (Failed: 0, Cancelled 0), Skipped: 0",
        ),
        (
            "failed",
            "failed",
            "The PipelineRun iib-add-x7k2p failed "
            "(Failed: Tasks Completed: 2 (Failed: 1, Cancelled 0), Skipped: 0)",
        ),
        (
            "cancelled",
            "failed",
            "The request was cancelled: the PipelineRun iib-add-x7k2p was cancelled "
            '(PipelineRun "iib-add-x7k2p" was cancelled)',
        ),
        (
            "timed_out",
            "failed",
            'The request timed out: PipelineRun "iib-add-x7k2p" failed to finish within "2h0m0s"',
        ),
    ],
)
def test_states_and_reasons(name: str, state: str, reason: str) -> None:
    outcome = read_pipelinerun(ALL_SAMPLES[name])
    assert (outcome.state, outcome.state_reason) == (state, reason)


def test_pending_stopping_and_reported_reason() -> None:
    pending = samples.pipelinerun(
        condition={"type": "Succeeded", "status": "Unknown", "reason": "PipelineRunPending"}
    )
    assert read_pipelinerun(pending).state_reason == "The PipelineRun iib-add-x7k2p is pending"
    finally_ = samples.pipelinerun(
        condition={"type": "Succeeded", "status": "Unknown", "reason": "CancelledRunningFinally"}
    )
    assert read_pipelinerun(finally_).state == "in_progress"
    no_status = samples.pipelinerun()
    del no_status["status"]
    assert read_pipelinerun(no_status).state == "in_progress"
    said = samples.failed(
        results=[{"name": "state_reason", "value": "Failed to resolve the bundles: quay.io/x"}]
    )
    assert read_pipelinerun(said).state_reason == "Failed to resolve the bundles: quay.io/x"


def test_regenerate_bundle_image_url_is_the_bundle() -> None:
    run = samples.succeeded(
        request_type="regenerate-bundle",
        results=[
            {"name": "IMAGE_URL", "value": "quay.io/iib/bundle:7"},
            {"name": "IMAGE_DIGEST", "value": DIGEST},
        ],
    )
    outcome = read_pipelinerun(run)
    assert outcome.fields == {"bundle_image": "quay.io/iib/bundle:7"}
    assert outcome.state_reason == "The request completed successfully"


def test_cloudevent_body_is_accepted() -> None:
    outcome = read_pipelinerun(samples.cloudevent(ALL_SAMPLES["succeeded"]))
    assert outcome.state == "complete"
    structured = {
        "specversion": "1.0",
        "id": "9a3e",
        "source": "/apis/tekton.dev/v1/namespaces/iib/pipelineruns/iib-add-x7k2p",
        "type": "dev.tekton.event.pipelinerun.successful.v1",
        "datacontenttype": "application/json",
        "data": samples.cloudevent(ALL_SAMPLES["succeeded"]),
    }
    assert read_pipelinerun(structured).state == "complete"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([], "The input data must be a PipelineRun object or a Tekton CloudEvent carrying one"),
        (
            {"kind": "TaskRun", "metadata": {}},
            "The input data must be a PipelineRun object or a Tekton CloudEvent",
        ),
        ({"kind": "PipelineRun"}, 'The PipelineRun must have "metadata"'),
        ({"metadata": {"name": "x"}}, 'The PipelineRun must have "metadata.uid" and "metadata.name"'),
        (
            {"metadata": {"name": "x", "uid": "u", "labels": {"iib.redhat.com/request-id": "seven"}}},
            'The label "iib.redhat.com/request-id" must be a request id',
        ),
        (
            {"metadata": {"name": "x", "uid": "u", "labels": {"iib.redhat.com/request-type": "bake"}}},
            'The label "iib.redhat.com/request-type" names an unknown request type: bake',
        ),
    ],
)
def test_bad_objects_are_rejected(payload: Any, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        read_pipelinerun(payload)
    assert caught.value.message.startswith(message)
