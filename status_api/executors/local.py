"""``IIB_EXECUTOR=local`` (the default): run each request's Pipeline with the embedded Tekton runner.

- A bounded pool: at most ``IIB_LOCAL_WORKERS`` runs at once; the others wait in order.
- IIB's serial queues: requests that overwrite the same index run one after another, in order,
  without holding a worker while they wait.
- Durable: each request is a job file (``jobs.JobStore``) until its run is over and recorded. When
  the API starts, the jobs no live process holds are taken over: one that had started ends
  ``failed`` with a reason saying it was interrupted; one that had not is started (unless it had
  secrets, which are never kept: it then fails with a reason asking to submit it again).
- The final PipelineRun object goes through the same recording path as a cluster's
  (``read_pipelinerun`` + ``record_run``); the steps report their progress over HTTP themselves
  (``IIB_STATUS_API_URL``) as IIB's workers do, with a worker token this executor provides.
- Each run gets the steps' settings file (``IIB_LOCAL_STEPS_SETTINGS``) as its settings workspace,
  the registry credentials (``IIB_LOCAL_REGISTRY_AUTH_FILE``) and its secrets as private folders.
- The steps' output becomes the request's log while it runs.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from status_api import builds
from status_api.db import Database
from status_api.errors import ApiError
from status_api.executors.base import Notifier, RunRef, Silent, Submission
from status_api.executors.jobs import Job, JobStore
from status_api.executors.params import (
    AUTH_KEY,
    SETTINGS_KEY,
    TOKEN_KEY,
    WORKSPACE_REGISTRY_AUTH,
    WORKSPACE_SETTINGS,
    WORKSPACE_STATUS_API_TOKEN,
    RunSettings,
    pipeline_name,
    pipeline_params,
    run_annotations,
    run_labels,
    run_name,
    secret_files,
)
from status_api.executors.steplogs import RequestLog
from status_api.pipelinerun import RunOutcome, read_pipelinerun
from status_api.recording import record_run
from status_api.request_types import FINAL_STATES
from status_api.settings import Settings
from status_api.storage import LocalStorage, S3Storage

log = logging.getLogger(__name__)

LOCAL_WORKER = "iib-local-executor"
INTERRUPTED = (
    "The request was interrupted: the status API stopped while its PipelineRun was running."
    " Please submit it again"
)
SECRETS_LOST = (
    "The request was not started before the status API stopped, and its secrets are not kept."
    " Please submit it again"
)


@dataclass
class LocalRun:
    """One PipelineRun for the embedded runner to run."""

    name: str
    pipeline: Path
    params: dict[str, str | list[str]]
    workspaces: dict[str, Path]
    secret_workspaces: frozenset[str]
    labels: dict[str, str]
    annotations: dict[str, str]
    runs_dir: Path
    runtime: str
    cancel: threading.Event
    on_log: Callable[[str, str, str], None]
    on_update: Callable[[dict[str, Any]], None] = field(default=lambda _run: None)


class Runner(Protocol):
    def run(self, run: LocalRun) -> dict[str, Any]:
        """Run the Pipeline to its end; return the final ``tekton.dev/v1`` PipelineRun object."""


def default_pipelines_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "pipelines"


def pipeline_file(pipelines_dir: Path, request_type: str) -> Path:
    """``pipelines/iib-<type>/<newest version>/iib-<type>.yaml``."""
    name = pipeline_name(request_type)
    versions = sorted(
        (p for p in (pipelines_dir / name).glob(f"*/{name}.yaml")),
        key=lambda p: [int(x) if x.isdigit() else 0 for x in p.parent.name.split(".")],
    )
    if not versions:
        raise FileNotFoundError(f"no Pipeline {name} in {pipelines_dir}")
    return versions[-1]


def worker_token(runs_dir: Path) -> str:
    """The token the steps report with, shared by every API process using ``runs_dir``."""
    path = runs_dir / "worker-token"
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    token = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w") as handle:
        handle.write(token)
    return token


class _Queue:
    """FIFO of jobs where a job waits while another with the same serial key runs or is ahead."""

    def __init__(self) -> None:
        self.pending: deque[Job] = deque()
        self.busy: set[str] = set()
        self.running: dict[int, Job] = {}
        self.closed = False
        self.cond = threading.Condition()

    def put(self, job: Job) -> None:
        with self.cond:
            self.pending.append(job)
            self.cond.notify_all()

    def take(self) -> Job | None:
        with self.cond:
            while True:
                if self.closed:
                    return None
                for job in self.pending:
                    if job.serial is None or job.serial not in self.busy:
                        self.pending.remove(job)
                        if job.serial is not None:
                            self.busy.add(job.serial)
                        self.running[job.request_id] = job
                        return job
                self.cond.wait()

    def done(self, job: Job) -> None:
        with self.cond:
            self.running.pop(job.request_id, None)
            if job.serial is not None:
                self.busy.discard(job.serial)
            self.cond.notify_all()

    def drop(self, request_id: int) -> Job | None:
        """Take a job out if it is still waiting."""
        with self.cond:
            for job in self.pending:
                if job.request_id == request_id:
                    self.pending.remove(job)
                    return job
            return None

    def close(self) -> list[Job]:
        with self.cond:
            self.closed = True
            left = list(self.pending)
            self.pending.clear()
            self.cond.notify_all()
            return left


class LocalExecutor:
    """Runs requests' Pipelines with the embedded runner on this machine (see the module doc)."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        storage: LocalStorage | S3Storage,
        runner: Runner | None = None,
        *,
        notifier: Notifier | None = None,
        log_interval: float = 1.0,
    ) -> None:
        self.settings = settings
        self.notifier = notifier or Silent()
        self.db = db
        self.storage = storage
        self.runs_dir = Path(settings.IIB_LOCAL_RUNS_DIR).resolve()
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.pipelines_dir = Path(settings.IIB_LOCAL_PIPELINES_DIR or default_pipelines_dir()).resolve()
        self.runner = runner or _embedded_runner(self.pipelines_dir)
        self.jobs = JobStore(self.runs_dir / "jobs")
        self.log_interval = log_interval
        self.token = worker_token(self.runs_dir)
        self._authorize_steps()
        self.queue = _Queue()
        self.logs: dict[int, RequestLog] = {}
        self._logs_lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._work, name=f"iib-local-{n}", daemon=True)
            for n in range(settings.IIB_LOCAL_WORKERS)
        ]
        self._threads.append(threading.Thread(target=self._flush_logs, name="iib-local-logs", daemon=True))
        self.recover()
        for thread in self._threads:
            thread.start()

    def _authorize_steps(self) -> None:
        """Let the steps PATCH their request, as IIB's workers do, with this executor's token."""
        self.settings.IIB_API_TOKENS = {**self.settings.IIB_API_TOKENS, self.token: LOCAL_WORKER}
        if LOCAL_WORKER not in self.settings.IIB_WORKER_USERNAMES:
            self.settings.IIB_WORKER_USERNAMES = [*self.settings.IIB_WORKER_USERNAMES, LOCAL_WORKER]

    # -- Executor --------------------------------------------------------------------------------
    def submit(self, submission: Submission) -> None:
        if self._stop.is_set():
            raise RuntimeError("the local executor is stopped")
        self.queue.put(self.jobs.add(submission))

    def cancel(self, request_id: int, run: RunRef) -> None:
        waiting = self.queue.drop(request_id)
        if waiting is not None:
            self.jobs.remove(waiting)
            return
        with self.queue.cond:
            job = self.queue.running.get(request_id)
        if job is not None:
            job.cancel.set()

    def recorded(self, outcome: RunOutcome, request_id: int) -> None:
        return None

    def running_log(self, request_id: int, run: RunRef) -> str | None:
        """A running request's log as far as it goes (it is also stored, at most a second behind)."""
        with self._logs_lock:
            request_log = self.logs.get(request_id)
        return request_log.text() if request_log is not None else None

    def close(self) -> None:
        """Stop taking jobs; running ones are cancelled, waiting ones stay for the next start."""
        self._stop.set()
        for job in self.queue.close():
            self.jobs.release(job)
        with self.queue.cond:
            running = list(self.queue.running.values())
        for job in running:
            job.cancel.set()
        for thread in self._threads:
            thread.join(timeout=30)

    # -- restart ---------------------------------------------------------------------------------
    def recover(self) -> None:
        """Take over the jobs of stopped processes: fail the interrupted ones, requeue the others."""
        for job in self.jobs.orphans():
            state = self._state(job.request_id)
            if state is None or state in FINAL_STATES:
                self.jobs.remove(job)
            elif job.started:
                log.warning("Request %d was interrupted by a restart", job.request_id)
                self._fail(job.request_id, INTERRUPTED)
                self.jobs.remove(job)
            elif job.has_secrets:
                self._fail(job.request_id, SECRETS_LOST)
                self.jobs.remove(job)
            else:
                log.info("Starting request %d again after a restart", job.request_id)
                self.queue.put(job)

    def _state(self, request_id: int) -> str | None:
        try:
            return builds.get_record(self.db, request_id).state
        except ApiError:
            return None

    def _fail(self, request_id: int, reason: str) -> None:
        try:
            change = builds.patch_request(self.db, request_id, {"state": "failed", "state_reason": reason})
        except ApiError as exc:  # already final: nothing to do
            log.info("Request %d not marked failed: %s", request_id, exc.message)
            return
        self.notifier.state_changed(change, None)

    # -- running ---------------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            job = self.queue.take()
            if job is None:
                return
            try:
                self._run(job)
            except Exception:
                log.exception("Request %d: the local run failed unexpectedly", job.request_id)
                self._fail(job.request_id, "The PipelineRun could not be run. See logs for details")
                self.jobs.remove(job)
            finally:
                self.queue.done(job)

    def _run(self, job: Job) -> None:
        if self._state(job.request_id) != "in_progress" or job.cancel.is_set():
            self.jobs.remove(job)  # cancelled (or gone) while it waited
            return
        self.jobs.mark_started(job)
        submission = job.submission
        name = run_name(self.settings.IIB_PIPELINERUN_PREFIX, submission)
        workdir = self.runs_dir / "work" / str(job.request_id)
        request_log = RequestLog(self.storage, job.request_id, self.log_interval)
        with self._logs_lock:
            self.logs[job.request_id] = request_log
        try:
            run = LocalRun(
                name=name,
                pipeline=pipeline_file(self.pipelines_dir, submission.request_type),
                params=pipeline_params(
                    submission,
                    RunSettings(
                        status_api_url=self.settings.IIB_STATUS_API_URL,
                        step_image=self.settings.IIB_STEP_IMAGE,
                    ),
                ),
                workspaces={},
                secret_workspaces=frozenset(),
                labels=run_labels(submission),
                annotations=run_annotations(submission),
                runs_dir=self.runs_dir / "runs",
                runtime=self.settings.IIB_LOCAL_RUNTIME,
                cancel=job.cancel,
                on_log=request_log.write,
            )
            self._prepare_workspaces(run, submission, workdir)
            final = self.runner.run(run)
            if job.cancel.is_set() and self._stop.is_set() and self._state(job.request_id) == "in_progress":
                self._fail(job.request_id, INTERRUPTED)
            self.notifier.on_recorded(record_run(self.db, read_pipelinerun(final)))
        except Exception as exc:  # no Pipeline, a bad definition or params: the run never started
            log.warning("Request %d: the PipelineRun %s could not be run: %s", job.request_id, name, exc)
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            request_log.note(f"The PipelineRun {name} could not be run: {message}")
            self._fail(job.request_id, f"The PipelineRun {name} could not be run: {message}")
        finally:
            request_log.close()
            with self._logs_lock:
                self.logs.pop(job.request_id, None)
            shutil.rmtree(workdir, ignore_errors=True)
        self.jobs.remove(job)

    def _prepare_workspaces(self, run: LocalRun, submission: Submission, workdir: Path) -> None:
        """Private folders: the steps' settings, the status API token, registry auth, request secrets."""
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True, mode=0o700)

        def folder(name: str, files: dict[str, str], secret: bool) -> None:
            path = workdir / name
            path.mkdir(mode=0o700)
            for key, content in files.items():
                fd = os.open(path / key, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as handle:
                    handle.write(content)
            run.workspaces[name] = path
            if secret:
                run.secret_workspaces = run.secret_workspaces | {name}

        steps_settings = dict(self.settings.IIB_LOCAL_STEPS_SETTINGS)
        folder(WORKSPACE_SETTINGS, {SETTINGS_KEY: yaml.safe_dump(steps_settings, sort_keys=True)}, False)
        folder(WORKSPACE_STATUS_API_TOKEN, {TOKEN_KEY: self.token}, True)
        if self.settings.IIB_LOCAL_REGISTRY_AUTH_FILE:
            auth = Path(self.settings.IIB_LOCAL_REGISTRY_AUTH_FILE).read_text()
            folder(WORKSPACE_REGISTRY_AUTH, {AUTH_KEY: auth}, True)
        for workspace, files in secret_files(submission).items():
            folder(workspace, files, True)

    def _flush_logs(self) -> None:
        while not self._stop.wait(self.log_interval):
            with self._logs_lock:
                active = list(self.logs.values())
            for request_log in active:
                try:
                    request_log.flush()
                except Exception as exc:
                    log.warning("Could not store the log of request %d: %s", request_log.request_id, exc)


def _embedded_runner(pipelines_dir: Path) -> Runner:
    from status_api.executors.embedded import EmbeddedRunner

    return EmbeddedRunner(pipelines_dir.parent / "tasks")
