"""``/api/v1/builds``: list, get, PATCH, and POST for every request type."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from litestar import Request, Response, get, patch, post
from litestar.params import FromPath, FromQuery, QueryParameter

from status_api import builds, greenwave, tracing
from status_api.errors import ServerError
from status_api.executors import Submission
from status_api.routes.common import (
    app_context,
    base_url,
    body_operation,
    checked_id,
    json_response,
    read_json,
    reject_nul,
)
from status_api.validation import (
    VALIDATORS,
    Context,
    NewRequest,
    validate_add_rm_batch,
    validate_regenerate_bundle_batch,
)

log = logging.getLogger(__name__)

_INDEX_BODY = {
    "from_index": "string",
    "binary_image": "string",
    "add_arches": "array",
    "build_tags": "array",
    "distribution_scope": "string",
    "overwrite_from_index": "boolean",
    "overwrite_from_index_token": "string",
}
BODIES: dict[str, dict[str, str]] = {
    "add": {
        **_INDEX_BODY,
        "bundles": "array",
        "deprecation_list": "array",
        "check_related_images": "boolean",
        "graph_update_mode": "string",
        "organization": "string",
    },
    "rm": {**_INDEX_BODY, "operators": "array"},
    "fbc-operations": {**_INDEX_BODY, "fbc_fragment": "string", "fbc_fragments": "array"},
    "create-empty-index": {
        "from_index": "string",
        "binary_image": "string",
        "labels": "object",
        "output_fbc": "boolean",
        "distribution_scope": "string",
    },
    "add-deprecations": {**_INDEX_BODY, "operator_package": "string", "deprecation_schema": "string"},
    "regenerate-bundle": {
        "from_bundle_image": "string",
        "organization": "string",
        "bundle_replacements": "object",
        "registry_auths": "object",
    },
    "merge-index-image": {
        "source_from_index": "string",
        "target_index": "string",
        "deprecation_list": "array",
        "binary_image": "string",
        "overwrite_target_index": "boolean",
        "overwrite_target_index_token": "string",
        "distribution_scope": "string",
        "build_tags": "array",
        "graph_update_mode": "string",
        "ignore_bundle_ocp_version": "boolean",
    },
    "recursive-related-bundles": {
        "parent_bundle_image": "string",
        "organization": "string",
        "registry_auths": "object",
    },
}
_BATCH_BODY = {"build_requests": "array", "annotations": "object"}
_PATCH_BODY = {
    "state": "string",
    "state_reason": "string",
    "arches": "array",
    "index_image": "string",
    "index_image_resolved": "string",
    "from_index_resolved": "string",
    "internal_index_image_copy": "string",
    "internal_index_image_copy_resolved": "string",
    "bundle_mapping": "object",
}


@get("/builds", sync_to_thread=False, summary="List build requests")
def list_builds(
    request: Request,
    page: FromQuery[str | None] = None,
    per_page: FromQuery[str | None] = None,
    verbose: FromQuery[str | None] = None,
    state_filter: Annotated[str | None, QueryParameter(name="state")] = None,
    batch: FromQuery[str | None] = None,
    request_type: FromQuery[str | None] = None,
    user: FromQuery[str | None] = None,
    index_image: FromQuery[str | None] = None,
    from_index: FromQuery[str | None] = None,
    from_index_startswith: FromQuery[str | None] = None,
) -> Response[bytes]:
    ctx = app_context(request)
    args = {k: v for k, v in request.query_params.items() if isinstance(v, str)}
    reject_nul(args)
    return json_response(builds.list_requests(ctx.db, args, ctx.settings, base_url(request)))


@get("/builds/{request_id:int}", sync_to_thread=False, summary="Get one build request")
def get_build(request: Request, request_id: FromPath[int]) -> Response[bytes]:
    ctx = app_context(request)
    return json_response(builds.get_request(ctx.db, checked_id(request_id), ctx.settings, base_url(request)))


@get("/batches/{batch_id:int}", sync_to_thread=False, summary="A batch: derived state, annotations, requests")
def get_batch(request: Request, batch_id: FromPath[int]) -> Response[bytes]:
    return json_response(builds.get_batch(app_context(request).db, checked_id(batch_id)))


@patch(
    "/builds/{request_id:int}",
    summary="Update a build request (workers only)",
    operation_class=body_operation(_PATCH_BODY),
)
async def patch_build(request: Request, request_id: FromPath[int]) -> Response[bytes]:
    ctx = app_context(request)
    worker = ctx.auth.require_worker(request.headers)
    payload = await read_json(request, json_only=True)
    change = builds.patch_request(ctx.db, checked_id(request_id), payload)
    ctx.metrics.observe(change)
    ctx.messenger.state_changed(change, base_url(request))
    log.info("%s patched request %d", worker or "an anonymous user", request_id)
    return json_response(builds.get_request(ctx.db, request_id, ctx.settings, base_url(request)))


def _submit(request: Request, stored: list[tuple[int, NewRequest]], user: str | None) -> None:
    """Hand the new requests to the executor; a failure marks them failed (IIB's scheduling error)."""
    ctx = app_context(request)
    failed = []
    for request_id, new in stored:
        ctx.metrics.created.labels(new.request_type).inc()
        try:
            submission = Submission(request_id, new.request_type, new.params, new.secrets, user)
            submission = greenwave.gated(ctx.settings, submission)
            submission = tracing.traced(submission, request.headers)
            ctx.executor.submit(submission)
        except Exception:
            log.exception("Could not start request %d", request_id)
            failed.append(request_id)
    if not failed:
        return
    for request_id in failed:
        try:
            change = builds.patch_request(
                ctx.db,
                request_id,
                {"state": "failed", "state_reason": "The scheduling of the request failed"},
            )
            ctx.messenger.state_changed(change, base_url(request))
        except Exception:
            log.exception("Could not mark request %d failed", request_id)
    if len(stored) == 1:
        raise ServerError(f"The scheduling of the build request with ID {failed[0]} failed")
    raise ServerError(
        "The scheduling of the build requests with IDs {} failed".format(", ".join(map(str, failed)))
    )


async def _create(request: Request, request_type: str) -> Response[bytes]:
    ctx = app_context(request)
    user = ctx.auth.require_user(request.headers)
    payload = await read_json(request, json_only=True)
    new = VALIDATORS[request_type](Context(ctx.settings, authenticated=user is not None), payload)
    (request_id,) = builds.create_requests(ctx.db, [new], user)
    ctx.messenger.requests_created([request_id], base_url(request))
    _submit(request, [(request_id, new)], user)
    return json_response(builds.get_request(ctx.db, request_id, ctx.settings, base_url(request)), 201)


async def _create_batch(request: Request, validate: Any) -> Response[bytes]:
    ctx = app_context(request)
    user = ctx.auth.require_user(request.headers)
    payload = await read_json(request, json_only=True)
    new, annotations = validate(Context(ctx.settings, authenticated=user is not None), payload)
    ids = builds.create_requests(ctx.db, new, user, annotations)
    ctx.messenger.requests_created(ids, base_url(request))
    _submit(request, list(zip(ids, new, strict=True)), user)
    return json_response(builds.get_requests(ctx.db, ids, ctx.settings, base_url(request)), 201)


def _post_handler(request_type: str) -> Any:
    async def handler(request: Request) -> Response[bytes]:
        return await _create(request, request_type)

    handler.__name__ = "create_" + request_type.replace("-", "_")
    return post(
        f"/builds/{request_type}",
        summary=f"Submit a {request_type} request",
        operation_class=body_operation(BODIES[request_type]),
        status_code=201,
    )(handler)


@post(
    "/builds/add-rm-batch",
    summary="Submit a batch of add and rm requests",
    operation_class=body_operation(_BATCH_BODY, ("build_requests",)),
)
async def create_add_rm_batch(request: Request) -> Response[bytes]:
    return await _create_batch(request, validate_add_rm_batch)


@post(
    "/builds/regenerate-bundle-batch",
    summary="Submit a batch of regenerate-bundle requests",
    operation_class=body_operation(_BATCH_BODY, ("build_requests",)),
)
async def create_regenerate_bundle_batch(request: Request) -> Response[bytes]:
    return await _create_batch(request, validate_regenerate_bundle_batch)


ROUTES = [
    list_builds,
    get_build,
    get_batch,
    patch_build,
    create_add_rm_batch,
    create_regenerate_bundle_batch,
    *(_post_handler(name) for name in BODIES),
]
