"""The JSON of a build request (IIB's ``to_json``), built from a row without further queries."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import orjson

from status_api.request_types import STATE_NAMES, TYPE_NAMES
from status_api.settings import Settings


def timestamp(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, as IIB prints it."""
    return value.isoformat() + "Z"


def state_json(state: int, reason: str, updated: datetime) -> dict[str, Any]:
    return {"state": STATE_NAMES[state], "state_reason": reason, "updated": timestamp(updated)}


def to_json(
    row: Any,
    *,
    settings: Settings,
    base_url: str,
    verbose: bool,
    history: list[dict[str, Any]] | None = None,
    annotations: Any = None,
) -> dict[str, Any]:
    """One request as IIB shows it; ``row`` has id, type, batch_id, username, state, reason, updated, data.

    ``base_url`` is the API root without the trailing slash (``http://host``); URLs point below
    ``/api/v1``. ``history`` (newest first) and ``annotations`` are used when ``verbose``.
    """
    data = orjson.loads(row.data)
    request_type = TYPE_NAMES[row.type]
    request_id = row.id
    rv: dict[str, Any] = {
        "id": request_id,
        "arches": sorted(data.pop("arches", [])),
        "batch": row.batch_id,
        "request_type": request_type,
        "user": row.username,
        "state": STATE_NAMES[row.state],
        "state_reason": row.state_reason,
        "updated": timestamp(row.updated),
    }
    builds = f"{base_url}/api/v1/builds/{request_id}"

    def expiration() -> str:
        return timestamp(row.updated + timedelta(days=settings.IIB_REQUEST_DATA_DAYS_TO_LIVE))

    if verbose:
        rv["batch_annotations"] = annotations
        rv["state_history"] = history if history is not None else [rv_state(rv)]
        if settings.artifacts_configured:
            rv["logs"] = {"expiration": expiration(), "url": f"{builds}/logs"}
    legacy_fragment = data.pop("_used_fbc_fragment", None)
    data.pop("_deprecation_schema", None)
    rv.update(data)
    if "build_tags" in rv:  # IIB's relationship is ordered by tag name
        rv["build_tags"] = sorted(rv["build_tags"])
    if request_type == "fbc-operations":
        if legacy_fragment:
            rv["fbc_fragments"] = []
            rv["fbc_fragments_resolved"] = []
        else:
            rv["fbc_fragment"] = None
            rv["fbc_fragment_resolved"] = None
    elif request_type == "regenerate-bundle":
        if settings.IIB_REQUEST_RELATED_BUNDLES_DIR or settings.IIB_AWS_S3_BUCKET_NAME:
            rv["related_bundles"] = {"expiration": expiration(), "url": f"{builds}/related_bundles"}
    elif request_type == "recursive-related-bundles":
        rv["nested_bundles"] = {"expiration": expiration(), "url": f"{builds}/nested-bundles"}
    elif request_type == "add-deprecations":
        rv["deprecation_schema_url"] = f"{builds}/deprecation-schema"
    return rv


def rv_state(rv: dict[str, Any]) -> dict[str, Any]:
    return {"state": rv["state"], "state_reason": rv["state_reason"], "updated": rv["updated"]}


def dumps(value: Any) -> bytes:
    """JSON bytes with sorted keys, as Flask's jsonify writes them."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
