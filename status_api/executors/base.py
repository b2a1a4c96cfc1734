"""What every executor is: the ``Submission`` it is handed, the ``Executor`` protocol, and the two
executors that start nothing (``none``, and an in-memory recorder for tests and dry runs).

Secrets reach the executor only; they are never stored in the database.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import select

from status_api.db import Database
from status_api.models import requests
from status_api.pipelinerun import RunOutcome

if TYPE_CHECKING:
    from status_api.builds import StateChange
    from status_api.recording import Recorded


@dataclass(frozen=True)
class Submission:
    """One request to start: its id and type, its parameters, and its secrets (executor only)."""

    request_id: int
    request_type: str
    params: dict[str, Any]
    secrets: dict[str, Any] = field(default_factory=dict, repr=False)
    user: str | None = None


@dataclass(frozen=True)
class RunRef:
    """Where a request's PipelineRun is, as recorded (name and namespace), if it was recorded."""

    name: str | None = None
    namespace: str | None = None


class Notifier(Protocol):
    """Who hears of the state changes an executor makes itself (the AMQP messenger)."""

    def on_recorded(self, recorded: Recorded) -> None: ...

    def state_changed(self, change: StateChange | None, base_url: str | None) -> None: ...


class Silent:
    """A notifier that tells nobody."""

    def on_recorded(self, recorded: Recorded) -> None:
        return None

    def state_changed(self, change: StateChange | None, base_url: str | None) -> None:
        return None


def run_ref(db: Database, request_id: int) -> RunRef:
    """The PipelineRun recorded for a request (empty when none was)."""
    with db.read() as conn:
        row = conn.execute(
            select(requests.c.pipelinerun_name, requests.c.pipelinerun_namespace).where(
                requests.c.id == request_id
            )
        ).first()
    return RunRef(row.pipelinerun_name, row.pipelinerun_namespace) if row else RunRef()


class Executor(Protocol):
    def submit(self, submission: Submission) -> None:
        """Start the build; raise to have the request marked failed with a scheduling error."""

    def cancel(self, request_id: int, run: RunRef) -> None:
        """Stop the request's run if this executor started one (the request is already failed)."""

    def recorded(self, outcome: RunOutcome, request_id: int) -> None:
        """A PipelineRun of ``request_id`` was recorded (from a watcher or a CloudEvent)."""

    def running_log(self, request_id: int, run: RunRef) -> str | None:
        """The log so far of a running request whose log is not stored yet, if this executor can tell."""

    def close(self) -> None:
        """Stop background work (the app is shutting down)."""


class NoopExecutor:
    """Starts nothing (``IIB_EXECUTOR=none``): PipelineRuns are started elsewhere (tkn, Triggers)
    and recorded when seen."""

    def submit(self, submission: Submission) -> None:
        return None

    def cancel(self, request_id: int, run: RunRef) -> None:
        return None

    def recorded(self, outcome: RunOutcome, request_id: int) -> None:
        return None

    def running_log(self, request_id: int, run: RunRef) -> str | None:
        return None

    def close(self) -> None:
        return None


class RecordingExecutor(NoopExecutor):
    """Keeps every submission and cancellation in memory (tests, dry runs)."""

    def __init__(self) -> None:
        self.submissions: list[Submission] = []
        self.cancelled: list[tuple[int, RunRef]] = []
        self._lock = threading.Lock()

    def submit(self, submission: Submission) -> None:
        with self._lock:
            self.submissions.append(submission)

    def cancel(self, request_id: int, run: RunRef) -> None:
        with self._lock:
            self.cancelled.append((request_id, run))
