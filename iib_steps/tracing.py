"""OpenTelemetry tracing (spec/iib.md §7), shared by the steps and the status API; off by default.

``IIB_OTEL_TRACING=true`` turns it on and then needs ``OTEL_EXPORTER_OTLP_ENDPOINT`` and
``OTEL_SERVICE_NAME``: spans go by OTLP/HTTP to ``<endpoint>/v1/traces``, context travels as W3C
Trace Context (``traceparent``/``tracestate``).

One build request is one trace: the API's span for the POST is the parent of the PipelineRun, which
carries it as the annotation ``iib.tekton.dev/traceparent`` and the Pipeline param ``traceparent``;
every step gets it as the environment variable ``TRACEPARENT`` (and ``TRACESTATE``), continues the
trace with one span ``iib-step <command>``, and sends its own context on to the status API with each
PATCH. Nothing here is imported from OpenTelemetry until tracing is on.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from iib_steps.errors import StepError

log = logging.getLogger(__name__)

TRACEPARENT_ENV = "TRACEPARENT"
TRACESTATE_ENV = "TRACESTATE"
ANNOTATION = "iib.tekton.dev/traceparent"
PARAM = "traceparent"

_provider: Any = None


def enabled(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return env.get("IIB_OTEL_TRACING", "").strip().lower() == "true"


def check_environment(environ: Mapping[str, str] | None = None) -> None:
    """IIB's check: with tracing on, the OTLP endpoint and the service name must be set."""
    env = os.environ if environ is None else environ
    if enabled(env) and (not env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or not env.get("OTEL_SERVICE_NAME")):
        raise StepError(
            '"OTEL_EXPORTER_OTLP_ENDPOINT" and "OTEL_SERVICE_NAME" environment variables must be set to'
            ' valid strings when "IIB_OTEL_TRACING" is set to True.'
        )


def new_provider(service_name: str, exporter: Any = None, *, batch: bool = True) -> Any:
    """A tracer provider for ``service_name`` exporting to ``exporter`` (default: OTLP/HTTP from the env)."""
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"].rstrip("/")
        exporter = OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces")
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    provider.add_span_processor(BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter))
    return provider


def extract(carrier: Mapping[str, str]) -> Any:
    """The OpenTelemetry context of W3C headers (lower-case keys ``traceparent``, ``tracestate``)."""
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    return TraceContextTextMapPropagator().extract(dict(carrier))


def current_headers() -> dict[str, str]:
    """``traceparent`` (and ``tracestate``) of the current span, for an outgoing call; {} when none."""
    try:
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
    except ImportError:  # pragma: no cover - the dependency is declared
        return {}
    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier)
    return carrier


def _env_context() -> Any:
    carrier = {"traceparent": os.environ.get(TRACEPARENT_ENV, "")}
    if os.environ.get(TRACESTATE_ENV):
        carrier["tracestate"] = os.environ[TRACESTATE_ENV]
    return extract(carrier) if carrier["traceparent"] else None


@contextmanager
def step_span(name: str, attributes: Mapping[str, Any] | None = None) -> Iterator[Any]:
    """Run a step inside span ``name``, a child of ``TRACEPARENT``; exported before the step exits."""
    global _provider
    if not enabled():
        yield None
        return
    check_environment()
    if _provider is None:
        _provider = new_provider(os.environ["OTEL_SERVICE_NAME"])
    tracer = _provider.get_tracer("iib_steps")
    attrs = {k: v for k, v in (attributes or {}).items() if v is not None}
    try:
        # A failing step raises through: the span records the exception and ERROR status.
        with tracer.start_as_current_span(name, context=_env_context(), attributes=attrs) as span:
            yield span
    finally:
        # A collector that is down costs the step at most this long; spans are then dropped (logged).
        _provider.force_flush(timeout_millis=10_000)
