"""Record a PipelineRun outcome (see ``pipelinerun.py``) into its request: idempotent, order-tolerant.

Events may repeat and arrive out of order (Tekton retries CloudEvents; watchers relist). A final
request stays final, and its reason (the worker's own words, sent by PATCH) is kept; an earlier
event never overwrites a later one's state.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import orjson
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from status_api.builds import StateChange, apply_update, get_or_create_user, insert_request, new_batch
from status_api.db import Database
from status_api.errors import NotFound
from status_api.models import requests
from status_api.pipelinerun import RunOutcome
from status_api.request_types import (
    FINAL_STATES,
    IMAGE_KEYS,
    MUTABLE,
    STATE_NAMES,
    TYPE_NAMES,
    default_fields,
)

log = logging.getLogger(__name__)


@dataclass
class Recorded:
    request_id: int
    created: bool
    change: StateChange | None


def _lock_query(where: object) -> object:
    return select(
        requests.c.id, requests.c.type, requests.c.state, requests.c.state_reason, requests.c.data
    ).where(where)


def _usable_fields(outcome: RunOutcome, request_type: str) -> dict[str, object]:
    allowed = MUTABLE[request_type] - {"state", "state_reason", "arches"}
    fields = {}
    for key, value in outcome.fields.items():
        if key not in allowed or value is None:
            continue
        if key in IMAGE_KEYS and (not isinstance(value, str) or ("@" not in value and ":" not in value)):
            log.warning("PipelineRun %s: ignoring result %s=%r (not a pull spec)", outcome.name, key, value)
            continue
        fields[key] = value
    return fields


def _record_once(db: Database, outcome: RunOutcome) -> Recorded:
    with db.write() as conn:

        def locked(where: object) -> object:
            query = _lock_query(where)
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()  # type: ignore[attr-defined]
            return conn.execute(query).first()  # type: ignore[arg-type]

        row = locked(requests.c.pipelinerun_uid == outcome.uid)
        if row is None and outcome.request_id is not None:
            row = locked(requests.c.id == outcome.request_id)
            if row is None:
                raise NotFound(
                    f"The request {outcome.request_id} of PipelineRun {outcome.name} does not exist"
                )
        created = False
        if row is None:
            data = default_fields(outcome.request_type)
            data.update({k: v for k, v in outcome.params.items() if k in data})
            data["arches"] = []
            request_id = insert_request(
                conn, outcome.request_type, data, new_batch(conn), get_or_create_user(conn, outcome.user)
            )
            row = locked(requests.c.id == request_id)
            created = True
        conn.execute(
            update(requests)
            .where(requests.c.id == row.id)  # type: ignore[attr-defined]
            .values(
                pipelinerun_uid=outcome.uid,
                pipelinerun_name=outcome.name,
                pipelinerun_namespace=outcome.namespace,
                pipelinerun_status=orjson.dumps(outcome.status).decode(),
            )
        )
        request_type = TYPE_NAMES[row.type]  # type: ignore[attr-defined]
        payload: dict[str, object] = dict(_usable_fields(outcome, request_type))
        if outcome.arches:
            payload["arches"] = outcome.arches
        current = STATE_NAMES[row.state]  # type: ignore[attr-defined]
        if current not in FINAL_STATES:
            payload["state"] = outcome.state
            payload["state_reason"] = outcome.state_reason
        change = apply_update(conn, row, payload, keep_final_reason=True) if payload else None
        return Recorded(row.id, created, change)  # type: ignore[attr-defined]


def record_run(db: Database, outcome: RunOutcome) -> Recorded:
    """Apply ``outcome`` to its request, creating the request on first sight of the run."""
    try:
        return _record_once(db, outcome)
    except IntegrityError:
        # Another process recorded the same run first (unique pipelinerun_uid): apply on top of it.
        return _record_once(db, outcome)
