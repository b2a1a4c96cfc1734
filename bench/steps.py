"""Benchmark of the step commands: ``iib-step add`` of one bundle to an index image holding the
generated 8,000-bundle catalog (``bench.gen_catalog.generated_catalog()``), from resolving the
images to the pushed manifest list, 4 architectures, on a local docker-registry.

Rows: seeding the from_index (not part of the add), the add with our stable layer groups (only the
changed group is packed and uploaded), and the same add on an index laid out as one catalog layer
(IIB's layout, every package recompressed and re-uploaded), for comparison.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from pathlib import Path

from bench.gen_catalog import generated_catalog
from bench.local_registry import cpu_seconds, start_registry
from iib_steps.config import Settings
from iib_steps.images.build import build_bundle_image
from iib_steps.images.registry import RegistryClient
from iib_steps.images.retry import RetryPolicy
from iib_steps.operations import add as add_op
from iib_steps.operations.common import Context
from iib_steps.operations.imaging import ImageIO
from iib_steps.report import Reporter

ARCHES = ("amd64", "arm64", "ppc64le", "s390x")
ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT.parent / "shared" / "testdata" / "bundles" / "bpfman-operator-0.5.6"
OCP = "v4.19"


def _rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _settings(host: str, groups: int) -> Settings:
    return Settings(
        registry=host,
        binary_image_config={"prod": {OCP: f"{host}/opm:{OCP}"}},
        catalog_layer_groups=groups,
        total_attempts=3,
        retry_delay=0.1,
    )


def _seed(
    images: ImageIO, settings: Settings, catalog: Path, host: str, tag: str, tmp: Path
) -> tuple[float, int]:
    """Push the from_index laid out as ``settings`` says; returns (seconds, bytes uploaded)."""
    before = images.client.bytes_uploaded
    started = time.perf_counter()
    images.build_index(
        binary_resolved=images.inspect(f"{host}/opm:{OCP}").resolved,
        configs=catalog,
        groups=settings.catalog_layer_groups,
        arches=ARCHES,
        labels={
            "operators.operatorframework.io.index.configs.v1": "/configs",
            "com.redhat.index.delivery.version": OCP,
            "com.redhat.index.delivery.distribution_scope": "prod",
        },
        outputs=[f"{host}/index:{tag}"],
        work_dir=tmp,
    )
    return time.perf_counter() - started, images.client.bytes_uploaded - before


def _add(
    settings: Settings, client: RegistryClient, host: str, tag: str, bundle: str, rid: str, tmp: Path
) -> dict:
    reporter = Reporter(None, None)
    ctx = Context.create(
        settings, reporter, request_id=rid, workdir=tmp / f"work-{rid}", images=ImageIO(settings, client)
    )
    before = client.bytes_uploaded
    started, cpu = time.perf_counter(), cpu_seconds()
    data = add_op.run(ctx, add_op.AddRequest(bundles=[bundle], from_index=f"{host}/index:{tag}"))
    wall = time.perf_counter() - started
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu_seconds() - cpu, 2),
        "uploaded_mb": round((client.bytes_uploaded - before) / 2**20, 2),
        "max_rss_mb": _rss_mb(),
        "arches": len(data["arches"]),
        "index_image": data["index_image"],
    }


def run() -> list[dict]:
    from tests.iib_steps.images.conftest import make_binary_image

    catalog = generated_catalog()
    packages = sum(1 for p in catalog.iterdir() if p.is_dir())
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
            for groups, name in (
                (16, "add 1 bundle, 16 layer groups"),
                (1, "add 1 bundle, 1 catalog layer (IIB)"),
            ):
                settings = _settings(host, groups)
                seed_s, seed_bytes = _seed(
                    ImageIO(settings, client), settings, catalog, host, f"g{groups}", tmp
                )
                rows.append(
                    {"name": f"seed from_index ({groups} layer group(s))", "packages": packages,
                     "catalog_mb": size_mb, "wall_s": round(seed_s, 2),
                     "uploaded_mb": round(seed_bytes / 2**20, 1)}
                )  # fmt: skip
                row = _add(settings, client, host, f"g{groups}", bundle, f"bench-{groups}", tmp)
                rows.append({"name": name, **row, "target_s": 10})
        finally:
            proc.terminate()
            proc.wait(10)
    rows.append({"name": "machine", "cpus": os.cpu_count(), "load_1min": round(os.getloadavg()[0], 1)})
    return rows
