"""Benchmarks of the catalog format layer: load, validate, write (``python -m bench catalog``).

Every measurement runs in a fresh Python process that reports its own wall time, CPU time (the
machine is shared: wall time includes waiting for a core) and peak RSS (``ru_maxrss``), so one
phase's memory never hides in another's. Catalogs: the real
``community-v4.20`` (YAML, csv.metadata style) and the generated production-size catalog of
:mod:`bench.gen_catalog` (JSON, olm.bundle.object style, 400+ packages, 8,000+ bundles), and the real
large catalog of ``../shared/perfdata`` (:mod:`bench.real_catalog`; skipped where it is absent).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.gen_catalog import generated_catalog
from bench.real_catalog import ARCHIVE, real_catalog

ROOT = Path(__file__).resolve().parent.parent
COMMUNITY = ROOT.parent / "shared" / "testdata" / "catalogs" / "community-v4.20"

# Each phase: code run after `cfg = load_fs(root)` is timed separately from the load itself.
# The validate phase loads as `iib-step catalog validate` does.
_CHILD = r"""
import json, resource, sys, tempfile, time
from pathlib import Path
root, phase = Path(sys.argv[1]), sys.argv[2]
import catalog.load, catalog.write
try:
    import catalog.validate as validate
except ImportError:
    validate = None
base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0, c0 = time.perf_counter(), time.process_time()
# validation alone loads as `catalog validate` does (bundle objects checked, not kept: catalog.object_lift)
cfg = catalog.load.load_fs(root, lift_objects=phase == "validate")
t1, c1 = time.perf_counter(), time.process_time()
out = {"load_s": round(t1 - t0, 3), "load_cpu_s": round(c1 - c0, 3), "packages": len(cfg.packages),
       "bundles": len(cfg.bundles), "channels": len(cfg.channels)}
if phase == "validate":
    if validate is None:
        out["note"] = "catalog.validate missing: validate skipped"
    else:
        validate.validate_config(cfg)
        out["validate_s"] = round(time.perf_counter() - t1, 3)
        out["load_validate_s"] = round(time.perf_counter() - t0, 3)
        out["load_validate_cpu_s"] = round(time.process_time() - c0, 3)
elif phase in ("write-json", "write-yaml"):
    fmt = phase.split("-")[1]
    with tempfile.TemporaryDirectory() as tmp:
        t2, c2 = time.perf_counter(), time.process_time()
        files = catalog.write.write_fs(cfg, Path(tmp) / "out", fmt=fmt)
        out["write_s"] = round(time.perf_counter() - t2, 3)
        out["write_cpu_s"] = round(time.process_time() - c2, 3)
        out["written_mb"] = round(sum(f.stat().st_size for f in files) / 1e6, 1)
out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
out["import_rss_mb"] = round(base_rss / 1024, 1)
print(json.dumps(out))
"""


def _size_mb(root: Path) -> float:
    return round(sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 1e6, 1)


def _measure(label: str, root: Path, phase: str) -> dict:
    run = subprocess.run(
        [sys.executable, "-c", _CHILD, str(root), phase],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if run.returncode != 0:
        return {"name": f"{phase} {label}", "error": run.stderr.strip().splitlines()[-1:]}
    row = {"name": f"{phase} {label}", "input_mb": _size_mb(root)}
    row.update(json.loads(run.stdout))
    if "peak_rss_mb" in row:
        row["peak_over_input"] = round(row["peak_rss_mb"] / row["input_mb"], 2)
    return row


# Runs the command in a process of its own and reports it with its workers: RUSAGE_CHILDREN of a
# fresh process holds nothing else (its ru_maxrss: the largest of the command and its workers).
_COMMAND = r"""
import json, resource, subprocess, sys, time
started = time.perf_counter()
proc = subprocess.run([sys.executable, "-m", "iib_steps.cli", "catalog", "validate", *sys.argv[1:]],
                      capture_output=True, text=True)
wall = time.perf_counter() - started
use = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": proc.returncode, "stderr": proc.stderr[-500:], "wall_s": round(wall, 2),
                  "cpu_s": round(use.ru_utime + use.ru_stime, 2),
                  "largest_rss_mb": round(use.ru_maxrss / 1024)}))
"""


def _command(label: str, root: Path, workers: int) -> dict:
    """``iib-step catalog validate`` as a user runs it (interpreter start included), with its workers."""
    proc = subprocess.run(
        [sys.executable, "-c", _COMMAND, "--workers", str(workers), str(root)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    name = f"iib-step catalog validate {label}, " + ("one process" if workers == 1 else f"{workers} workers")
    out = json.loads(proc.stdout) if proc.returncode == 0 else {"rc": -1, "stderr": proc.stderr[-500:]}
    if out.pop("rc") != 0:
        return {"name": name, "error": out["stderr"].strip().splitlines()[-1:]}
    out.pop("stderr")
    return {"name": name, **out}


def run() -> list[dict]:
    """One row per (catalog, phase)."""
    catalogs: list[tuple[str, Path]] = []
    if COMMUNITY.is_dir():
        catalogs.append(("community-v4.20", COMMUNITY))
    catalogs.append(("generated", generated_catalog()))
    rows = []
    for label, root in catalogs:
        for phase in ("load", "validate", "write-json"):
            rows.append(_measure(label, root, phase))
    if COMMUNITY.is_dir():
        rows.append(_measure("community-v4.20", COMMUNITY, "write-yaml"))
    real = real_catalog()
    if real is None:
        rows.append({"name": "validate real (perfdata)", "skipped": f"{ARCHIVE} is absent"})
    else:
        # opm v1.73.0 on it, on this machine kind: 39 to 70 s and 2.3 GB (../shared/perfdata/README.md).
        row = _measure("real (perfdata, 809 packages)", real, "validate")
        rows.append({**row, "target_s": 6, "target_mb": 600})
        for workers in (1, 2):
            rows.append(_command("real", real, workers))
    return rows
