"""OpenTelemetry tracing of the status API (``IIB_OTEL_TRACING``; see ``iib_steps/tracing.py``).

Every HTTP request is one SERVER span (``<METHOD> <path template>``), a child of the caller's
``traceparent`` header when it sends one (a step's PATCH does). A new request's parameters carry the
POST's span context to the executor as ``traceparent`` (and ``tracestate``), which puts it on the
PipelineRun: annotation ``iib.tekton.dev/traceparent``, Pipeline param ``traceparent``, step env
``TRACEPARENT``.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from iib_steps import tracing as common
from status_api.settings import Settings, SettingsError

ANNOTATION = common.ANNOTATION
PARAM = common.PARAM


def check(settings: Settings, environ: Any = None) -> None:
    """IIB's rule: tracing needs OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_SERVICE_NAME in the environment."""
    env = dict(os.environ if environ is None else environ)
    env["IIB_OTEL_TRACING"] = "true" if settings.IIB_OTEL_TRACING else "false"
    try:
        common.check_environment(env)
    except Exception as exc:
        raise SettingsError(str(exc)) from None


def provider_for(settings: Settings, provider: Any = None) -> Any:
    """The app's tracer provider: ``provider`` (tests), else OTLP/HTTP from the environment; None if off."""
    if not settings.IIB_OTEL_TRACING:
        return None
    if provider is not None:
        return provider
    check(settings)
    return common.new_provider(os.environ["OTEL_SERVICE_NAME"])


def with_trace_context(params: dict[str, Any], headers: Any = None) -> dict[str, Any]:
    """``params`` plus the current span's ``traceparent`` (and ``tracestate``) when one is recording;
    with tracing off, the caller's own ``traceparent`` header is passed on as IIB does."""
    carrier = common.current_headers()
    if not carrier.get("traceparent") and headers is not None:
        carrier = {k: headers[k] for k in ("traceparent", "tracestate") if headers.get(k)}
    if not carrier.get("traceparent"):
        return params
    return {**params, **carrier}


def traced(submission: Any, headers: Any = None) -> Any:
    """``submission`` with the trace context added to its params (see ``with_trace_context``)."""
    params = with_trace_context(submission.params, headers)
    return submission if params is submission.params else dataclasses.replace(submission, params=params)


def pipelinerun_annotations(params: dict[str, Any]) -> dict[str, str]:
    """For the executor: the PipelineRun annotation carrying a submission's trace context ({} if none).

    The same value goes in the Pipeline param ``traceparent`` (``params["traceparent"]``), from which
    the Tasks set every step's ``TRACEPARENT``.
    """
    value = params.get(PARAM)
    return {ANNOTATION: value} if isinstance(value, str) and value else {}


class TracingMiddleware:
    """ASGI middleware: one SERVER span per HTTP request, the response status on it."""

    def __init__(self, app: Any, provider: Any) -> None:
        self.app = app
        self.tracer = provider.get_tracer("status_api")

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from opentelemetry.trace import SpanKind, Status, StatusCode

        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        carrier = {k: headers[k] for k in ("traceparent", "tracestate") if k in headers}
        template = scope.get("path_template") or scope["path"]
        attributes = {
            "http.request.method": scope["method"],
            "url.path": scope["path"],
            "http.route": template,
            "url.scheme": scope.get("scheme", "http"),
        }
        with self.tracer.start_as_current_span(
            f"{scope['method']} {template}",
            context=common.extract(carrier) if carrier else None,
            kind=SpanKind.SERVER,
            attributes=attributes,
        ) as span:

            async def traced_send(message: Any) -> None:
                if message["type"] == "http.response.start":
                    span.set_attribute("http.response.status_code", message["status"])
                    if message["status"] >= 500:
                        span.set_status(Status(StatusCode.ERROR))
                await send(message)

            await self.app(scope, receive, traced_send)
