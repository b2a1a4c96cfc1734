"""``/api/v1/healthcheck`` and ``/metrics``."""

from __future__ import annotations

import logging

from litestar import Request, Response, get

from status_api.errors import ServerError
from status_api.routes.common import app_context, json_response

log = logging.getLogger(__name__)


@get("/healthcheck", sync_to_thread=False, summary="Check the database")
def healthcheck(request: Request) -> Response[bytes]:
    try:
        app_context(request).db.ping()
    except Exception:
        log.exception("Database health check failed")
        raise ServerError("Database health check failed.") from None
    return json_response({"status": "Health check OK"})


@get("/metrics", sync_to_thread=False, include_in_schema=False)
def metrics(request: Request) -> Response[bytes]:
    return Response(content=app_context(request).metrics.render(), media_type="text/plain; version=0.0.4")
