"""Status API benchmark: 100,000 requests in PostgreSQL, the API under uvicorn, wrk as the load.

Measures the bulk load (COPY) of 100,000 build requests with their state history, then drives
``GET /api/v1/builds?per_page=20`` and ``GET /api/v1/builds/<id>`` (random ids) from wrk, a second
process, over loopback: requests/s, latency percentiles, non-2xx count, and server memory (RSS).
Target: at least 1,500 requests/s and p99 under 50 ms on a 2-core machine. Each row also gives
the CPU spent per request by the API, PostgreSQL and wrk, since the machine may be shared.
"""

from __future__ import annotations

import io
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import orjson
import psycopg

from status_api.db import upgrade
from status_api.request_types import FIELDS, STATES, TYPES
from tests.fixtures.postgres import start_postgres
from tests.status_api.server import running_api

ROWS = 100_000
DURATION = os.environ.get("BENCH_API_DURATION", "10s")
CONNECTIONS = int(os.environ.get("BENCH_API_CONNECTIONS", "32"))
WORKERS = int(os.environ.get("BENCH_API_WORKERS", "2"))

LUA = """
math.randomseed(%(seed)d)
local mode = "%(mode)s"
request = function()
  if mode == "list" or (mode == "mixed" and math.random() < 0.5) then
    return wrk.format("GET", "/api/v1/builds?per_page=20")
  end
  return wrk.format("GET", "/api/v1/builds/" .. math.random(1, %(rows)d))
end
"""


def _row_data(rng: random.Random, request_type: str, n: int) -> dict:
    data = dict(FIELDS[request_type])
    data = orjson.loads(orjson.dumps(data))
    data["arches"] = ["amd64", "arm64", "ppc64le", "s390x"]
    if "from_index" in data:
        data["from_index"] = f"registry.example.com/redhat/redhat-operator-index:v4.{12 + n % 6}"
        data["index_image"] = f"quay.io/iib/iib-build:{n}"
        data["index_image_resolved"] = f"quay.io/iib/iib-build@sha256:{n:064x}"
        data["binary_image"] = "registry.example.com/openshift4/ose-operator-registry:v4.17"
    if "bundles" in data:
        data["bundles"] = [f"registry.example.com/ns/bundle-{n}:1.{i}" for i in range(3)]
        data["bundle_mapping"] = {f"operator-{n % 500}": data["bundles"]}
    if request_type == "fbc-operations":
        data["fbc_fragments"] = [f"quay.io/fragments/f-{n}:1"]
        data["_used_fbc_fragment"] = False
    if request_type == "regenerate-bundle":
        data["from_bundle_image"] = f"registry.example.com/ns/bundle-{n}:1.0"
    return data


def load(url: str) -> dict:
    """COPY ROWS requests (with users, batches, images and two states each) into a migrated database."""
    rng = random.Random(7)
    types = ["add", "rm", "fbc-operations", "regenerate-bundle", "create-empty-index", "merge-index-image"]
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    started = time.perf_counter()
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        with cur.copy("COPY users (id, username) FROM STDIN") as copy:
            for i in range(1, 201):
                copy.write_row((i, f"user{i}@EXAMPLE.COM"))
        with cur.copy("COPY images (id, pull_specification) FROM STDIN") as copy:
            for i in range(6):
                copy.write_row((i + 1, f"registry.example.com/redhat/redhat-operator-index:v4.{12 + i}"))
        with cur.copy("COPY batches (id) FROM STDIN") as copy:
            for i in range(1, ROWS + 1):
                copy.write_row((i,))
        base = datetime(2026, 1, 1)
        states = io.StringIO()
        with cur.copy(
            "COPY requests (id, type, batch_id, user_id, state, state_reason, created, updated,"
            " from_index_id, data) FROM STDIN"
        ) as copy:
            for n in range(1, ROWS + 1):
                request_type = types[n % len(types)]
                created = base + timedelta(seconds=n * 30)
                updated = created + timedelta(seconds=rng.randint(60, 3600))
                state = "complete" if n % 10 else "failed"
                reason = "The request completed successfully" if state == "complete" else "Failed: boom"
                data = _row_data(rng, request_type, n)
                from_index = (n % 6) + 1 if "from_index" in data else None
                copy.write_row(
                    (
                        n,
                        TYPES[request_type],
                        n,
                        rng.randint(1, 200),
                        STATES[state],
                        reason,
                        created,
                        updated,
                        from_index,
                        orjson.dumps(data).decode(),
                    )
                )
                states.write(f"{n}\t1\tThe request was initiated\t{created.isoformat()}\n")
                states.write(f"{n}\t{STATES[state]}\t{reason}\t{updated.isoformat()}\n")
        with cur.copy("COPY request_states (request_id, state, state_reason, updated) FROM STDIN") as copy:
            copy.write(states.getvalue())
        cur.execute(
            "INSERT INTO request_counts (type, state, count)"
            " SELECT type, state, count(*) FROM requests GROUP BY type, state"
        )
        for table in ("users", "images", "batches", "requests"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        conn.commit()
    loaded = time.perf_counter() - started
    # A database in service has been vacuumed: hint bits and the visibility map are set.
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return {
        "name": "api.load",
        "rows": ROWS,
        "seconds": round(loaded, 2),
        "vacuum_s": round(time.perf_counter() - started - loaded, 2),
    }


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip()).groups()  # type: ignore[union-attr]
    return float(value) * _UNITS[unit]


