"""The status page: ``/`` (the builds, newest first, with filters), ``/builds/<id>`` (one build: its
fields, state history, log and upgrade graphs), ``/builds/<id>/graph/<package>.svg``, ``/ui/page.css``.

Everything is drawn on the server from the same data the API serves; nothing is loaded from
elsewhere. A page showing a build in progress reloads itself until none is.
"""

from __future__ import annotations

import logging
from pathlib import Path

from litestar import Request, Response, get
from litestar.params import FromPath

from status_api import builds
from status_api.errors import ApiError
from status_api.request_types import STATES, TYPES
from status_api.routes.common import app_context, base_url
from status_api.storage import LOGS
from status_api.ui import html
from status_api.ui.graphs import default_cache_dir, graph_source, package_svg
from status_api.ui.style import CSS

log = logging.getLogger(__name__)
HTML = "text/html; charset=utf-8"
FILTERS = ("state", "request_type", "user", "page")


def _page(title: str, body: str, *, refresh: bool = False, status_code: int = 200) -> Response[str]:
    return Response(
        content=html.layout(title, body, refresh=refresh),
        media_type=HTML,
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )


@get("/", sync_to_thread=False, include_in_schema=False)
def builds_page(request: Request) -> Response[str]:
    """The builds, newest first; filters by state, type and user; reloads while any is in progress."""
    ctx = app_context(request)
    args = {k: v for k, v in request.query_params.items() if k in FILTERS and v}
    form = html.filters_form(args, list(STATES), list(TYPES))
    try:
        listing = builds.list_requests(ctx.db, args, ctx.settings, base_url(request))
    except ApiError as exc:
        body = form + f'<p class="error">{html.escape(exc.message)}</p>'
        return _page("Builds", body, status_code=exc.status_code)
    items = listing["items"]
    busy = any(item.get("state") == "in_progress" for item in items)
    body = form + html.builds_table(items) + html.pager(listing["meta"], args)
    return _page("Builds", body, refresh=busy)


@get("/builds/{build_id:int}", sync_to_thread=False, include_in_schema=False)
def build_page(request: Request, build_id: FromPath[int]) -> Response[str]:
    """One build: its fields, state history, log and the upgrade graphs of the packages it changed."""
    ctx = app_context(request)
    try:
        build = builds.get_request(ctx.db, build_id, ctx.settings, base_url(request))
    except ApiError as exc:
        return _page(f"Build {build_id}", f'<p class="error">{html.escape(exc.message)}</p>', status_code=404)
    history = build.get("state_history") or []
    if ctx.storage.configured(LOGS):
        content = ctx.storage.get(LOGS, build_id)
        text = content.decode("utf-8", "replace") if content is not None else None
        missing = "No log stored for this build yet."
    else:
        text, missing = None, "Logs are not kept: set IIB_REQUEST_LOGS_DIR (or an S3 bucket) to keep them."
    source = graph_source(build)
    reason = html.escape(str(build.get("state_reason") or ""))
    body = (
        f"<p>{html.state_badge(str(build.get('state')))} {reason}</p>"
        "<h2>Upgrade graph</h2>"
        + html.graphs_section(build_id, source.packages if source else [], source.note if source else "")
        + "<h2>Log</h2>"
        + html.log_section(build_id, text, missing)
        + "<h2>State history</h2>"
        + html.history_table(history)
        + "<h2>Fields</h2>"
        + html.fields_table(build, skip={"state_history", "logs"})
    )
    title = f"Build {build_id}: {build.get('request_type')}"
    return _page(title, body, refresh=build.get("state") == "in_progress")


@get("/builds/{build_id:int}/graph/{name:str}", sync_to_thread=True, include_in_schema=False)
def graph_svg(request: Request, build_id: FromPath[int], name: FromPath[str]) -> Response[str]:
    """The SVG of one package the build changed (``<package>.svg``), drawn from its index image."""
    ctx = app_context(request)
    package = name.removesuffix(".svg")
    try:
        build = builds.get_request(ctx.db, build_id, ctx.settings, base_url(request))
    except ApiError as exc:
        return Response(content=exc.message, media_type="text/plain", status_code=exc.status_code)
    source = graph_source(build)
    if source is None or package not in source.packages:
        return Response(
            content=f"the build {build_id} did not change a package {package}",
            media_type="text/plain",
            status_code=404,
        )
    cache = (
        Path(ctx.settings.IIB_GRAPH_CACHE_DIR) if ctx.settings.IIB_GRAPH_CACHE_DIR else default_cache_dir()
    )
    try:
        svg = package_svg(source.image, package, cache)
    except Exception as exc:  # an unreadable image or catalog: say so in one line, keep the page up
        log.warning("cannot draw the graph of %s from %s: %s", package, source.image, exc)
        text = " ".join(str(exc).split()) or type(exc).__name__
        return Response(content=f"cannot draw the graph: {text}", media_type="text/plain", status_code=502)
    return Response(content=svg, media_type="image/svg+xml", headers={"Cache-Control": "max-age=300"})


@get("/ui/page.css", sync_to_thread=False, include_in_schema=False)
def stylesheet() -> Response[str]:
    return Response(content=CSS, media_type="text/css", headers={"Cache-Control": "max-age=3600"})
