"""A throwaway Debian docker-registry on a free loopback port, for the image and step benches."""

from __future__ import annotations

import json
import resource
import socket
import subprocess
import time
from pathlib import Path

import requests


def start_registry(tmp: Path) -> tuple[subprocess.Popen, str]:
    """Start docker-registry storing under ``tmp``; return the process and its ``host:port``.

    Waits (up to ~10 s) until the registry answers ``/v2/``; the caller terminates the process.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = {
        "version": 0.1,
        "log": {"level": "error", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(tmp / "storage")}},
        "http": {"addr": f"127.0.0.1:{port}", "secret": "bench"},
    }
    (tmp / "config.yml").write_text(json.dumps(config))
    proc = subprocess.Popen(
        ["/usr/bin/docker-registry", "serve", str(tmp / "config.yml")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            requests.get(f"http://127.0.0.1:{port}/v2/", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.05)
    return proc, f"127.0.0.1:{port}"


def cpu_seconds() -> float:
    """User plus system CPU time of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
