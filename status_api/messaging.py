"""IIB's state-change messages (spec/iib.md §7), sent after the database commit, in the background.

Which messages, as IIB sends them:

* a **build** message to ``IIB_MESSAGING_BUILD_STATE_DESTINATION`` for every new request and every
  new state of a request: the body is the request's non-verbose JSON, the application properties
  ``batch``, ``id``, ``state`` and ``user``;
* a **batch** message to ``IIB_MESSAGING_BATCH_STATE_DESTINATION`` when a batch is created
  (``in_progress``) and whenever a request of a batch changes state while the batch is final: the
  body ``{batch, annotations, requests: [{id, organization, request_type}], state, user}``, the
  properties ``batch``, ``state`` and ``user``.

The bodies are rendered right after the commit, then queued. One thread per process sends the queue
in order over one connection per attempt. A broker that is down never blocks or fails a request:
the failure is logged and the unsent messages are retried ``IIB_MESSAGING_RETRIES`` times with a
doubling delay, then dropped with an error naming each one. Messages keep their correlation id
across retries.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import orjson
from sqlalchemy import select

from status_api.amqp import AmqpSender, Envelope, tls_files
from status_api.builds import StateChange, get_batch
from status_api.db import Database
from status_api.models import requests, users
from status_api.request_types import FINAL_STATES, INITIAL_REASON
from status_api.serialize import timestamp, to_json
from status_api.settings import Settings

log = logging.getLogger(__name__)

MAX_RETRY_DELAY = 300.0


class Sender(Protocol):
    def send(self, envelopes: list[Envelope], on_sent: Any) -> None: ...


def _message_json(content: Any) -> str:
    """JSON text as IIB writes a message body (Python's ``json.dumps``; keys sorted, as the API)."""
    return json.dumps(content, sort_keys=True)


def _request_rows(db: Database, ids: list[int]) -> list[Any]:
    query = (
        select(
            requests.c.id,
            requests.c.type,
            requests.c.batch_id,
            users.c.username,
            requests.c.state,
            requests.c.state_reason,
            requests.c.updated,
            requests.c.data,
        )
        .select_from(requests.outerjoin(users, requests.c.user_id == users.c.id))
        .where(requests.c.id.in_(ids))
        .order_by(requests.c.id)
    )
    with db.read() as conn:
        return list(conn.execute(query).all())


def _proton_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("proton") is not None


@dataclass
class _Pending:
    envelope: Envelope
    attempts: int = 0


class Messenger:
    """Builds IIB's envelopes after a commit and sends them on a background thread."""

    def __init__(self, settings: Settings, db: Database, sender: Sender | None = None) -> None:
        self.settings = settings
        self.db = db
        self.build_address = settings.IIB_MESSAGING_BUILD_STATE_DESTINATION
        self.batch_address = settings.IIB_MESSAGING_BATCH_STATE_DESTINATION
        wanted = bool(self.build_address or self.batch_address)
        self.enabled = wanted and bool(settings.IIB_MESSAGING_URLS)
        if wanted and not self.enabled:
            log.error('The "IIB_MESSAGING_URLS" must be set to send messages')
        if self.enabled and sender is None and not _proton_installed():
            log.error("Messages are configured but python-qpid-proton is not installed (the messaging extra)")
            self.enabled = False
        if sender is None and self.enabled:
            tls = tls_files(
                settings.IIB_MESSAGING_CERT, settings.IIB_MESSAGING_KEY, settings.IIB_MESSAGING_CA
            )
            if tls is None:
                log.warning("Skipping authentication due to missing certificates and/or a private key")
            sender = AmqpSender(settings.IIB_MESSAGING_URLS, float(settings.IIB_MESSAGING_TIMEOUT), tls)
        self.sender = sender
        self.sent = 0
        self.dropped = 0
        self.failures = 0
        self._pending: deque[_Pending] = deque()
        self._cond = threading.Condition()
        self._closing = False
        self._busy = False
        self._thread: threading.Thread | None = None

    # Building envelopes -------------------------------------------------------------------------

    def _envelope(self, address: str, content: Any, properties: dict[str, Any]) -> Envelope:
        return Envelope(
            address,
            _message_json(content),
            properties,
            str(uuid.uuid4()),
            self.settings.IIB_MESSAGING_DURABLE,
        )

    def _base_url(self, base_url: str | None) -> str:
        return (base_url or self.settings.IIB_PUBLIC_URL or "").rstrip("/")

    def _build_envelopes(
        self, ids: list[int], base_url: str | None, state: tuple[str, str, datetime] | None = None
    ) -> tuple[list[Envelope], set[int]]:
        envelopes: list[Envelope] = []
        batch_ids: set[int] = set()
        for row in _request_rows(self.db, ids):
            batch_ids.add(row.batch_id)
            if not self.build_address:
                continue
            body = to_json(row, settings=self.settings, base_url=self._base_url(base_url), verbose=False)
            if state is not None:
                body.update(state=state[0], state_reason=state[1], updated=timestamp(state[2]))
            properties = {key: body[key] for key in ("batch", "id", "state", "user")}
            envelopes.append(self._envelope(self.build_address, body, properties))
        return envelopes, batch_ids

    def _batch_envelope(self, batch_id: int, new: bool) -> Envelope | None:
        if not self.batch_address:
            return None
        content = get_batch(self.db, batch_id)
        if new:
            content["state"] = "in_progress"
        elif content["state"] not in FINAL_STATES:
            return None
        properties = {"batch": batch_id, "state": content["state"], "user": content["user"]}
        return self._envelope(self.batch_address, content, properties)

    # After a commit -----------------------------------------------------------------------------

    def requests_created(
        self, ids: list[int], base_url: str | None, *, state: tuple[str, str, datetime] | None = None
    ) -> None:
        """New requests of one new batch: a build message each, then the batch's ``in_progress`` message.

        ``state`` renders the messages as of the first state when later ones were committed with it
        (a PipelineRun first seen when it had already moved on).
        """
        if not self.enabled or not ids:
            return
        self._guarded(self._created, ids, base_url, state)

    def _created(self, ids: list[int], base_url: str | None, state: Any) -> None:
        envelopes, batch_ids = self._build_envelopes(ids, base_url, state)
        for batch_id in sorted(batch_ids):
            batch = self._batch_envelope(batch_id, new=True)
            if batch is not None:
                envelopes.append(batch)
        self._enqueue(envelopes)

    def state_changed(self, change: StateChange | None, base_url: str | None) -> None:
        """A new state of a request: its build message, and the batch message if the batch is final."""
        if not self.enabled or change is None:
            return
        self._guarded(self._changed, change, base_url)

    def _changed(self, change: StateChange, base_url: str | None) -> None:
        envelopes, batch_ids = self._build_envelopes(
            [change.request_id], base_url, (change.state, change.reason, change.updated)
        )
        for batch_id in sorted(batch_ids):
            batch = self._batch_envelope(batch_id, new=False)
            if batch is not None:
                envelopes.append(batch)
        self._enqueue(envelopes)

    def recorded(
        self, request_id: int, created: bool, change: StateChange | None, base_url: str | None
    ) -> None:
        """A PipelineRun recorded: messages for the request it created (if any), then for its new state."""
        if created:
            first = (
                ("in_progress", INITIAL_REASON, change.created)
                if change is not None and change.created is not None
                else None
            )
            self.requests_created([request_id], base_url, state=first)
        self.state_changed(change, base_url)

    def on_recorded(self, recorded: Any) -> None:
        """The watcher's callback (a ``recording.Recorded``); links in bodies use IIB_PUBLIC_URL."""
        self.recorded(recorded.request_id, recorded.created, recorded.change, None)

    def _guarded(self, fn: Any, *args: Any) -> None:
        try:
            fn(*args)
        except Exception:
            log.exception("Could not prepare the state change messages; none were sent")

    # The background sender ----------------------------------------------------------------------

    def _enqueue(self, envelopes: list[Envelope]) -> None:
        if not envelopes:
            return
        with self._cond:
            if self._closing:
                for envelope in envelopes:
                    self._drop(envelope, "the API is shutting down")
                return
            self._pending.extend(_Pending(e) for e in envelopes)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="iib-messaging", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def _drop(self, envelope: Envelope, why: str) -> None:
        self.dropped += 1
        log.error(
            "Giving up on message %s (correlation-id) to %s with properties %s: %s",
            envelope.correlation_id,
            envelope.address,
            orjson.dumps(envelope.properties).decode(),
            why,
        )

    def _on_sent(self, envelope: Envelope) -> None:
        with self._cond:
            head = self._pending.popleft()
            assert head.envelope is envelope
            self.sent += 1
            self._cond.notify_all()

    def _run(self) -> None:
        streak = 0
        while True:
            with self._cond:
                while not self._pending and not self._closing:
                    self._busy = False
                    self._cond.notify_all()
                    self._cond.wait()
                if self._closing and (not self._pending or streak):
                    self._busy = False
                    for pending in self._pending:
                        self._drop(pending.envelope, "the API is shutting down")
                    self._pending.clear()
                    self._cond.notify_all()
                    return
                self._busy = True
                batch = [p.envelope for p in self._pending]
            try:
                assert self.sender is not None
                self.sender.send(batch, self._on_sent)
                streak = 0
                continue
            except Exception as exc:
                streak += 1
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                log.error("Failed to send one or more messages: %s", reason)
            delay = min(self.settings.IIB_MESSAGING_RETRY_DELAY * 2 ** (streak - 1), MAX_RETRY_DELAY)
            with self._cond:
                self.failures += 1
                kept: deque[_Pending] = deque()
                for pending in self._pending:
                    pending.attempts += 1
                    if pending.attempts > self.settings.IIB_MESSAGING_RETRIES:
                        self._drop(pending.envelope, f"{pending.attempts} attempts failed: {reason}")
                    else:
                        kept.append(pending)
                self._pending = kept
                self._cond.notify_all()
                if self._pending and not self._closing:
                    self._cond.wait(delay)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every queued message was sent or dropped; False if ``timeout`` passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and not self._busy, timeout)

    def wait_for(self, predicate: Any, timeout: float | None = None) -> bool:
        """Wait until ``predicate(self)`` holds (tests: a failure was seen, a message was sent)."""
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self), timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Stop the sender: one last attempt for what is queued (unless it is already failing)."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
