"""Artifacts of a request: logs (text/plain), related and nested bundles (JSON), the deprecation schema.

GET follows IIB's rules (404 when storage is not configured, 400 for the wrong type or an unfinished
request, 410 once expired; a finished request whose file is missing from the folder is IIB's 500).
PUT lets a worker upload them (the steps report over HTTP).
"""

from __future__ import annotations

from datetime import timedelta

import orjson
from litestar import Request, Response, get, put
from litestar.params import FromPath

from status_api import builds
from status_api.errors import Gone, NotFound, ServerError, ValidationError
from status_api.executors.base import run_ref
from status_api.request_types import FINAL_STATES
from status_api.routes.common import app_context, checked_id, json_response
from status_api.storage import LOGS, NESTED_BUNDLES, RELATED_BUNDLES, Kind

# kind → (the request type it belongs to, the word IIB uses in its messages)
_OWNERS: dict[str, tuple[str | None, str]] = {
    LOGS.name: (None, "logs"),
    RELATED_BUNDLES.name: ("regenerate-bundle", "related_bundles"),
    NESTED_BUNDLES.name: ("recursive-related-bundles", "nested_bundles"),
}


def _check_type(record: builds.RequestRecord, wanted: str | None) -> None:
    if wanted and record.request_type != wanted:
        raise ValidationError(
            f"The request {record.id} is of type {record.request_type}. "
            f"This endpoint is only valid for requests of type {wanted}."
        )


def _serve(request: Request, request_id: int, kind: Kind) -> Response[bytes]:
    ctx = app_context(request)
    storage = ctx.storage
    wanted, word = _OWNERS[kind.name]
    if kind is LOGS and not storage.configured(kind):
        raise NotFound()
    record = builds.get_record(ctx.db, checked_id(request_id))
    _check_type(record, wanted)
    if not storage.configured(kind):
        raise NotFound()
    if record.state not in FINAL_STATES:
        # Beyond IIB: a running request's log is served as far as it goes.
        partial = _running_log(request, request_id) if kind is LOGS else None
        if partial is not None:
            return Response(content=partial, media_type=kind.media_type)
        raise ValidationError(
            f"The request {request_id} is not complete yet."
            f" {word} will be available once the request is complete."
        )
    content = storage.get(kind, request_id)
    if content is not None:
        return Response(content=content, media_type=kind.media_type)
    expired = record.updated + timedelta(days=ctx.settings.IIB_REQUEST_DATA_DAYS_TO_LIVE) < builds.utcnow()
    if ctx.settings.IIB_AWS_S3_BUCKET_NAME:
        if expired:
            raise Gone(f"The data for the build request {request_id} no longer exist")
        raise NotFound()
    if expired:
        raise Gone(f"The {word} for the build request {request_id} no longer exist")
    organization = record.data.get("organization")
    if kind is RELATED_BUNDLES and organization:
        raise ServerError(
            "IIB is done processing the request and cannot find related_bundles. Please make sure the"
            f" iib_organization_customizations for organization {organization} has related_bundles"
            " customization type set"
        )
    raise ServerError(f"IIB is done processing the request and could not find {word}.")


def _running_log(request: Request, request_id: int) -> bytes | None:
    """What the executor can tell now (its own runs, a cluster's pods), else what is stored so far."""
    ctx = app_context(request)
    live = ctx.executor.running_log(request_id, run_ref(ctx.db, request_id))
    return live.encode() if live else ctx.storage.get(LOGS, request_id)


@get("/builds/{request_id:int}/logs", sync_to_thread=False, summary="The log of a request (so far)")
def get_logs(request: Request, request_id: FromPath[int]) -> Response[bytes]:
    return _serve(request, request_id, LOGS)


@get(
    "/builds/{request_id:int}/related_bundles",
    sync_to_thread=False,
    summary="Related bundles (regenerate-bundle)",
)
def get_related_bundles(request: Request, request_id: FromPath[int]) -> Response[bytes]:
    return _serve(request, request_id, RELATED_BUNDLES)


@get("/builds/{request_id:int}/nested-bundles", sync_to_thread=False, summary="Nested bundles (recursive)")
def get_nested_bundles(request: Request, request_id: FromPath[int]) -> Response[bytes]:
    return _serve(request, request_id, NESTED_BUNDLES)


@get(
    "/builds/{request_id:int}/deprecation-schema",
    sync_to_thread=False,
    summary="The deprecation schema of an add-deprecations request",
)
def get_deprecation_schema(request: Request, request_id: FromPath[int]) -> Response[bytes]:
    record = builds.get_record(app_context(request).db, checked_id(request_id))
    _check_type(record, "add-deprecations")
    return Response(
        content=record.data.get("_deprecation_schema", "").encode(), media_type="application/json"
    )


async def _upload(request: Request, request_id: int, kind: Kind) -> Response[bytes]:
    ctx = app_context(request)
    ctx.auth.require_worker(request.headers)
    wanted, word = _OWNERS[kind.name]
    record = builds.get_record(ctx.db, checked_id(request_id))
    _check_type(record, wanted)
    if not ctx.storage.configured(kind):
        raise NotFound()
    content = await request.body()
    if kind.media_type == "application/json":
        try:
            value = orjson.loads(content)
        except orjson.JSONDecodeError as exc:
            raise ValidationError(f"Failed to decode JSON object: {exc}") from None
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValidationError(f"The {word} must be a JSON array of pull specifications")
    ctx.storage.put(kind, request_id, content)
    return json_response({"id": request_id, "stored": kind.name}, 201)


@put("/builds/{request_id:int}/logs", summary="Upload the logs of a request (workers only)", status_code=201)
async def put_logs(request: Request, request_id: FromPath[int]) -> Response[bytes]:
    return await _upload(request, request_id, LOGS)


@put(
    "/builds/{request_id:int}/related_bundles",
    summary="Upload related bundles (workers only)",
    status_code=201,
)
async def put_related_bundles(request: Request, request_id: FromPath[int]) -> Response[bytes]:
    return await _upload(request, request_id, RELATED_BUNDLES)


@put(
    "/builds/{request_id:int}/nested-bundles", summary="Upload nested bundles (workers only)", status_code=201
)
async def put_nested_bundles(request: Request, request_id: FromPath[int]) -> Response[bytes]:
    return await _upload(request, request_id, NESTED_BUNDLES)


ROUTES = [
    get_logs,
    get_related_bundles,
    get_nested_bundles,
    get_deprecation_schema,
    put_logs,
    put_related_bundles,
    put_nested_bundles,
]
