"""The ``local`` executor through the real server (``iib-status-api``, uvicorn) with the embedded
runner, on a Pipeline of our own whose step reports like IIB's worker, journals its start and end,
and waits at a gate the test opens: the pool bound, serial queues, cancel, logs, failures, restarts.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from tests.fixtures.postgres import free_port
from tests.status_api.server import SCRIPT

PROBE = Path(__file__).with_name("data") / "probe_step.py"
ALICE, WORKER = "alice@EXAMPLE.COM", "worker@EXAMPLE.COM"
HEADER = "X-Remote-User"
INITIATED = "The request was initiated"
REMOVED = "The operator(s) were successfully removed from the index image"


def _rm_pipeline(journal: Path, gate: Path) -> dict[str, Any]:
    """``iib-rm`` with the params and workspaces of the real one, and the probe as its step."""
    array = {"type": "array", "default": []}
    params = [
        {"name": "request-id"},
        {"name": "status-api-url", "default": ""},
        {"name": "from-index"},
        {"name": "operators", "type": "array"},
        {"name": "binary-image", "default": ""},
        {"name": "add-arches", **array},
        {"name": "build-tags", **array},
        {"name": "distribution-scope", "default": ""},
        {"name": "overwrite-from-index", "default": "false"},
    ]
    workspaces = ["steps-config", "status-api-token", "registry-credentials", "overwrite-from-index-token"]
    step = {
        "name": "work",
        "image": "python",
        "command": [sys.executable, str(PROBE)],
        "args": [
            "$(params.request-id)",
            "$(params.status-api-url)",
            "$(workspaces.status-api-token.path)",
            str(journal),
            str(gate),
            "$(params.operators[*])",
        ],
    }
    task = {
        "name": "remove",
        "params": [
            {"name": n, "value": f"$(params.{n}[*])" if n == "operators" else f"$(params.{n})"}
            for n in ("request-id", "status-api-url", "operators")
        ],
        "workspaces": [{"name": w, "workspace": w} for w in workspaces],
        "taskSpec": {
            "params": [
                {"name": "request-id"},
                {"name": "status-api-url"},
                {"name": "operators", "type": "array"},
            ],
            "workspaces": [{"name": w, "optional": True} for w in workspaces],
            "steps": [step],
        },
    }
    return {
        "apiVersion": "tekton.dev/v1",
        "kind": "Pipeline",
        "metadata": {"name": "iib-rm"},
        "spec": {
            "params": params,
            "workspaces": [{"name": w, "optional": True} for w in workspaces],
            "tasks": [task],
        },
    }


class Server:
    """``iib-status-api`` with the local executor on a free port (stopped, or killed, by the test)."""

    def __init__(self, tmp: Path, db_url: str, workers: int, pipelines: Path | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.journal = tmp / "journal"
        self.gate = tmp / "gate"
        if pipelines is None:  # the probe Pipeline
            pipelines = tmp / "pipelines"
            (pipelines / "iib-rm" / "0.1").mkdir(parents=True, exist_ok=True)
            (pipelines / "iib-rm" / "0.1" / "iib-rm.yaml").write_text(
                yaml.safe_dump(_rm_pipeline(self.journal, self.gate))
            )
        self.env = {
            **os.environ,
            "SQLALCHEMY_DATABASE_URI": db_url,
            "IIB_REMOTE_USER_HEADER": HEADER,
            "IIB_API_TOKENS": json.dumps({"worker-token": WORKER}),
            "IIB_WORKER_USERNAMES": json.dumps([WORKER]),
            "IIB_EXECUTOR": "local",
            "IIB_LOCAL_WORKERS": str(workers),
            "IIB_LOCAL_RUNS_DIR": str(tmp / "runs"),
            "IIB_LOCAL_PIPELINES_DIR": str(pipelines),
            "IIB_LOCAL_STEPS_SETTINGS": json.dumps({"registry": f"oci:{tmp / 'out'}"}),
            "IIB_STATUS_API_URL": f"{self.base}/api/v1",
            "IIB_REQUEST_LOGS_DIR": str(tmp / "logs"),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(SCRIPT), "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(self.process.stderr.read().decode(errors="replace"))  # type: ignore[union-attr]
            try:
                if requests.get(f"{self.base}/api/v1/healthcheck", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("iib-status-api did not answer within 30 s")
            time.sleep(0.1)

    def stop(self, kill: bool = False) -> None:
        """Stop the server; ``kill`` is a crash: the server and its steps die at once."""
        assert self.process is not None
        if kill:
            os.killpg(self.process.pid, signal.SIGKILL)
        else:
            self.process.terminate()
        self.process.wait(timeout=60)
        if self.process.stderr:
            self.process.stderr.close()
        self.process = None

    def post_rm(
        self, operators: list[str], from_index: str = "registry.example.com/index:v4.17", **extra: Any
    ) -> int:
        body = {
            "from_index": from_index,
            "operators": operators,
            "binary_image": "registry.example.com/opm:1",
        }
        response = requests.post(
            f"{self.base}/api/v1/builds/rm", json={**body, **extra}, headers={HEADER: ALICE}, timeout=30
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def get(self, request_id: int) -> dict[str, Any]:
        return requests.get(f"{self.base}/api/v1/builds/{request_id}", timeout=30).json()

    def lines(self) -> list[str]:
        return self.journal.read_text().splitlines() if self.journal.exists() else []


@pytest.fixture
def server(tmp_path: Path, db_url: str) -> Iterator[Callable[..., Server]]:
    made: list[Server] = []

    def make(workers: int = 2, status_url: bool = True) -> Server:
        made.append(Server(tmp_path, db_url, workers))
        if not status_url:  # then iib-status-api tells the steps its own address
            del made[-1].env["IIB_STATUS_API_URL"]
        made[-1].start()
        return made[-1]

    yield make
    for each in made:
        each.gate.touch()  # let any step still waiting finish
        if each.process is not None:
            each.stop()


def wait_for(check: Callable[[], Any], what: str, limit: float = 120.0) -> Any:
    deadline = time.monotonic() + limit
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {limit} s")
        time.sleep(0.1)


def final(api: Server, request_id: int) -> dict[str, Any]:
    return wait_for(
        lambda: (body := api.get(request_id))["state"] in ("complete", "failed") and body,
        f"request {request_id} ending",
    )


def most_at_once(lines: list[str]) -> int:
    running = most = 0
    for line in lines:
        running += 1 if line.startswith("start") else -1
        most = max(most, running)
    return most


def test_a_request_runs_reports_and_logs(server: Callable[..., Server]) -> None:
    api = server(status_url=False)
    request_id = api.post_rm(["etcd"])
    wait_for(lambda: f"start {request_id}" in api.lines(), "the step starting")
    # While it runs: its state as the step reported it, and its log so far.
    running = wait_for(
        lambda: (body := api.get(request_id))["state_reason"] == "Removing the operators" and body,
        "the step's report",
    )
    assert running["state"] == "in_progress"
    so_far = wait_for(
        lambda: (r := requests.get(f"{api.base}/api/v1/builds/{request_id}/logs", timeout=30)).ok and r.text,
        "the log so far",
    )
    assert so_far.startswith("[remove : work] removing etcd from the index\n")
    api.gate.touch()
    body = final(api, request_id)
    assert (body["state"], body["state_reason"]) == ("complete", REMOVED)
    history = [(h["state"], h["state_reason"]) for h in api.get(request_id)["state_history"]]
    assert history == [
        ("complete", REMOVED),
        ("in_progress", "Removing the operators"),
        ("in_progress", INITIATED),
    ]
    # The step reported complete before its run ended; the log is whole once the run is over.
    wait_for(lambda: not _job_files(api), "the run ending")
    log = requests.get(f"{api.base}/api/v1/builds/{request_id}/logs", timeout=30)
    assert log.text == "[remove : work] removing etcd from the index\n[remove : work] done\n"


def test_a_failing_step_fails_the_request_with_its_error(server: Callable[..., Server]) -> None:
    api = server()
    api.gate.touch()
    request_id = api.post_rm(["broken"])
    body = final(api, request_id)
    assert body["state"] == "failed"
    assert "error: the operator broken cannot be removed" in body["state_reason"]


def test_twenty_concurrent_posts_with_three_workers(server: Callable[..., Server]) -> None:
    api = server(workers=3)
    ids: list[int] = []
    lock = threading.Lock()

    def post(n: int) -> None:
        request_id = api.post_rm(["broken" if n % 5 == 0 else f"op{n}"], from_index=f"quay.io/i/index:{n}")
        with lock:
            ids.append(request_id)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ids) == 20
    wait_for(lambda: len(api.lines()) >= 3, "three runs starting")
    api.gate.touch()
    bodies = [final(api, request_id) for request_id in sorted(ids)]
    assert sorted(b["state"] for b in bodies) == ["complete"] * 16 + ["failed"] * 4
    assert all(b["state_reason"] for b in bodies)
    lines = api.lines()
    assert sorted(lines) == sorted([f"start {i}" for i in ids] + [f"end {i}" for i in ids])
    # Three waited at the gate together, and never more than three ran at once.
    assert most_at_once(lines) == 3


def test_overwrites_of_one_index_run_one_after_another(server: Callable[..., Server]) -> None:
    api = server(workers=3)
    overwrite = {"overwrite_from_index": True, "overwrite_from_index_token": "alice:pw"}
    first = api.post_rm(["a"], from_index="quay.io/i/shared:1", **overwrite)
    second = api.post_rm(["b"], from_index="quay.io/i/shared:1", **overwrite)
    other = api.post_rm(["c"], from_index="quay.io/i/other:1", **overwrite)
    wait_for(lambda: {f"start {first}", f"start {other}"} <= set(api.lines()), "two runs starting")
    api.gate.touch()
    for request_id in (first, second, other):
        assert final(api, request_id)["state"] == "complete"
    lines = api.lines()
    assert lines.index(f"end {first}") < lines.index(f"start {second}")


def test_cancel_ends_a_running_request(server: Callable[..., Server]) -> None:
    api = server()
    request_id = api.post_rm(["etcd"])
    wait_for(lambda: f"start {request_id}" in api.lines(), "the step starting")
    response = requests.post(
        f"{api.base}/api/v1/builds/{request_id}/cancel", headers={HEADER: ALICE}, timeout=30
    )
    assert response.status_code == 200, response.text
    assert (response.json()["state"], response.json()["state_reason"]) == ("failed", f"Canceled by {ALICE}")
    # The run stops (its step is killed before the gate opens) and is recorded; the reason stays.
    wait_for(lambda: not _job_files(api), "the run ending")
    body = api.get(request_id)
    assert (body["state"], body["state_reason"]) == ("failed", f"Canceled by {ALICE}")
    assert f"end {request_id}" not in api.lines()


def _job_files(api: Server) -> list[str]:
    folder = Path(api.env["IIB_LOCAL_RUNS_DIR"]) / "jobs"
    return sorted(p.name for p in folder.glob("*.json")) if folder.exists() else []


@pytest.mark.parametrize("kill", [True, False], ids=["crash", "stop"])
def test_a_restart_neither_loses_nor_duplicates(server: Callable[..., Server], kill: bool) -> None:
    api = server(workers=1)
    running = api.post_rm(["a"])
    waiting = api.post_rm(["b"])
    wait_for(lambda: f"start {running}" in api.lines(), "the first run starting")
    api.stop(kill=kill)  # a crash (the server and its step die at once), or a stop (SIGTERM)
    api.start()
    interrupted = final(api, running)
    assert interrupted["state"] == "failed"
    assert interrupted["state_reason"].startswith("The request was interrupted")
    api.gate.touch()
    assert final(api, waiting)["state"] == "complete"
    lines = api.lines()
    assert lines.count(f"start {running}") == 1
    assert lines.count(f"start {waiting}") == 1
