"""Benchmark of the step commands on the generated 8,000-bundle catalog
(``bench.gen_catalog.generated_catalog()``), 4 architectures, a local docker-registry: each request
from resolving the images to the pushed manifest list.

Indexes: ``iib`` holds the catalog as IIB lays it out (one catalog layer, no record); ``ours`` is
what our ``rm`` of one package from ``iib`` pushes (stable layer groups and a validation record).
Rows: add one bundle, rm one package and fbc-operations with one fragment on ``ours`` (the
incremental path: only the touched layer group is read, validated, packed and uploaded), and the
same add on ``iib`` (the full path: read, check and pack everything; on two or more CPUs the catalog
is decompressed into shared memory and checked package by package in forked workers as it is read,
:mod:`iib_steps.operations.stream_check`), which is what the incremental path is compared with.

Every request runs in a fresh Python process that reports its own wall and CPU seconds (the machine
is shared: wall includes waiting for a core), peak RSS (the request's process, which maps the
shared catalog area, and the largest of its workers, which map the same pages), and bytes uploaded;
``process_s`` adds the interpreter start and imports, as a Tekton step pays them. Each request row
is the median of three runs by wall time (``runs_wall_s`` lists all three; the first run uploads
the group its change makes, later runs find it in the registry).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.gen_catalog import generated_catalog
from bench.local_registry import start_registry
from iib_steps.images.build import build_bundle_image, build_index_image
from iib_steps.images.layers import LayerSpec
from iib_steps.images.registry import RegistryClient
from iib_steps.images.retry import RetryPolicy

ARCHES = ("amd64", "arm64", "ppc64le", "s390x")
ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT.parent / "shared" / "testdata" / "bundles" / "bpfman-operator-0.5.6"
OCP = "v4.19"
GROUPS = 64  # the default catalog_layer_groups
RUNS = 3  # each request row: the median run of these
INDEX_LABELS = {
    "com.redhat.index.delivery.version": OCP,
    "com.redhat.index.delivery.distribution_scope": "prod",
}

# One request in a fresh process: argv[1] is {"host", "work", "rid", "op", "request"}.
_CHILD = r"""
import json, resource, sys, time
t_start = time.perf_counter()
from pathlib import Path
from iib_steps.config import Settings
from iib_steps.images.registry import RegistryClient
from iib_steps.images.retry import RetryPolicy
from iib_steps.operations import add, fbc_operations, rm
from iib_steps.operations.common import Context
from iib_steps.operations.imaging import ImageIO
from iib_steps.report import Reporter
args = json.loads(sys.argv[1])
host = args["host"]
settings = Settings(registry=host, binary_image_config={"prod": {args["ocp"]: f"{host}/opm:{args['ocp']}"}},
                    catalog_layer_groups=args["groups"], catalog_workers=args["workers"], total_attempts=3,
                    retry_delay=0.1)
client = RegistryClient(auth=None, insecure=[host], retry=RetryPolicy(3, 0.1, 1))
ctx = Context.create(settings, Reporter(None, None), request_id=args["rid"], workdir=Path(args["work"]),
                     images=ImageIO(settings, client))
ops = {"add": (add.run, add.AddRequest), "rm": (rm.run, rm.RmRequest),
       "fbc-operations": (fbc_operations.run, fbc_operations.FbcRequest)}
run, request = ops[args["op"]]
u0 = resource.getrusage(resource.RUSAGE_SELF)
t0 = time.perf_counter()
data = run(ctx, request(**args["request"]))
wall = time.perf_counter() - t0
u1 = resource.getrusage(resource.RUSAGE_SELF)
import multiprocessing
for worker in multiprocessing.active_children():  # let go after the build: reap them to count them
    worker.join(10)
children = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({
    "wall_s": round(wall, 2),
    "cpu_s": round(u1.ru_utime + u1.ru_stime - u0.ru_utime - u0.ru_stime, 2),
    "process_s": round(time.perf_counter() - t_start, 2),
    "peak_rss_mb": round(u1.ru_maxrss / 1024),
    "workers_cpu_s": round(sum(getattr(children, f) for f in ("ru_utime", "ru_stime")), 2),
    "workers_peak_rss_mb": round(children.ru_maxrss / 1024),
    "uploaded_mb": round(client.bytes_uploaded / 2**20, 2),
    "arches": len(data["arches"]),
    "index_image": data["index_image"],
}))
"""


_HELD = re.compile(r"\((\d+) MiB of catalog in shared memory\)")


def _one_cpu() -> None:
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def _request(
    host: str, tmp: Path, rid: str, op: str, request: dict, workers: int = 0, one_cpu: bool = False
) -> dict:
    args = {"host": host, "work": str(tmp / f"work-{rid}"), "rid": rid, "op": op, "request": request,
            "ocp": OCP, "groups": GROUPS, "workers": workers}  # fmt: skip
    env = {**os.environ, "IIB_INSECURE_REGISTRIES": host}
    run = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        preexec_fn=_one_cpu if one_cpu else None,  # as a step limited to one CPU sees it
    )
    if run.returncode != 0:
        raise RuntimeError(f"{op} failed: {run.stderr.strip()[-2000:]}")
    row = json.loads(run.stdout.strip().splitlines()[-1])
    path = [line for line in run.stderr.splitlines() if line.startswith("from_index ")]
    held = [m.group(1) for line in path if (m := _HELD.search(line))]
    if held:  # a memory file shared with the workers: in no process's RSS until mapped, so shown apart
        row["shared_catalog_mb"] = int(held[0])
    row["path"] = (
        "incremental"
        if any("record matches" in line for line in path)
        else "checked in workers"
        if any("loads and validates on its own" in line for line in path)
        else "full"
    )
    return row


def _median_of(runs: int, request: Callable[[int], dict]) -> dict:
    """The run with the median wall time of ``runs`` runs (this machine's timings vary by 10 to
    20% from run to run), with every run's wall time beside it."""
    rows = [request(r) for r in range(runs)]
    for row in rows:
        row.pop("index_image")
    walls = [row["wall_s"] for row in rows]
    median = sorted(rows, key=lambda row: row["wall_s"])[len(rows) // 2]
    return {**median, "runs_wall_s": walls} if runs > 1 else median


def _seed_iib(client: RegistryClient, host: str, catalog: Path, tmp: Path) -> dict:
    """The catalog as IIB pushes it: the binary image plus one layer holding all of /configs."""
    started = time.perf_counter()
    build_index_image(
        f"{host}/opm:{OCP}",
        [LayerSpec.directory(catalog, "/configs")],
        [f"{host}/index:iib"],
        labels=INDEX_LABELS,
        client=client,
        work_dir=tmp / "seed",
    )
    return {"wall_s": round(time.perf_counter() - started, 2)}


def _fragment(client: RegistryClient, host: str, catalog: Path, package: str, tmp: Path) -> str:
    """An FBC fragment image holding one package of the catalog."""
    ref = f"{host}/fragment:{package}"
    build_index_image(
        f"{host}/opm:{OCP}",
        [LayerSpec.directory(catalog, "/configs", include=[package])],
        [ref],
        labels=INDEX_LABELS,
        client=client,
        work_dir=tmp / "fragment",
    )
    return ref


def run() -> list[dict]:
    from tests.iib_steps.images.conftest import make_binary_image

    catalog = generated_catalog()
    packages = sorted(p.name for p in catalog.iterdir() if p.is_dir())
    size_mb = round(sum(p.stat().st_size for p in catalog.rglob("*") if p.is_file()) / 2**20)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-steps-") as tmp_s:
        tmp = Path(tmp_s)
        proc, host = start_registry(tmp)
        os.environ["IIB_INSECURE_REGISTRIES"] = host
        try:
            client = RegistryClient(auth=None, insecure=[host], retry=RetryPolicy(3, 0.1, 1))
            make_binary_image(f"{host}/opm:{OCP}", tmp / "bin", client, arches=ARCHES)
            bundle = f"{host}/bpfman-operator-bundle:v0.5.6"
            build_bundle_image(BUNDLE, [bundle], client=client)
            fragment = _fragment(client, host, catalog, packages[1], tmp)
            seed = _seed_iib(client, host, catalog, tmp)
            rows.append({"name": "seed from_index in IIB's layout (1 catalog layer)",
                         "packages": len(packages), "catalog_mb": size_mb, **seed})  # fmt: skip
            iib = f"{host}/index:iib"
            ours_row = _request(host, tmp, "ours", "rm", {"operators": [packages[0]], "from_index": iib})
            ours = ours_row.pop("index_image")
            rows.append({"name": "rm 1 package, IIB's layout (full path; gives the index built here)",
                         **ours_row})  # fmt: skip
            cases = [
                ("add 1 bundle, index built here", "add", {"bundles": [bundle], "from_index": ours}, 1),
                ("rm 1 package, index built here", "rm", {"operators": [packages[2]], "from_index": ours}, 1),
                ("fbc-operations 1 fragment, index built here", "fbc-operations",
                 {"fbc_fragment": fragment, "from_index": ours}, 1),
                ("add 1 bundle, IIB's layout (1 catalog layer)", "add",
                 {"bundles": [bundle], "from_index": iib}, 3),
            ]  # fmt: skip
            for i, (name, op, request, target) in enumerate(cases):
                row = _median_of(RUNS, lambda r, i=i, op=op, request=request: _request(
                    host, tmp, f"bench-{i}-{r}", op, request))  # fmt: skip
                rows.append({"name": name, **row, "target_s": target})
            # The obvious alternative on the same machine: the whole catalog loaded in one process.
            alone = [("add 1 bundle, IIB's layout, one process (catalog_workers: 1)", "add",
                      {"bundles": [bundle], "from_index": iib}, 1, False),
                     ("add 1 bundle, IIB's layout, on one CPU (default: one worker)", "add",
                      {"bundles": [bundle], "from_index": iib}, 0, True),
                     ("add 1 bundle, IIB's layout, on one CPU, one process (catalog_workers: 1)", "add",
                      {"bundles": [bundle], "from_index": iib}, 1, True)]  # fmt: skip
            for i, (name, op, request, workers, one_cpu) in enumerate(alone):
                row = _request(host, tmp, f"alone-{i}", op, request, workers, one_cpu)
                row.pop("index_image")
                rows.append({"name": name, **row})
        finally:
            proc.terminate()
            proc.wait(10)
    rows.append({"name": "machine", "cpus": os.cpu_count(), "load_1min": round(os.getloadavg()[0], 1)})
    return rows
