"""``iib-step`` continues the trace of ``TRACEPARENT`` and passes its own span on to the status API."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT
from tests.fixtures.otlp import Receiver

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


def _step(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "IIB_", "TRACE"))}
    full.update(env)
    return subprocess.run(
        [sys.executable, "-m", "iib_steps.cli", *args],
        capture_output=True,
        text=True,
        env=full,
        cwd=ROOT,
        timeout=120,
    )


def test_a_step_is_one_span_in_the_requests_trace(otlp_receiver: Receiver) -> None:
    proc = _step(
        "add",
        "--request-id",
        "7",
        "--status-api-url",
        f"{otlp_receiver.url}/api/v1",
        env={
            "IIB_OTEL_TRACING": "true",
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.url,
            "OTEL_SERVICE_NAME": "iib-step",
            "TRACEPARENT": f"00-{TRACE_ID}-{PARENT_ID}-01",
        },
    )
    # No bundles and no from_index: the step fails on its input, reports it, and exits 1.
    assert proc.returncode == 1, proc.stderr
    assert 'error: "from_index" must be specified if no bundles are specified' in proc.stderr
    (span,) = otlp_receiver.spans
    assert (span.service, span.name, span.trace_id, span.parent_span_id) == (
        "iib-step",
        "iib-step add",
        TRACE_ID,
        PARENT_ID,
    )
    assert span.status_code == 2  # ERROR
    assert span.attributes["iib.request_id"] == "7"
    (patch,) = otlp_receiver.patches
    path, headers, body = patch
    assert path == "/api/v1/builds/7"
    assert body["state"] == "failed"
    assert headers["traceparent"] == f"00-{TRACE_ID}-{span.span_id}-01"


def test_tracing_is_off_by_default(otlp_receiver: Receiver) -> None:
    proc = _step(
        "add",
        "--request-id",
        "8",
        "--status-api-url",
        f"{otlp_receiver.url}/api/v1",
        env={
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.url,
            "TRACEPARENT": f"00-{TRACE_ID}-{PARENT_ID}-01",
        },
    )
    assert proc.returncode == 1
    assert otlp_receiver.spans == []
    ((_, headers, _),) = otlp_receiver.patches
    assert "traceparent" not in headers


def test_tracing_needs_the_endpoint_and_the_service_name() -> None:
    proc = _step("add", "--from-index", "x:1", env={"IIB_OTEL_TRACING": "true"})
    assert proc.returncode == 1
    assert (
        'error: "OTEL_EXPORTER_OTLP_ENDPOINT" and "OTEL_SERVICE_NAME" environment variables must be set to'
        ' valid strings when "IIB_OTEL_TRACING" is set to True.'
    ) in proc.stderr
