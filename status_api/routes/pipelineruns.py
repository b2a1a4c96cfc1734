"""``POST /api/v1/pipelineruns``: record a PipelineRun object or a Tekton CloudEvent (workers only)."""

from __future__ import annotations

from litestar import Request, Response, post

from status_api import builds
from status_api.pipelinerun import read_pipelinerun
from status_api.recording import record_run
from status_api.routes.common import app_context, base_url, body_operation, json_response, read_json


@post(
    "/pipelineruns",
    summary="Record a Tekton PipelineRun (object or CloudEvent body)",
    operation_class=body_operation({"pipelineRun": "object", "metadata": "object", "status": "object"}),
)
async def record_pipelinerun(request: Request) -> Response[bytes]:
    ctx = app_context(request)
    ctx.auth.require_worker(request.headers)
    outcome = read_pipelinerun(await read_json(request))
    recorded = record_run(ctx.db, outcome)
    ctx.metrics.observe(recorded.change)
    ctx.executor.recorded(outcome, recorded.request_id)
    ctx.messenger.recorded(recorded.request_id, recorded.created, recorded.change, base_url(request))
    body = builds.get_request(ctx.db, recorded.request_id, ctx.settings, base_url(request))
    return json_response(body, 201 if recorded.created else 200)


ROUTES = [record_pipelinerun]
