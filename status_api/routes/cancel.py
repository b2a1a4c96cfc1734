"""``POST /api/v1/builds/<id>/cancel`` (beyond IIB): the owner or a worker stops a running request.

The request ends ``failed`` with "Canceled by <user>" first, so that whatever the run reports
afterwards (a Cancelled PipelineRun) keeps that reason; then the executor stops the run
(``spec.status: Cancelled`` on a cluster, the cancel event locally).
"""

from __future__ import annotations

import logging

from litestar import Request, Response, post
from litestar.params import FromPath

from status_api import builds
from status_api.errors import Forbidden, ValidationError
from status_api.executors.base import run_ref
from status_api.request_types import FINAL_STATES
from status_api.routes.common import app_context, base_url, checked_id, json_response

log = logging.getLogger(__name__)


@post(
    "/builds/{request_id:int}/cancel",
    summary="Cancel a running request (its owner or a worker)",
    status_code=200,
)
async def cancel_build(request: Request, request_id: FromPath[int]) -> Response[bytes]:
    ctx = app_context(request)
    user = ctx.auth.require_user(request.headers)
    current = builds.get_request(ctx.db, checked_id(request_id), ctx.settings, base_url(request))
    if user is not None and user != current["user"] and user not in ctx.settings.IIB_WORKER_USERNAMES:
        raise Forbidden("Only the user who submitted the request or an IIB worker may cancel it")
    if current["state"] in FINAL_STATES:
        raise ValidationError(
            f"The request {request_id} is already {current['state']} and cannot be canceled"
        )
    reason = f"Canceled by {user}" if user else "Canceled by an anonymous user"
    change = builds.patch_request(ctx.db, request_id, {"state": "failed", "state_reason": reason})
    ctx.metrics.observe(change)
    ctx.messenger.state_changed(change, base_url(request))
    try:
        ctx.executor.cancel(request_id, run_ref(ctx.db, request_id))
    except Exception:
        log.exception("Request %d is failed, but its run could not be stopped", request_id)
    log.info("%s canceled request %d", user or "an anonymous user", request_id)
    return json_response(builds.get_request(ctx.db, request_id, ctx.settings, base_url(request)))


ROUTES = [cancel_build]
