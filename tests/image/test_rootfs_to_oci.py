"""scripts/image/rootfs_to_oci.py: a rootfs tarball as a one-layer OCI image, the same bytes each time."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.fixtures.step_image import ROOT

SCRIPT = ROOT / "scripts" / "image" / "rootfs_to_oci.py"


def _rootfs(path: Path) -> Path:
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in (("etc/os-release", b"ID=debian\n"), ("usr/bin/hello", b"#!/bin/sh\necho hi\n")):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 1747699200, 0o755
            tar.addfile(info, io.BytesIO(data))
    return path


def _convert(rootfs: Path, layout: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(rootfs), str(layout), "base", "--created", "1747699200"],
        capture_output=True,
        text=True,
    )


def test_same_tarball_same_digest(tmp_path: Path) -> None:
    first = _convert(_rootfs(tmp_path / "a.tar"), tmp_path / "a")
    second = _convert(_rootfs(tmp_path / "b.tar"), tmp_path / "b")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert first.stdout.startswith("sha256:")
    index = json.loads((tmp_path / "a" / "index.json").read_text())
    assert index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] == "base"
    assert not (tmp_path / "a.tar").exists()  # moved into the layout, not copied


def test_skopeo_reads_the_layout(tmp_path: Path) -> None:
    if shutil.which("skopeo") is None:
        pytest.skip("skopeo is missing: run `bash scripts/install-system-deps.sh image`")
    digest = _convert(_rootfs(tmp_path / "r.tar"), tmp_path / "oci").stdout.strip()
    raw = subprocess.run(
        ["skopeo", "inspect", f"oci:{tmp_path / 'oci'}:base"], capture_output=True, text=True, check=True
    )
    inspected = json.loads(raw.stdout)
    assert inspected["Digest"] == digest
    assert inspected["Os"] == "linux"
    assert len(inspected["Layers"]) == 1


def test_a_missing_tarball_is_one_clear_line(tmp_path: Path) -> None:
    proc = _convert(tmp_path / "nope.tar", tmp_path / "oci")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'nope.tar'} is not a file: give the tarball mmdebstrap wrote"
    ]
