"""Build requests in the database: create, read, list with IIB's filters, and PATCH (the worker contract)."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import orjson
from sqlalchemy import Connection, Table, bindparam, false, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from status_api.db import Database
from status_api.errors import NotFound, ValidationError
from status_api.models import batches, images, operators, request_counts, request_states, requests, users
from status_api.request_types import (
    FINAL_STATES,
    FROM_INDEX_TYPES,
    IMAGE_KEYS,
    INDEX_IMAGE_TYPES,
    INITIAL_REASON,
    MUTABLE,
    STATE_NAMES,
    STATES,
    TYPE_NAMES,
    TYPES,
)
from status_api.serialize import state_json, to_json
from status_api.settings import Settings
from status_api.validation import NewRequest, check_pull_spec, validate_architectures

_ROW_COLUMNS = (
    requests.c.id,
    requests.c.type,
    requests.c.batch_id,
    users.c.username,
    requests.c.state,
    requests.c.state_reason,
    requests.c.updated,
    requests.c.data,
)


MAX_ROW_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL


def utcnow() -> datetime:
    """Naive UTC, as stored."""
    return datetime.now(UTC).replace(tzinfo=None)


def _insert_ignoring_conflict(conn: Connection, table: Table, values: dict[str, Any], key: str) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(table).values(values).on_conflict_do_nothing(index_elements=[key]))


def get_or_create(conn: Connection, table: Table, key: str, value: str) -> int:
    """The id of the row whose ``key`` is ``value``, inserting it if absent; safe under concurrent inserts."""
    column = table.c[key]
    query = select(table.c.id).where(column == value)
    found = conn.execute(query).scalar()
    if found is not None:
        return found
    _insert_ignoring_conflict(conn, table, {key: value}, key)
    return conn.execute(query).scalar_one()


def bump_count(conn: Connection, request_type: int, state: int, delta: int) -> None:
    """Add ``delta`` to the count of (type, state), creating the counter row when needed."""
    key = (request_counts.c.type == request_type) & (request_counts.c.state == state)
    updated = conn.execute(update(request_counts).where(key).values(count=request_counts.c.count + delta))
    if updated.rowcount == 0:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        inserted = conn.execute(
            dialect.insert(request_counts)
            .values(type=request_type, state=state, count=delta)
            .on_conflict_do_nothing(index_elements=["type", "state"])
        )
        if inserted.rowcount == 0:  # another writer created it meanwhile
            conn.execute(update(request_counts).where(key).values(count=request_counts.c.count + delta))


def get_or_create_image(conn: Connection, pull_spec: str | None) -> int | None:
    if not pull_spec:
        return None
    return get_or_create(conn, images, "pull_specification", pull_spec)


def get_or_create_user(conn: Connection, username: str | None) -> int | None:
    if not username:
        return None
    return get_or_create(conn, users, "username", username)


def _stored_data(new: NewRequest) -> dict[str, Any]:
    data = dict(new.fields)
    data["arches"] = []
    if new.request_type == "fbc-operations":
        data["_used_fbc_fragment"] = bool(new.internal.get("used_fbc_fragment"))
    if "deprecation_schema" in new.internal:
        data["_deprecation_schema"] = new.internal["deprecation_schema"]
    return data


def insert_request(
    conn: Connection,
    request_type: str,
    data: dict[str, Any],
    batch_id: int,
    user_id: int | None,
    *,
    state: str = "in_progress",
    reason: str = INITIAL_REASON,
    run: dict[str, Any] | None = None,
    count: bool = True,
) -> int:
    """Insert one request with its first state; returns its id (``count=False``: the caller counts it)."""
    now = utcnow()
    index_image = data.get("index_image")
    values = {
        "type": TYPES[request_type],
        "batch_id": batch_id,
        "user_id": user_id,
        "state": STATES[state],
        "state_reason": reason,
        "created": now,
        "updated": now,
        "from_index_id": get_or_create_image(conn, data.get("from_index"))
        if request_type in FROM_INDEX_TYPES
        else None,
        "index_image_id": get_or_create_image(conn, index_image)
        if request_type in INDEX_IMAGE_TYPES
        else None,
        "data": orjson.dumps(data).decode(),
        **(run or {}),
    }
    request_id = conn.execute(insert(requests).values(values).returning(requests.c.id)).scalar_one()
    if count:
        bump_count(conn, TYPES[request_type], STATES[state], 1)
    conn.execute(
        insert(request_states).values(
            request_id=request_id, state=STATES[state], state_reason=reason, updated=now
        )
    )
    return request_id


def create_requests(
    db: Database, new: list[NewRequest], username: str | None, annotations: dict[str, Any] | None = None
) -> list[int]:
    """Store the requests of one POST in one new batch; returns their ids in order."""
    with db.write() as conn:
        user_id = get_or_create_user(conn, username)
        batch_id = conn.execute(
            insert(batches)
            .values(annotations=orjson.dumps(annotations).decode() if annotations is not None else None)
            .returning(batches.c.id)
        ).scalar_one()
        ids = [
            insert_request(conn, n.request_type, _stored_data(n), batch_id, user_id, count=False) for n in new
        ]
        # Counter rows are locked in one global order, so that concurrent batches cannot deadlock.
        for request_type in sorted({TYPES[n.request_type] for n in new}):
            added = sum(1 for n in new if TYPES[n.request_type] == request_type)
            bump_count(conn, request_type, STATES["in_progress"], added)
        return ids


def new_batch(conn: Connection, annotations: dict[str, Any] | None = None) -> int:
    return conn.execute(
        insert(batches)
        .values(annotations=orjson.dumps(annotations).decode() if annotations is not None else None)
        .returning(batches.c.id)
    ).scalar_one()


def _base_query(annotations: bool = True) -> Any:
    """Request rows with their username (and their batch's annotations, for verbose output)."""
    joined = requests.outerjoin(users, requests.c.user_id == users.c.id)
    if not annotations:
        return select(*_ROW_COLUMNS).select_from(joined)
    joined = joined.join(batches, requests.c.batch_id == batches.c.id)
    return select(*_ROW_COLUMNS, batches.c.annotations.label("annotations")).select_from(joined)


def _history(conn: Connection, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    rows = conn.execute(
        select(
            request_states.c.request_id,
            request_states.c.state,
            request_states.c.state_reason,
            request_states.c.updated,
        )
        .where(request_states.c.request_id.in_(ids))
        .order_by(request_states.c.request_id, request_states.c.id.desc())
    )
    history: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for row in rows:
        history[row.request_id].append(state_json(row.state, row.state_reason, row.updated))
    return history


class RenderedRows:
    """Recently rendered non-verbose list items, keyed by every column that shapes them.

    The first pages of ``GET /builds`` are polled again and again (dashboards, release pipelines);
    a row that has not changed renders to the same JSON, so it is not parsed and rebuilt each time.
    A changed row has a different key, so nothing stale can be served. Bounded; oldest out first.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self.items: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.lock = threading.Lock()

    def get(self, row: Any, settings: Settings, base_url: str) -> dict[str, Any]:
        key = (id(settings), base_url, *row[: len(_ROW_COLUMNS)])  # not the page total
        found = self.items.get(key)
        if found is None:
            found = to_json(row, settings=settings, base_url=base_url, verbose=False)
            with self.lock:
                if len(self.items) >= self.size:
                    del self.items[next(iter(self.items))]
                self.items[key] = found
        return found


_RENDERED = RenderedRows()


def _render(
    conn: Connection, rows: list[Any], settings: Settings, base_url: str, verbose: bool
) -> list[dict]:
    if not verbose:
        return [_RENDERED.get(row, settings, base_url) for row in rows]
    ids = [row.id for row in rows]
    history = _history(conn, ids) if ids else {}
    return [
        to_json(
            row,
            settings=settings,
            base_url=base_url,
            verbose=True,
            history=history[row.id],
            annotations=orjson.loads(row.annotations) if row.annotations else None,
        )
        for row in rows
    ]


def get_request(db: Database, request_id: int, settings: Settings, base_url: str) -> dict[str, Any]:
    """The verbose JSON of one request, or NotFound."""
    with db.read() as conn:
        return get_request_on(conn, request_id, settings, base_url)


def _request_with_history() -> Any:
    return (
        _base_query()
        .add_columns(
            request_states.c.state.label("h_state"),
            request_states.c.state_reason.label("h_reason"),
            request_states.c.updated.label("h_updated"),
        )
        .join(request_states, request_states.c.request_id == requests.c.id)
        .where(requests.c.id == bindparam("request_id"))
        .order_by(request_states.c.id.desc())
    )


# Built once: the two hot reads skip statement construction on every call.
_REQUEST_WITH_HISTORY = _request_with_history()


def get_request_on(conn: Connection, request_id: int, settings: Settings, base_url: str) -> dict[str, Any]:
    """One round trip: the request joined with its state history (newest first)."""
    rows = conn.execute(_REQUEST_WITH_HISTORY, {"request_id": request_id}).all()
    if not rows:
        raise NotFound()
    row = rows[0]
    history = [state_json(r.h_state, r.h_reason, r.h_updated) for r in rows]
    annotations = orjson.loads(row.annotations) if row.annotations else None
    return to_json(
        row, settings=settings, base_url=base_url, verbose=True, history=history, annotations=annotations
    )


def get_requests(db: Database, ids: list[int], settings: Settings, base_url: str) -> list[dict[str, Any]]:
    with db.read() as conn:
        rows = conn.execute(_base_query().where(requests.c.id.in_(ids)).order_by(requests.c.id)).all()
        return _render(conn, rows, settings, base_url, True)


@dataclass
class RequestRecord:
    """What artifact endpoints need to know about a request."""

    id: int
    request_type: str
    state: str
    updated: datetime
    data: dict[str, Any]


def get_record(db: Database, request_id: int) -> RequestRecord:
    with db.read() as conn:
        row = conn.execute(
            select(
                requests.c.id, requests.c.type, requests.c.state, requests.c.updated, requests.c.data
            ).where(requests.c.id == request_id)
        ).first()
    if row is None:
        raise NotFound()
    return RequestRecord(
        row.id, TYPE_NAMES[row.type], STATE_NAMES[row.state], row.updated, orjson.loads(row.data)
    )


def _bool_arg(value: str | None) -> bool:
    return (value or "").lower() in ("true", "1")


def _positive_int(value: str, message: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ValidationError(message) from None
    if number < 1:
        raise ValidationError(message)
    return number


def _total_query(conditions: list[Any], counted: list[Any]) -> Any:
    """How many requests match: from the counters when only state and type filter, else counted."""
    if len(conditions) == len(counted):
        return select(func.coalesce(func.sum(request_counts.c.count), 0)).where(*counted).scalar_subquery()
    return select(func.count()).select_from(requests).where(*conditions).scalar_subquery()


def _page_query(conditions: list[Any], total_query: Any, verbose: bool) -> Any:
    return (
        _base_query(annotations=verbose)
        .add_columns(total_query.label("total"))
        .where(*conditions)
        .order_by(requests.c.id.desc())
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


_TOTAL_OF_ALL = _total_query([], [])
_PAGE_OF_ALL = {verbose: _page_query([], _TOTAL_OF_ALL, verbose) for verbose in (False, True)}

LIST_FILTERS = (
    "state",
    "batch",
    "request_type",
    "user",
    "index_image",
    "from_index",
    "from_index_startswith",
)


def list_requests(db: Database, args: dict[str, str], settings: Settings, base_url: str) -> dict[str, Any]:
    """``GET /builds``: one page of requests, newest first, with IIB's filters and envelope."""
    page = _positive_int(args.get("page") or "1", "The page must be a positive integer")
    per_page = min(
        _positive_int(args.get("per_page") or "20", "The per_page must be a positive integer"),
        settings.IIB_MAX_PER_PAGE,
    )
    verbose = _bool_arg(args.get("verbose"))
    conditions: list[Any] = []
    counted: list[Any] = []  # the same conditions on request_counts (state and type only)
    echoed: dict[str, str] = {}
    with db.read() as conn:
        state = args.get("state")
        if state:
            if state not in STATES:
                raise ValidationError(
                    f"{state} is not a valid build request state. Valid states are: "
                    + ", ".join(sorted(STATES))
                )
            echoed["state"] = state
            conditions.append(requests.c.state == STATES[state])
            counted.append(request_counts.c.state == STATES[state])
        if args.get("batch") is not None:
            batch = _positive_int(args["batch"], "The batch must be a positive integer")
            echoed["batch"] = args["batch"]
            # Beyond the database's integers no batch exists: nothing matches (no overflow).
            conditions.append(requests.c.batch_id == batch if batch <= MAX_ROW_ID else false())
        request_type = args.get("request_type")
        if request_type:
            if request_type not in TYPES:
                raise ValidationError(
                    f"{request_type} is not a valid build request type. Valid request_types are: "
                    + ", ".join(TYPES)
                )
            echoed["request_type"] = request_type
            conditions.append(requests.c.type == TYPES[request_type])
            counted.append(request_counts.c.type == TYPES[request_type])
        user = args.get("user")
        if user:
            echoed["user"] = user
            conditions.append(
                requests.c.user_id == select(users.c.id).where(users.c.username == user).scalar_subquery()
            )
        from_index = args.get("from_index")
        if from_index:
            echoed["from_index"] = from_index
            image_id = conn.execute(
                select(images.c.id).where(images.c.pull_specification == from_index)
            ).scalar()
            if image_id is None:
                raise ValidationError(f"from_index {from_index} is not a valid index image")
            conditions.append(requests.c.from_index_id == image_id)
        prefix = args.get("from_index_startswith")
        if prefix:
            echoed["from_index_startswith"] = prefix
            matching = select(images.c.id).where(
                func.substr(images.c.pull_specification, 1, len(prefix)) == prefix
            )
            if conn.execute(matching.limit(1)).first() is None:
                raise ValidationError(f"Can't find any from_index starting with {prefix}")
            conditions.append(requests.c.from_index_id.in_(matching))
        index_image = args.get("index_image")
        if index_image:
            echoed["index_image"] = index_image
            image_id = conn.execute(
                select(images.c.id).where(images.c.pull_specification == index_image)
            ).scalar()
            if image_id is None:
                raise ValidationError(f"{index_image} is not a valid index image")
            conditions.append(requests.c.index_image_id == image_id)
        # One round trip for the page and the total; a second only when the page is empty.
        if conditions:
            total_query = _total_query(conditions, counted)
            page_query = _page_query(conditions, total_query, verbose)
        else:
            total_query, page_query = _TOTAL_OF_ALL, _PAGE_OF_ALL[verbose]
        offset = (page - 1) * per_page
        # No table holds more rows than ids: a larger offset is past the end, never sent to the database.
        rows = (
            conn.execute(page_query, {"limit": per_page, "offset": offset}).all()
            if offset <= MAX_ROW_ID
            else []
        )
        total = int(rows[0].total if rows else conn.execute(select(total_query)).scalar_one())
        pages = math.ceil(total / per_page) if total else 0
        if page > max(pages, 1):
            raise NotFound()
        items = _render(conn, rows, settings, base_url, verbose)

    if verbose:
        echoed["verbose"] = args.get("verbose", "true")
    rest = f"&{urlencode(echoed)}" if echoed else ""

    def page_url(number: int) -> str:
        return f"{base_url}/api/v1/builds?page={number}&per_page={per_page}{rest}"

    last = max(pages, 1)
    return {
        "items": items,
        "meta": {
            "first": page_url(1),
            "last": page_url(last),
            "next": page_url(page + 1) if page < pages else None,
            "previous": page_url(page - 1) if page > 1 else None,
            "page": page,
            "pages": pages,
            "per_page": per_page,
            "total": total,
        },
    }


def _check_patch_values(payload: dict[str, Any]) -> None:
    for key, value in payload.items():
        if key == "arches":
            validate_architectures(value)
        elif key == "bundle_mapping":
            message = f'The "{key}" key must be an object with the values as lists of strings'
            if not isinstance(value, dict) or any(
                not isinstance(v, list) or any(not isinstance(s, str) for s in v) for v in value.values()
            ):
                raise ValidationError(message)
        elif key in ("fbc_fragments", "fbc_fragments_resolved", "bundles"):
            if not isinstance(value, list) or any(not item or not isinstance(item, str) for item in value):
                raise ValidationError(f'The value for "{key}" must be a list of non-empty strings')
        elif key == "bundle_replacements":
            if not isinstance(value, dict) or any(
                not isinstance(k, str) or not isinstance(v, str) for k, v in value.items()
            ):
                raise ValidationError(
                    f'The "{key}" key must be a dictionary object mapping from strings to strings'
                )
        elif key == "omps_operator_version":
            if isinstance(value, str) and value:
                try:
                    parsed = orjson.loads(value)
                except orjson.JSONDecodeError:
                    parsed = None
                if not isinstance(parsed, dict):
                    raise ValidationError(f'The value for "{key}" must be a JSON object')
            elif not isinstance(value, dict):
                raise ValidationError(f'The value for "{key}" must be a JSON object')
        elif not value or not isinstance(value, str):
            raise ValidationError(f'The value for "{key}" must be a non-empty string')
    if "state" in payload and "state_reason" not in payload:
        raise ValidationError('The "state_reason" key is required when "state" is supplied')
    if "state_reason" in payload and "state" not in payload:
        raise ValidationError('The "state" key is required when "state_reason" is supplied')
    if "state" in payload and payload["state"] not in STATES:
        raise ValidationError(
            f"{payload['state']} is not a valid build request state. Valid states are: "
            + ", ".join(sorted(STATES))
        )


def _lock_request(conn: Connection, request_id: int) -> Any:
    query = select(requests.c.id, requests.c.type, requests.c.state, requests.c.state_reason, requests.c.data)
    query = query.where(requests.c.id == request_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return conn.execute(query).first()


@dataclass
class StateChange:
    """A state transition made by a PATCH or a recorded run (for metrics and logs)."""

    request_id: int
    request_type: str
    state: str
    reason: str
    created: datetime | None
    updated: datetime


def apply_update(
    conn: Connection, row: Any, payload: dict[str, Any], *, keep_final_reason: bool = False
) -> StateChange | None:
    """Apply checked keys to a locked request row; returns the state change made, if any."""
    request_type = TYPE_NAMES[row.type]
    data = orjson.loads(row.data)
    values: dict[str, Any] = {}
    change = None
    now = utcnow()
    if "state" in payload:
        new_state, new_reason = payload["state"], payload["state_reason"]
        current = STATE_NAMES[row.state]
        if current in FINAL_STATES and new_state != current:
            raise ValidationError(f"A {current} request cannot change states")
        if (new_state, new_reason) != (current, row.state_reason) and not (
            keep_final_reason and current in FINAL_STATES
        ):
            values.update(state=STATES[new_state], state_reason=new_reason, updated=now)
            if STATES[new_state] != row.state:
                bump_count(conn, row.type, row.state, -1)
                bump_count(conn, row.type, STATES[new_state], 1)
            conn.execute(
                insert(request_states).values(
                    request_id=row.id, state=STATES[new_state], state_reason=new_reason, updated=now
                )
            )
            created = conn.execute(
                select(func.min(request_states.c.updated)).where(request_states.c.request_id == row.id)
            ).scalar()
            change = StateChange(row.id, request_type, new_state, new_reason, created, now)
    for key, value in payload.items():
        if key in ("state", "state_reason"):
            continue
        if key == "arches":
            data["arches"] = sorted(set(data.get("arches", [])) | set(value))
            continue
        if key in IMAGE_KEYS:
            check_pull_spec(value)
        if key == "index_image" and request_type in INDEX_IMAGE_TYPES:
            values["index_image_id"] = get_or_create_image(conn, value)
        if key == "bundle_mapping":
            for operator, bundles in value.items():
                operator_id = get_or_create(conn, operators, "name", operator)
                for bundle in bundles:
                    image_id = get_or_create_image(conn, check_pull_spec(bundle))
                    conn.execute(
                        update(images).where(images.c.id == image_id).values(operator_id=operator_id)
                    )
        if key == "omps_operator_version" and isinstance(value, str):
            value = orjson.loads(value)
        data[key] = value
    values["data"] = orjson.dumps(data).decode()
    conn.execute(update(requests).where(requests.c.id == row.id).values(values))
    return change


def patch_request(db: Database, request_id: int, payload: Any) -> StateChange | None:
    """``PATCH /builds/<id>``: check the body, then update the request under a row lock."""
    if not isinstance(payload, dict):
        raise ValidationError("The input data must be a JSON object")
    if not payload:
        raise ValidationError("At least one key must be specified to update the request")
    with db.write() as conn:
        row = _lock_request(conn, request_id)
        if row is None:
            raise NotFound()
        request_type = TYPE_NAMES[row.type]
        # The allowed keys first, as IIB does; only add requests allow omps_operator_version.
        invalid = payload.keys() - MUTABLE[request_type]
        if invalid:
            raise ValidationError("The following keys are not allowed: {}".format(", ".join(sorted(invalid))))
        _check_patch_values(payload)
        return apply_update(conn, row, payload)


def batch_state(states: list[str]) -> str:
    """IIB's derived batch state: any in_progress → in_progress; else any failed → failed; else complete."""
    if "in_progress" in states:
        return "in_progress"
    return "failed" if "failed" in states else "complete"


def get_batch(db: Database, batch_id: int) -> dict[str, Any]:
    """A batch as IIB describes it in its batch messages: state, annotations, user, requests."""
    with db.read() as conn:
        annotations = conn.execute(select(batches.c.annotations).where(batches.c.id == batch_id)).first()
        if annotations is None:
            raise NotFound()
        rows = conn.execute(
            select(requests.c.id, requests.c.type, requests.c.state, requests.c.data, users.c.username)
            .select_from(requests.outerjoin(users, requests.c.user_id == users.c.id))
            .where(requests.c.batch_id == batch_id)
            .order_by(requests.c.id)
        ).all()
    return {
        "batch": batch_id,
        "annotations": orjson.loads(annotations[0]) if annotations[0] else None,
        "requests": [
            {
                "id": row.id,
                "organization": orjson.loads(row.data).get("organization"),
                "request_type": TYPE_NAMES[row.type],
            }
            for row in rows
        ],
        "state": batch_state([STATE_NAMES[row.state] for row in rows]),
        "user": rows[0].username if rows else None,
    }


def counts_by_type_and_state(db: Database) -> list[tuple[str, str, int]]:
    """How many requests there are per type and state (for /metrics)."""
    with db.read() as conn:
        rows = conn.execute(
            select(requests.c.type, requests.c.state, func.count()).group_by(
                requests.c.type, requests.c.state
            )
        )
        return [(TYPE_NAMES[t], STATE_NAMES[s], n) for t, s, n in rows]
