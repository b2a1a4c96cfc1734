"""The seam to whatever starts builds: the API hands each new request to an ``Executor``.

Starting PipelineRuns (the local runner, Kubernetes) is built elsewhere; here are the protocol, a
no-op and a recording implementation. Secrets reach the executor only; they are never stored.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Submission:
    """One request to start: its id and type, its parameters, and its secrets (executor only)."""

    request_id: int
    request_type: str
    params: dict[str, Any]
    secrets: dict[str, Any] = field(default_factory=dict, repr=False)
    user: str | None = None


class Executor(Protocol):
    def submit(self, submission: Submission) -> None:
        """Start the build; raise to have the request marked failed with a scheduling error."""


class NoopExecutor:
    """Starts nothing: PipelineRuns are started elsewhere (tkn, Triggers) and recorded when seen."""

    def submit(self, submission: Submission) -> None:
        return None


class RecordingExecutor:
    """Keeps every submission in memory (tests, dry runs)."""

    def __init__(self) -> None:
        self.submissions: list[Submission] = []
        self._lock = threading.Lock()

    def submit(self, submission: Submission) -> None:
        with self._lock:
            self.submissions.append(submission)
