"""Running one step's process to its end: its output line by line to a log file and a callback,
stopped (process group terminated, then killed) when its deadline passes or the run is stopped."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from iib_steps.tekton.runner.objects import now

LineSink = Callable[[str], None]
_KILL_GRACE = 1.0
_ORPHAN_GRACE = 2.0


@dataclass
class Stopper:
    """Set by the scheduler to stop a TaskRun; ``reason`` says why (``TaskRunCancelled`` ...)."""

    event: threading.Event = field(default_factory=threading.Event)
    reason: str = ""
    message: str = ""

    def stop(self, reason: str, message: str) -> None:
        if not self.event.is_set():
            self.reason, self.message = reason, message
            self.event.set()

    @property
    def stopped(self) -> bool:
        return self.event.is_set()


@dataclass
class StepExit:
    """How a step's process ended: exit code, times, and why it was stopped (``timeout``/``stop``)."""

    exit_code: int
    started_at: str
    finished_at: str
    stopped: str = ""
    last_line: str = ""
    seconds: float = 0.0


def _pump(stream, log_path: Path, on_line: LineSink | None, tail: list[str]) -> None:
    with open(log_path, "ab") as log:
        for raw in iter(stream.readline, b""):
            log.write(raw)
            log.flush()
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if line.strip():
                tail[:] = [line]
            if on_line is not None:
                on_line(line)
    stream.close()


def _terminate(proc: subprocess.Popen, on_kill: Callable[[], None] | None) -> None:
    if on_kill is not None:
        on_kill()
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=_KILL_GRACE)
            return
        except subprocess.TimeoutExpired:
            continue


def run_process(
    argv: list[str],
    *,
    env: dict[str, str],
    cwd: str | None,
    log_path: Path,
    on_line: LineSink | None,
    deadline: float | None,
    stopper: Stopper,
    on_kill: Callable[[], None] | None = None,
) -> StepExit:
    """Run ``argv`` (no shell) in its own process group until it exits, times out or is stopped.

    ``deadline`` is a ``time.monotonic()`` value. A process killed by a signal gets ``128 + signal``
    as its exit code, as a container's does.
    """
    started = now()
    clock = time.perf_counter()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    tail: list[str] = []
    try:
        proc = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as exc:
        message = f"cannot run {argv[0]}: {exc.strerror}"
        log_path.write_text(message + "\n", encoding="utf-8")
        if on_line:
            on_line(message)
        return StepExit(127, started, now(), last_line=message)
    pump = threading.Thread(target=_pump, args=(proc.stdout, log_path, on_line, tail), daemon=True)
    pump.start()
    stopped = ""
    while True:
        wait = 0.1
        if deadline is not None:
            wait = max(0.0, min(wait, deadline - time.monotonic()))
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            pass
        if stopper.stopped:
            stopped = "stop"
        elif deadline is not None and time.monotonic() >= deadline:
            stopped = "timeout"
        if stopped:
            _terminate(proc, on_kill)
            break
    pump.join(timeout=_ORPHAN_GRACE)
    if pump.is_alive():  # a child left behind still holds the output open: end it, as a pod would
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        pump.join()
    code = proc.returncode if proc.returncode is not None else -signal.SIGKILL
    if code < 0:
        code = 128 - code
    return StepExit(code, started, now(), stopped, tail[0] if tail else "", time.perf_counter() - clock)
