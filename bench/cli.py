"""CLI start-up benchmark: how long ``iib-step --help`` and each step's ``--help`` take, best of N.

A Tekton step pays this start-up every time it runs; the target is under 0.5 s. Each row gives the
wall time (best of ``BENCH_CLI_RUNS`` runs, default 7) and the CPU time of that run, since the
machine may be shared.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time

RUNS = int(os.environ.get("BENCH_CLI_RUNS", "7"))
COMMANDS = [
    ["--help"],
    ["add", "--help"],
    ["rm", "--help"],
    ["regenerate-bundle", "--help"],
    ["catalog", "render", "--help"],
    ["catalog", "graph", "--help"],
    ["image", "build-bundle", "--help"],
]


def _one(argv: list[str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "iib_steps.cli", *argv], capture_output=True, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def run() -> list[dict]:
    rows = []
    for argv in COMMANDS:
        wall, cpu = min(_one(argv) for _ in range(RUNS))
        rows.append(
            {
                "name": "iib-step " + " ".join(argv),
                "wall_s": round(wall, 3),
                "cpu_s": round(cpu, 3),
                "target_s": 0.5,
            }
        )
    return rows