def _rss_mb(root: int) -> float:
    """Resident memory of a process and its children, in MiB (from /proc)."""
    pids = {root}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) in pids or int(fields[1]) == root:
                pids.add(int(entry.name))
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return round(total / 1024, 1)


def _tree_cpu(roots: set[int], match: bytes | None = None) -> float:
    """CPU seconds (user + system) used so far by processes under ``roots`` or whose command has ``match``."""
    procs: dict[int, tuple[int, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if match is not None and match in (entry / "cmdline").read_bytes():
                roots = roots | {int(entry.name)}
        except OSError:
            continue
        procs[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    members = set(roots)
    grew = True
    while grew:
        grew = False
        for pid, (parent, _ticks) in procs.items():
            if parent in members and pid not in members:
                members.add(pid)
                grew = True
    return sum(procs[pid][1] for pid in members if pid in procs) / os.sysconf("SC_CLK_TCK")


def drive(base: str, mode: str, folder: Path, server_pid: int | None) -> dict:
    script = folder / f"{mode}.lua"
    script.write_text(LUA % {"seed": 42, "mode": mode, "rows": ROWS})
    servers = {server_pid} if server_pid else set()
    api_before, db_before = _tree_cpu(servers), _tree_cpu(set(), b"postgres")
    load_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}", "--latency", "-s", str(script), base],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    load_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    api_cpu = _tree_cpu(servers) - api_before
    db_cpu = _tree_cpu(set(), b"postgres") - db_before
    wrk_cpu = (load_after.ru_utime - load_before.ru_utime) + (load_after.ru_stime - load_before.ru_stime)
    out = result.stdout
    served = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    percentiles = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", out, re.M))
    if "99" not in percentiles:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)$", out, re.M)
    return {
        "name": f"api.{mode}",
        "requests_per_s": round(float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))),  # type: ignore[union-attr]
        "p50_ms": round(_ms(percentiles["50"]), 2),
        "p90_ms": round(_ms(percentiles["90"]), 2),
        "p99_ms": round(_ms(percentiles["99"]), 2),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1).strip() if socket_errors else "none",
        "connections": CONNECTIONS,
        "duration": DURATION,
        # CPU per request, to read the figures on a shared machine: the API's processes, PostgreSQL,
        # and wrk; and what two otherwise idle cores would then serve.
        "api_cpu_ms": round(api_cpu / served * 1000, 3),
        "db_cpu_ms": round(db_cpu / served * 1000, 3),
        "wrk_cpu_ms": round(wrk_cpu / served * 1000, 3),
        "cpu_bound_rps_2_cores": round(2 / ((api_cpu + db_cpu + wrk_cpu) / served)) if served else None,
        "load_avg_1m": round(os.getloadavg()[0], 1),
    }


def run() -> list[dict]:
    if not shutil.which("wrk"):
        print("error: wrk is not installed: run scripts/install-system-deps.sh", file=sys.stderr)
        return []
    server, stop = start_postgres()
    rows: list[dict] = []
    try:
        url = server.new_database("bench")
        upgrade(url)
        rows.append(load(url))
        env = {"SQLALCHEMY_DATABASE_URI": url, "LOGIN_DISABLED": "true", "IIB_DB_POOL_SIZE": "4"}
        with running_api(env, workers=WORKERS) as base, tempfile.TemporaryDirectory() as tmp:
            import requests

            sample = requests.get(f"{base}/api/v1/builds?per_page=20", timeout=10).json()
            assert len(sample["items"]) == 20 and sample["meta"]["total"] == ROWS
            assert requests.get(f"{base}/api/v1/builds/{ROWS}", timeout=10).json()["id"] == ROWS
            master = _server_pid(base)
            for mode in ("list", "get", "mixed"):
                row = drive(base, mode, Path(tmp), master)
                row["workers"] = WORKERS
                row["server_rss_mb"] = _rss_mb(master) if master else None
                rows.append(row)
    finally:
        stop()
    return rows


def _server_pid(base: str) -> int | None:
    """The pid of the iib-status-api process listening on ``base``'s port (the uvicorn master)."""
    port = base.rsplit(":", 1)[1]
    try:
        out = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True).stdout
    except FileNotFoundError:
        return None
    pids = [int(p) for p in re.findall(r"pid=(\d+)", out)]
    if not pids:
        return None
    pid = min(pids)
    parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    return parent if "iib-status-api" in Path(f"/proc/{parent}/cmdline").read_text() else pid
