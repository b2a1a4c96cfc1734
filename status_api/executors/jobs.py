"""The local executor's durable queue: one file per request not yet done, in ``<runs dir>/jobs``.

``<id>.json`` holds what is needed to start the request again (never its secrets: only whether it
had some); ``<id>.started`` marks that its run began. The process that owns a job holds an exclusive
``flock`` on its file for as long as it does, so that after a restart (or beside another API process
on the same folder) a job is taken over only when no live process holds it: no request is lost, none
runs twice.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from status_api.executors.base import Submission
from status_api.executors.params import serial_key


@dataclass
class Job:
    """A request the local executor owns, with the lock that says so."""

    submission: Submission
    serial: str | None
    has_secrets: bool
    started: bool = False
    fd: int | None = field(default=None, repr=False)
    cancel: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def request_id(self) -> int:
        return self.submission.request_id


def _encode(submission: Submission) -> bytes:
    return orjson.dumps(
        {
            "request_id": submission.request_id,
            "request_type": submission.request_type,
            "params": submission.params,
            "user": submission.user,
            "has_secrets": bool(submission.secrets),
        }
    )


def _decode(raw: bytes) -> tuple[Submission, bool]:
    data: dict[str, Any] = orjson.loads(raw)
    submission = Submission(
        request_id=int(data["request_id"]),
        request_type=str(data["request_type"]),
        params=dict(data.get("params") or {}),
        user=data.get("user"),
    )
    return submission, bool(data.get("has_secrets"))


class JobStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def _path(self, request_id: int, suffix: str = ".json") -> Path:
        return self.folder / f"{request_id}{suffix}"

    def add(self, submission: Submission) -> Job:
        """Persist a new job, locked by this process from before it is visible."""
        final = self._path(submission.request_id)
        temporary = self.folder / f".{submission.request_id}.{os.getpid()}.{threading.get_ident()}.tmp"
        fd = os.open(temporary, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, _encode(submission))
            os.fsync(fd)
            os.replace(temporary, final)
        except BaseException:
            os.close(fd)
            temporary.unlink(missing_ok=True)
            raise
        self._path(submission.request_id, ".started").unlink(missing_ok=True)
        return Job(submission, serial_key(submission), bool(submission.secrets), fd=fd)

    def mark_started(self, job: Job) -> None:
        marker = self._path(job.request_id, ".started")
        marker.touch()
        job.started = True

    def remove(self, job: Job) -> None:
        """The job is done: forget it and let go of its lock."""
        self._path(job.request_id, ".started").unlink(missing_ok=True)
        self._path(job.request_id).unlink(missing_ok=True)
        if job.fd is not None:
            os.close(job.fd)
            job.fd = None

    def release(self, job: Job) -> None:
        """Let go of the lock without forgetting the job (this process is stopping)."""
        if job.fd is not None:
            os.close(job.fd)
            job.fd = None

    def orphans(self) -> Iterator[Job]:
        """Jobs no live process holds (left by a process that stopped), now locked by this one."""
        for path in sorted(self.folder.glob("*.json"), key=lambda p: int(p.stem) if p.stem.isdigit() else 0):
            if not path.stem.isdigit():
                continue
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            if not path.exists():  # finished and removed while we waited for the lock
                os.close(fd)
                continue
            try:
                submission, has_secrets = _decode(Path(path).read_bytes())
            except (ValueError, KeyError, TypeError):
                os.close(fd)
                path.rename(path.with_suffix(".invalid"))
                continue
            started = self._path(submission.request_id, ".started").exists()
            yield Job(submission, serial_key(submission), has_secrets, started=started, fd=fd)
