"""The status API for the demo: its settings (everything under one run folder) and a background
``iib-status-api`` process, waited for with a visible sign of life."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from iib_steps.errors import StepError

TOKEN = "demo-release-pipeline"  # the bearer token the demo submits with (user "release-pipeline")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def api_env(run_dir: Path, port: int) -> dict[str, str]:
    """The API's settings: SQLite, logs, local executor with OCI layouts under ``run_dir``."""
    images = run_dir / "images"
    steps = {"registry": f"oci:{images}", "oci_layout_root": str(images), "catalog_layer_groups": 8}
    return {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{run_dir / 'iib.db'}",
        "IIB_REQUEST_LOGS_DIR": str(run_dir / "logs"),
        "IIB_GRAPH_CACHE_DIR": str(run_dir / "graphs"),
        "IIB_API_TOKENS": json.dumps({TOKEN: "release-pipeline"}),
        "IIB_EXECUTOR": "local",
        "IIB_LOCAL_RUNS_DIR": str(run_dir / "runs"),
        "IIB_LOCAL_STEPS_SETTINGS": json.dumps(steps),
        "IIB_STATUS_API_URL": f"http://127.0.0.1:{port}/api/v1",
    }


def api_command(port: int) -> list[str]:
    script = Path(sys.executable).with_name("iib-status-api")
    return [str(script), "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]


@contextmanager
def background_api(run_dir: Path, port: int, say: Callable[[str], None]) -> Iterator[str]:
    """Start the API in the background (its output in ``run_dir/api.log``); yields its base URL."""
    (run_dir / "logs").mkdir(parents=True, exist_ok=True)
    log = (run_dir / "api.log").open("ab")
    process = subprocess.Popen(
        api_command(port), env={**os.environ, **api_env(run_dir, port)}, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(process, base, run_dir / "api.log", say)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_healthy(process: subprocess.Popen, base: str, log: Path, say: Callable[[str], None]) -> None:
    started = time.monotonic()
    told = started
    while True:
        if process.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["(no output)"]
            raise StepError(f"the status API stopped at start-up: {tail[0]} (see {log})")
        try:
            if requests.get(f"{base}/api/v1/healthcheck", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        now = time.monotonic()
        if now - started > 120:
            raise StepError(f"the status API did not answer within 120 s (see {log})")
        if now - told >= 5:
            say(f"   still waiting for the status API ({now - started:.0f} s)")
            told = now
        time.sleep(0.2)
