"""The Litestar application factory: ``create_app(settings)``, and ``app_from_environment`` for servers."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Litestar, Request, Response, Router
from litestar.exceptions import HTTPException, MethodNotAllowedException, NotFoundException
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig

from status_api.auth import Authenticator, TokenReviewer
from status_api.context import AppContext
from status_api.db import connect
from status_api.errors import ApiError
from status_api.executors import Executor, executor_from_settings
from status_api.messaging import Messenger
from status_api.metrics import Metrics
from status_api.routes import artifacts, builds, cancel, health, pipelineruns
from status_api.serialize import dumps
from status_api.settings import Settings, load_settings
from status_api.storage import storage_from_settings
from status_api.tracing import TracingMiddleware, provider_for
from status_api.ui import ROUTES as UI_ROUTES
from status_api.ui import docs_parts

log = logging.getLogger("status_api")


def _error(status_code: int, message: str, headers: dict[str, str] | None = None) -> Response[bytes]:
    return Response(
        content=dumps({"error": message}),
        media_type="application/json",
        status_code=status_code,
        headers=headers,
    )


def _api_error(_request: Request, exc: ApiError) -> Response[bytes]:
    return _error(exc.status_code, exc.message, exc.headers)


def _http_error(_request: Request, exc: HTTPException) -> Response[bytes]:
    if isinstance(exc, NotFoundException):
        return _error(404, "The requested resource was not found")
    if isinstance(exc, MethodNotAllowedException):
        return _error(405, "The method is not allowed for the requested URL.", exc.headers)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code >= 500:
        log.error("HTTP error %s: %s", exc.status_code, detail)
    return _error(exc.status_code, detail, exc.headers)


def _unexpected(request: Request, exc: Exception) -> Response[bytes]:
    log.exception("Unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return _error(500, "An unexpected error occurred on the server; it has been logged.")


def create_app(
    settings: Settings | None = None,
    *,
    executor: Executor | None = None,
    reviewer: TokenReviewer | None = None,
    messenger: Messenger | None = None,
    tracer_provider: Any = None,
    debug: bool = False,
) -> Litestar:
    """Build the app: IIB API v1 under ``/api/v1``, ``/metrics``, the page at ``/``, docs at ``/schema``."""
    settings = settings or load_settings()
    db = connect(settings.SQLALCHEMY_DATABASE_URI, settings.IIB_DB_POOL_SIZE)
    storage = storage_from_settings(settings)
    messenger = messenger or Messenger(settings, db)
    ctx = AppContext(
        settings=settings,
        db=db,
        auth=Authenticator(settings, reviewer),
        storage=storage,
        executor=executor or executor_from_settings(settings, db, storage, messenger),
        metrics=Metrics(db),
        messenger=messenger,
    )
    api = Router(
        path="/api/v1",
        route_handlers=[
            *builds.ROUTES,
            *artifacts.ROUTES,
            *pipelineruns.ROUTES,
            *cancel.ROUTES,
            health.healthcheck,
        ],
    )
    provider = provider_for(settings, tracer_provider)
    middleware = [DefineMiddleware(TracingMiddleware, provider=provider)] if provider is not None else []
    handlers: dict[Any, Any] = {ApiError: _api_error, HTTPException: _http_error, Exception: _unexpected}
    docs_plugins, docs_assets = docs_parts()
    app = Litestar(
        route_handlers=[api, health.metrics, *UI_ROUTES, *docs_assets],
        exception_handlers=handlers,
        openapi_config=OpenAPIConfig(
            title="IIB on Tekton: status API",
            version="1.0.0",
            description="IIB's REST API v1, backed by recorded Tekton PipelineRuns.",
            path="/schema",
            render_plugins=docs_plugins,
        ),
        middleware=middleware,
        on_shutdown=[getattr(ctx.executor, "close", lambda: None), lambda: ctx.messenger.close(), db.dispose]
        + ([lambda: provider.force_flush()] if provider is not None else []),
        debug=debug,
    )
    app.state.ctx = ctx
    return app


def app_from_environment() -> Litestar:
    """What the ASGI server loads (``status_api.app:app_from_environment`` with ``--factory``)."""
    return create_app(load_settings())
