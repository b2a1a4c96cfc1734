"""A request's log: the output of its steps, in order, each line prefixed ``[task : step]`` (as
``tkn pipelinerun logs`` and our runner's CLI show it), kept in the log storage so that
``/builds/<id>/logs`` serves it while the run goes on and after.
"""

from __future__ import annotations

import threading
import time

from status_api.storage import LOGS, LocalStorage, S3Storage


def prefixed(task: str, step: str, text: str) -> str:
    """``text`` with every line prefixed by its task and step; ends with a newline unless empty."""
    if not text:
        return ""
    lines = text.splitlines()
    return "".join(f"[{task} : {step}] {line}\n" for line in lines)


class RequestLog:
    """The growing log of one request, written through to the storage.

    The first lines are stored at once; after that at most every ``interval`` seconds (S3 takes the
    whole object each time), and everything on ``close``.
    """

    def __init__(self, storage: LocalStorage | S3Storage, request_id: int, interval: float = 1.0) -> None:
        self.storage = storage
        self.request_id = request_id
        self.interval = interval
        self._parts: list[str] = []
        self._lock = threading.Lock()
        self._stored_at: float | None = None
        self._dirty = False

    @property
    def enabled(self) -> bool:
        return self.storage.configured(LOGS)

    def text(self) -> str:
        with self._lock:
            return "".join(self._parts)

    def write(self, task: str, step: str, text: str) -> None:
        """Add output of one step (one or more lines)."""
        chunk = prefixed(task, step, text)
        if not chunk:
            return
        with self._lock:
            self._parts.append(chunk)
            self._dirty = True
            due = self._stored_at is None or time.monotonic() - self._stored_at >= self.interval
        if due:
            self.flush()

    def note(self, line: str) -> None:
        """A line of our own (the executor's), unprefixed."""
        with self._lock:
            self._parts.append(line.rstrip("\n") + "\n")
            self._dirty = True
        self.flush()

    def flush(self) -> None:
        with self._lock:
            if not self._dirty or not self.enabled:
                return
            content = "".join(self._parts).encode()
            self._dirty = False
            self._stored_at = time.monotonic()
            self.storage.put(LOGS, self.request_id, content)

    def close(self) -> None:
        self.flush()
