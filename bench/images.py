"""Benchmark of daemonless index builds: a 4-architecture index image holding a ~300 MB catalog,
pushed to a local docker-registry, against the time to gzip that catalog once.

Uses ``bench.gen_catalog.generated_catalog()`` when it exists, else writes a catalog of the same
size (packages of JSON blobs with base64 bundle objects) under ``.bench/images-catalog``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import resource
import shutil
import tempfile
import time
from pathlib import Path

from bench.local_registry import cpu_seconds, start_registry
from iib_steps.images import build_index_image, extract_index_catalog
from iib_steps.images.layers import DEFAULT_LEVEL, LayerSpec, gzip_stream, tar_stream
from iib_steps.images.registry import RegistryClient
from iib_steps.images.retry import RetryPolicy

ARCHES = ("amd64", "arm64", "ppc64le", "s390x")
TARGET_BYTES = 300 * 1024 * 1024


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _own_catalog(root: Path, target: int = TARGET_BYTES) -> Path:
    """A deterministic FBC-shaped catalog of about ``target`` bytes."""
    marker = root / ".complete"
    if marker.exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    rng = random.Random(42)
    words = [hashlib.sha1(str(i).encode()).hexdigest()[:8] for i in range(4000)]
    written, pkg = 0, 0
    while written < target:
        name = f"operator-{pkg:04d}"
        (root / name).mkdir()
        lines = [json.dumps({"schema": "olm.package", "name": name, "defaultChannel": "stable"}, indent=4)]
        entries = []
        for v in range(rng.randint(10, 40)):
            bundle = f"{name}.v1.{v}.0"
            entries.append({"name": bundle, "replaces": f"{name}.v1.{v - 1}.0"} if v else {"name": bundle})
            csv = "\n".join(
                f"  {rng.choice(words)}: {rng.choice(words)}-{rng.randint(0, 999)}"
                for _ in range(rng.randint(150, 400))
            )
            lines.append(
                json.dumps(
                    {
                        "schema": "olm.bundle",
                        "name": bundle,
                        "package": name,
                        "image": f"registry.example.com/{name}/bundle@sha256:{_sha(bundle)}",
                        "properties": [
                            {"type": "olm.package", "value": {"packageName": name, "version": f"1.{v}.0"}},
                            {
                                "type": "olm.bundle.object",
                                "value": {"data": base64.b64encode(csv.encode()).decode()},
                            },
                        ],
                    },
                    indent=4,
                )
            )
        lines.append(
            json.dumps(
                {"schema": "olm.channel", "package": name, "name": "stable", "entries": entries}, indent=4
            )
        )
        data = ("\n".join(lines) + "\n").encode()
        (root / name / "catalog.json").write_bytes(data)
        written += len(data)
        pkg += 1
    marker.write_text(str(written))
    return root


def _catalog() -> Path:
    try:
        from bench.gen_catalog import generated_catalog  # type: ignore[import-not-found]
    except ImportError:
        return _own_catalog(Path(".bench/images-catalog"))
    return Path(generated_catalog())


def _size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def run() -> list[dict]:
    from tests.iib_steps.images.conftest import make_binary_image

    catalog = _catalog()
    size = _size(catalog)
    rows: list[dict] = []

    # Baseline: tar the catalog and gzip it once, on one thread, at the same level.
    with tempfile.TemporaryFile() as out:
        started, cpu = time.perf_counter(), cpu_seconds()
        _, _, gz_size, _ = gzip_stream(
            tar_stream(LayerSpec.directory(catalog)), out, DEFAULT_LEVEL, threads=1
        )
        gzip_once = time.perf_counter() - started
    rows.append(
        {"name": "gzip catalog once (1 thread)", "catalog_mb": round(size / 2**20, 1),
         "gzip_mb": round(gz_size / 2**20, 1), "level": DEFAULT_LEVEL, "wall_s": round(gzip_once, 2),
         "cpu_s": round(cpu_seconds() - cpu, 2)}
    )  # fmt: skip

    with tempfile.TemporaryDirectory(prefix="bench-images-") as tmp_s:
        tmp = Path(tmp_s)
        proc, host = start_registry(tmp)
        try:
            client = RegistryClient(auth=None, insecure=[host], retry=RetryPolicy(3, 0.1, 1))
            make_binary_image(f"{host}/opm:v1", tmp / "bin", client, arches=ARCHES)
            labels = {
                "com.redhat.index.delivery.version": "v4.19",
                "com.redhat.index.delivery.distribution_scope": "prod",
            }
            for name, dest in (("build+push 4 arches", "index:1"), ("rebuild, nothing changed", "index:2")):
                before = client.bytes_uploaded
                started, cpu = time.perf_counter(), cpu_seconds()
                result = build_index_image(
                    f"{host}/opm:v1", catalog, [f"{host}/{dest}"], labels=labels, client=client
                )
                wall = time.perf_counter() - started
                rows.append(
                    {"name": name, "wall_s": round(wall, 2), "cpu_s": round(cpu_seconds() - cpu, 2),
                     "x_gzip_once": round(wall / gzip_once, 2),
                     "uploaded_mb": round((client.bytes_uploaded - before) / 2**20, 1), "blobs": result.blobs,
                     "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
                )  # fmt: skip
            started = time.perf_counter()
            out = extract_index_catalog(f"{host}/index:1", tmp / "extracted", client=client)
            rows.append(
                {"name": "extract /configs", "wall_s": round(time.perf_counter() - started, 2),
                 "files": sum(1 for p in out.rglob("*") if p.is_file())}
            )  # fmt: skip
        finally:
            proc.terminate()
            proc.wait(10)
    rows.append({"name": "machine", "cpus": os.cpu_count(), "load_1min": round(os.getloadavg()[0], 1)})
    return rows
