"""A small world for the step commands: a real registry holding a fake 4-arch opm image, an index
image built from a real catalog (../shared/testdata/catalogs/community-v4.16-sample), and bundle
images built from real bundle directories (../shared/testdata/bundles); the same in OCI layouts.

Commands run as subprocesses (``iib-step ...``), as a Tekton step runs them.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from catalog.load import load_fs
from catalog.validate import validate_config
from iib_steps.images.build import build_bundle_image, build_index_image
from iib_steps.images.extract import extract_index_catalog
from iib_steps.images.layers import LayerSpec
from iib_steps.images.reference import parse_image
from iib_steps.images.stores import open_store
from tests.conftest import ROOT, TESTDATA, need_shared
from tests.iib_steps.images.conftest import ARCHES, client_for, make_binary_image

_IDS = itertools.count(101)
IIB_STEP = [sys.executable, "-m", "iib_steps.cli"]
OCP = "v4.16"
BUNDLES = (
    "kube-green-0.3.0",
    "kube-green-0.3.1",
    "kube-green-0.7.1",
    "dbaas-operator-0.5.0",
    "bpfman-operator-0.5.6",
    "kairos-operator-2.0.1",
)


@dataclass
class World:
    """Where things are, for one image transport (a registry host, or ``oci:`` directories)."""

    base: str  # "127.0.0.1:PORT" or "oci:/tmp/.../images"
    binary: str
    index: str
    bundles: dict[str, str]
    env: dict[str, str]
    tmp: Path
    settings: Path
    client: object

    def ref(self, name: str) -> str:
        return f"{self.base}/{name}"

    def next_id(self) -> str:
        """A request id unique in the session (the registry outlives each module's world)."""
        return str(next(_IDS))

    def output(self, tag: str) -> str:
        return self.ref(f"iib-build:{tag}")

    def run(
        self, *args: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [*IIB_STEP, *args],
            capture_output=True,
            text=True,
            env={**self.env, **(env or {})},
            cwd=ROOT,
            timeout=300,
        )
        if check and proc.returncode != 0:
            pytest.fail(
                f"iib-step {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}"
            )
        return proc

    def exists(self, image: str) -> bool:
        loc = parse_image(image)
        store = open_store(loc, self.client)
        try:
            store.get_manifest(loc.reference)
        except Exception:
            return False
        return True

    def catalog_of(self, image: str, dest: Path):
        extract_index_catalog(image, dest, client=self.client)
        cfg = load_fs(dest)
        validate_config(cfg)
        return cfg


def channel_entries(cfg, package: str, channel: str) -> list[str]:
    for ch in cfg.channels:
        if ch.package == package and ch.name == channel:
            return [e.name for e in ch.entries or []]
    raise AssertionError(f"no channel {package}/{channel}")


def _settings(path: Path, registry: str, binary: str) -> Path:
    layout_root = registry[len("oci:") :] if registry.startswith("oci:") else None
    path.write_text(
        yaml.safe_dump(
            {
                "registry": registry,
                "oci_layout_root": layout_root,
                "binary_image_config": {"prod": {OCP: binary}, "stage": {OCP: binary}, "dev": {OCP: binary}},
                "catalog_layer_groups": 4,
                "total_attempts": 2,
                "retry_delay": 0.05,
            }
        )
    )
    return path


def _make_world(base: str, tmp: Path, client, env: dict[str, str]) -> World:
    need_shared(TESTDATA)
    binary = f"{base}/opm:{OCP}"
    make_binary_image(binary, tmp / "binary", client, ARCHES)
    index = f"{base}/index:{OCP}"
    build_index_image(
        binary,
        [LayerSpec.directory(TESTDATA / "catalogs" / "community-v4.16-sample", "/configs")],
        [index],
        labels={
            "com.redhat.index.delivery.version": OCP,
            "com.redhat.index.delivery.distribution_scope": "prod",
        },
        client=client,
        work_dir=tmp,
    )
    bundles = {}
    for name in BUNDLES:
        pkg, _, version = name.rpartition("-")
        ref = f"{base}/{pkg}-bundle:v{version}"
        build_bundle_image(TESTDATA / "bundles" / name, [ref], client=client)
        bundles[name] = ref
    settings = _settings(tmp / "settings.yaml", base, binary)
    full_env = {**os.environ, **env, "IIB_STEPS_CONFIG": str(settings)}
    full_env.pop("IIB_STATUS_API_URL", None)
    full_env.pop("IIB_REQUEST_ID", None)
    return World(base, binary, index, bundles, full_env, tmp, settings, client)


@pytest.fixture(scope="module")
def reg_world(registry, tmp_path_factory) -> Iterator[World]:
    client = client_for(registry.host)
    tmp = tmp_path_factory.mktemp("reg-world")
    world = _make_world(registry.host, tmp, client, {"IIB_INSECURE_REGISTRIES": registry.host})
    yield world


@pytest.fixture(scope="module")
def oci_world(tmp_path_factory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("oci-world")
    client = client_for()
    world = _make_world(f"oci:{tmp / 'images'}", tmp, client, {})
    yield world
