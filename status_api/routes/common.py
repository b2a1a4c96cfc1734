"""Helpers the routes share: the app context, JSON in and out, ids, and OpenAPI request bodies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from litestar import Request, Response
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody, Schema
from litestar.openapi.spec.enums import OpenAPIType

from status_api.context import AppContext
from status_api.errors import NotFound, UnsupportedMediaType, ValidationError
from status_api.serialize import dumps

MAX_ID = 2**31 - 1


def app_context(request: Request) -> AppContext:
    return request.app.state.ctx


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def json_response(content: Any, status_code: int = 200) -> Response[bytes]:
    return Response(content=dumps(content), media_type="application/json", status_code=status_code)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def reject_nul(values: Any) -> None:
    """No stored text may hold NUL (PostgreSQL refuses it): say so instead of failing later."""
    if _has_nul(values):
        raise ValidationError("The input must not contain NUL characters")


NOT_JSON_TEXT = (
    "Did not attempt to load JSON data because the request Content-Type was not 'application/json'."
)


def is_json_media_type(content_type: str | None) -> bool:
    """Whether a Content-Type names JSON as Flask sees it: application/json or application/*+json."""
    mimetype = (content_type or "").split(";", 1)[0].strip().lower()
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )


async def read_json(request: Request, *, json_only: bool = False) -> Any:
    """The decoded body, or IIB's 400 when it is not JSON.

    ``json_only``: a body not sent as JSON is refused with IIB's 415, as Flask's ``get_json`` does.
    """
    if json_only and not is_json_media_type(request.headers.get("content-type")):
        raise UnsupportedMediaType(NOT_JSON_TEXT)
    raw = await request.body()
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValidationError(f"Failed to decode JSON object: {exc}") from None
    reject_nul(value)
    return value


def checked_id(request_id: int) -> int:
    """Ids beyond the database's integers cannot exist: 404 rather than a database error."""
    if request_id < 1 or request_id > MAX_ID:
        raise NotFound()
    return request_id


_TYPES = {
    "string": OpenAPIType.STRING,
    "boolean": OpenAPIType.BOOLEAN,
    "array": OpenAPIType.ARRAY,
    "object": OpenAPIType.OBJECT,
}


def _schema(kind: str) -> Schema:
    if kind == "array":
        return Schema(type=OpenAPIType.ARRAY, items=Schema(type=OpenAPIType.STRING))
    return Schema(type=_TYPES[kind])


def body_operation(properties: dict[str, str], required: tuple[str, ...] = ()) -> type[Operation]:
    """An Operation class whose OpenAPI request body is a JSON object with ``properties``."""
    body = RequestBody(
        required=True,
        content={
            "application/json": OpenAPIMediaType(
                schema=Schema(
                    type=OpenAPIType.OBJECT,
                    properties={name: _schema(kind) for name, kind in properties.items()},
                    required=list(required) or None,
                )
            )
        },
    )

    @dataclass
    class WithBody(Operation):
        def __post_init__(self) -> None:
            self.request_body = body

    return WithBody
