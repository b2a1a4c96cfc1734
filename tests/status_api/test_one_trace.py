"""One build request is one trace: the API's POST span, the step's span under the PipelineRun's
``TRACEPARENT``, and the API's span for the step's PATCH, all in one trace, each the parent of the next.

The API runs under uvicorn in this process (spans to the SDK's in-memory exporter); the step runs as
``iib-step`` does in a Tekton step (spans by OTLP/HTTP to a receiver of our own).
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import uvicorn
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from iib_steps.tracing import new_provider
from status_api.app import create_app
from status_api.executors import RecordingExecutor
from tests.conftest import ROOT
from tests.fixtures.otlp import Receiver
from tests.fixtures.postgres import free_port
from tests.status_api.conftest import WORKER_TOKEN, base_settings, user


@pytest.fixture
def traced_api(sqlite_url: str) -> Iterator[tuple[str, InMemorySpanExporter, RecordingExecutor]]:
    exporter = InMemorySpanExporter()
    executor = RecordingExecutor()
    app = create_app(
        dataclasses.replace(base_settings(sqlite_url), IIB_OTEL_TRACING=True),
        executor=executor,
        tracer_provider=new_provider("iib-api", exporter, batch=False),
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if server.started:
                break
            threading.Event().wait(0.1)
        assert server.started, "uvicorn did not start"
        yield base, exporter, executor
    finally:
        server.should_exit = True
        thread.join(30)


def _hex(value: int, width: int) -> str:
    return format(value, f"0{width}x")


def test_post_step_and_patch_are_one_trace(traced_api: Any, otlp_receiver: Receiver) -> None:
    base, exporter, executor = traced_api
    created = requests.post(
        f"{base}/api/v1/builds/rm",
        json={
            "from_index": "registry.example.com/index:v4.17",
            "operators": ["etcd"],
            "binary_image": "r/o:1",
        },
        headers=user(),
        timeout=60,
    )
    assert created.status_code == 201, created.text
    (submission,) = executor.submissions
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "IIB_", "TRACE"))}
    env.update(
        IIB_OTEL_TRACING="true",
        OTEL_EXPORTER_OTLP_ENDPOINT=otlp_receiver.url,
        OTEL_SERVICE_NAME="iib-step",
        TRACEPARENT=submission.params["traceparent"],  # what the PipelineRun gives every step
        IIB_STATUS_API_TOKEN=WORKER_TOKEN,
    )
    step = subprocess.run(
        [sys.executable, "-m", "iib_steps.cli", "rm", "--request-id", str(submission.request_id),
         "--status-api-url", f"{base}/api/v1"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert step.returncode == 1, step.stderr  # no operators: the step fails and reports it
    state = requests.get(f"{base}/api/v1/builds/{submission.request_id}", timeout=60).json()["state"]
    assert state == "failed"

    post, patch = (s for s in exporter.get_finished_spans() if s.name.split()[0] in ("POST", "PATCH"))
    (step_span,) = otlp_receiver.spans
    trace_id = _hex(post.context.trace_id, 32)
    assert post.name == "POST /api/v1/builds/rm" and post.parent is None
    assert (step_span.name, step_span.trace_id, step_span.parent_span_id) == (
        "iib-step rm",
        trace_id,
        _hex(post.context.span_id, 16),
    )
    assert patch.name == "PATCH /api/v1/builds/{request_id}"
    assert _hex(patch.context.trace_id, 32) == trace_id
    assert patch.parent is not None and _hex(patch.parent.span_id, 16) == step_span.span_id
