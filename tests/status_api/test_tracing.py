"""Tracing of the status API: one SERVER span per HTTP request, continuing the caller's trace, and the
POST's span context handed to the executor for the PipelineRun (SDK in-memory exporter)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from litestar.testing import TestClient
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from iib_steps.tracing import new_provider
from status_api.app import create_app
from status_api.executors import RecordingExecutor
from status_api.settings import SettingsError, load_settings
from status_api.tracing import pipelinerun_annotations
from tests.status_api.conftest import base_settings, user, worker

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
ADD = {
    "from_index": "registry.example.com/index:v4.17",
    "bundles": ["quay.io/ns/etcd-bundle:0.9.4"],
    "binary_image": "registry.example.com/opm:v4.17",
}


class BrokenExecutor(RecordingExecutor):
    def submit(self, submission: Any) -> None:
        super().submit(submission)
        raise RuntimeError("no cluster")


@pytest.fixture(params=[RecordingExecutor])
def traced(sqlite_url: str, request: pytest.FixtureRequest) -> Any:
    exporter = InMemorySpanExporter()
    executor = request.param()
    app = create_app(
        dataclasses.replace(base_settings(sqlite_url), IIB_OTEL_TRACING=True),  # the env is not needed
        executor=executor,
        tracer_provider=new_provider("iib-api", exporter, batch=False),
    )
    with TestClient(app, base_url="http://iib.example.com") as client:
        yield client, exporter, executor


def test_a_post_continues_the_callers_trace_and_hands_it_to_the_pipelinerun(traced: Any) -> None:
    client, exporter, executor = traced
    headers = {**user(), "traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01", "tracestate": "vendor=1"}
    response = client.post("/api/v1/builds/add", json=ADD, headers=headers)
    assert response.status_code == 201, response.text
    (span,) = exporter.get_finished_spans()
    assert span.name == "POST /api/v1/builds/add"
    assert span.kind == SpanKind.SERVER
    assert span.resource.attributes["service.name"] == "iib-api"
    assert format(span.context.trace_id, "032x") == TRACE_ID
    assert span.parent is not None and format(span.parent.span_id, "016x") == PARENT_ID
    assert span.attributes["http.response.status_code"] == 201
    (submission,) = executor.submissions
    assert submission.params["traceparent"] == f"00-{TRACE_ID}-{format(span.context.span_id, '016x')}-01"
    assert submission.params["tracestate"] == "vendor=1"
    assert pipelinerun_annotations(submission.params) == {
        "iib.tekton.dev/traceparent": submission.params["traceparent"]
    }


def test_a_request_without_context_starts_a_trace(traced: Any) -> None:
    client, exporter, executor = traced
    assert client.post("/api/v1/builds/add", json=ADD, headers=user()).status_code == 201
    request_id = executor.submissions[0].request_id
    patched = client.patch(
        f"/api/v1/builds/{request_id}", json={"state": "complete", "state_reason": "done"}, headers=worker()
    )
    assert patched.status_code == 200
    post, patch = exporter.get_finished_spans()
    assert post.parent is None
    assert executor.submissions[0].params["traceparent"].split("-")[1] == format(
        post.context.trace_id, "032x"
    )
    assert patch.name == "PATCH /api/v1/builds/{request_id}"
    assert patch.attributes["url.path"] == f"/api/v1/builds/{request_id}"
    assert patch.status.status_code == StatusCode.UNSET


@pytest.mark.parametrize("traced", [BrokenExecutor], indirect=True)
def test_a_server_error_marks_the_span(traced: Any) -> None:
    client, exporter, _ = traced
    assert client.post("/api/v1/builds/add", json=ADD, headers=user()).status_code == 500
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes["http.response.status_code"] == 500


def test_off_by_default_the_callers_context_is_passed_on_untouched(make_client: Any) -> None:
    executor = RecordingExecutor()
    client = make_client(executor)
    traceparent = f"00-{TRACE_ID}-{PARENT_ID}-01"
    assert (
        client.post(
            "/api/v1/builds/add", json=ADD, headers={**user(), "traceparent": traceparent}
        ).status_code
        == 201
    )
    assert client.post("/api/v1/builds/add", json=ADD, headers=user()).status_code == 201
    passed_on, plain = (s.params for s in executor.submissions)
    assert passed_on["traceparent"] == traceparent and "tracestate" not in passed_on
    assert "traceparent" not in plain
    assert pipelinerun_annotations(plain) == {}


def test_tracing_needs_the_otel_environment() -> None:
    with pytest.raises(SettingsError) as failure:
        load_settings({"IIB_OTEL_TRACING": "true", "OTEL_SERVICE_NAME": "iib-api"})
    assert str(failure.value) == (
        '"OTEL_EXPORTER_OTLP_ENDPOINT" and "OTEL_SERVICE_NAME" environment variables must be set to valid'
        ' strings when "IIB_OTEL_TRACING" is set to True.'
    )
    env = {"IIB_OTEL_TRACING": "true", "OTEL_SERVICE_NAME": "a", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c"}
    assert load_settings(env).IIB_OTEL_TRACING is True
