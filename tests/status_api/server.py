"""Run the real console script (``iib-status-api``, uvicorn) on a free loopback port for a test."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.fixtures.postgres import free_port

SCRIPT = Path(sys.executable).with_name("iib-status-api")


@contextmanager
def running_api(env: dict[str, str], workers: int = 1) -> Iterator[str]:
    """Start ``iib-status-api`` with ``env`` added to the environment (no executor unless
    ``env`` names one); yields its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [
            str(SCRIPT),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        env={**os.environ, "IIB_EXECUTOR": "none", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"iib-status-api exited: {process.stderr.read().decode(errors='replace')}")
            try:
                if requests.get(f"{base}/api/v1/healthcheck", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("iib-status-api did not answer within 30 s")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr:
            process.stderr.close()
