"""Layers are deterministic, valid gzip+tar, and the same whatever the number of threads."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
from pathlib import Path

import pytest

from iib_steps.errors import StepError
from iib_steps.images.layers import BLOCK_SIZE, LayerSpec, gzip_stream, tar_stream, write_layer


def _tree(root: Path, seed: int = 0) -> Path:
    (root / "pkg-b" / "sub").mkdir(parents=True)
    (root / "pkg-a").mkdir()
    (root / "pkg-a" / "catalog.json").write_bytes(os.urandom(10) * 300_000)  # ~3 MB, several blocks
    (root / "pkg-b" / "sub" / "x.yaml").write_text("a: 1\n")
    (root / "pkg-b" / "run.sh").write_text("#!/bin/sh\n")
    (root / "pkg-b" / "run.sh").chmod(0o700)
    (root / "pkg-b" / "link").symlink_to("run.sh")
    (root / ("long-" + "n" * 150)).write_text("long name\n")
    return root


def test_layer_is_valid_sorted_and_normalised(tmp_path):
    root = _tree(tmp_path / "cat")
    os.utime(root / "pkg-b" / "sub" / "x.yaml", (123456, 123456))
    blob = write_layer(LayerSpec.directory(root, "/configs"), tmp_path / "w")
    data = blob.path.read_bytes()
    assert data[:10] == b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    assert blob.digest == "sha256:" + hashlib.sha256(data).hexdigest()
    raw = gzip.decompress(data)
    assert blob.diff_id == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert (blob.size, blob.uncompressed_size) == (len(data), len(raw))
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        members = tar.getmembers()
        names = [m.name for m in members]
        assert names == [
            "configs",
            "configs/long-" + "n" * 150,
            "configs/pkg-a",
            "configs/pkg-a/catalog.json",
            "configs/pkg-b",
            "configs/pkg-b/link",
            "configs/pkg-b/run.sh",
            "configs/pkg-b/sub",
            "configs/pkg-b/sub/x.yaml",
        ]
        for m in members:
            assert (m.mtime, m.uid, m.gid, m.uname, m.gname) == (0, 0, 0, "", "")
        modes = {m.name: m.mode for m in members}
        assert modes["configs/pkg-b/run.sh"] == 0o755 and modes["configs/pkg-b/sub/x.yaml"] == 0o644
        assert tar.getmember("configs/pkg-b/link").linkname == "run.sh"
        assert (
            tar.extractfile("configs/pkg-a/catalog.json").read()
            == (root / "pkg-a" / "catalog.json").read_bytes()
        )


def test_same_files_same_digest_regardless_of_threads_times_and_place(tmp_path):
    a = _tree(tmp_path / "a")
    b = tmp_path / "b"
    b.mkdir()
    for path in sorted(a.rglob("*")):
        target = b / path.relative_to(a)
        if path.is_symlink():
            target.symlink_to(os.readlink(path))
        elif path.is_dir():
            target.mkdir()
        else:
            target.write_bytes(path.read_bytes())
            target.chmod(path.stat().st_mode)
            os.utime(target, (999, 999))
    one = write_layer(LayerSpec.directory(a), tmp_path / "w1", threads=1)
    many = write_layer(LayerSpec.directory(b), tmp_path / "w4", threads=4)
    assert (one.digest, one.diff_id) == (many.digest, many.diff_id)
    assert gzip.decompress(one.path.read_bytes()) == gzip.decompress(many.path.read_bytes())


def test_gzip_stream_edge_sizes():
    for size in (0, 1, BLOCK_SIZE - 1, BLOCK_SIZE, BLOCK_SIZE + 1, 3 * BLOCK_SIZE):
        data = (b"0123456789abcdef" * (size // 16 + 1))[:size]
        out = io.BytesIO()
        _digest, diff_id, gz_size, raw_size = gzip_stream(
            [data[: size // 3], data[size // 3 :]], out, threads=2
        )
        assert gzip.decompress(out.getvalue()) == data
        assert raw_size == size and gz_size == len(out.getvalue())
        assert diff_id == "sha256:" + hashlib.sha256(data).hexdigest()


def test_include_opaque_and_annotations(tmp_path):
    root = _tree(tmp_path / "cat")
    spec = LayerSpec.directory(root, "/configs", include=["pkg-b/sub"], opaque=True, annotations={"k": "v"})
    blob = write_layer(spec, tmp_path / "w")
    with tarfile.open(blob.path) as tar:
        assert tar.getnames() == [
            "configs",
            "configs/.wh..wh..opq",
            "configs/pkg-b",
            "configs/pkg-b/sub",
            "configs/pkg-b/sub/x.yaml",
        ]
    assert blob.annotations == (("k", "v"),)


def test_bad_inputs_are_one_line(tmp_path):
    with pytest.raises(StepError, match="does not exist"):
        list(tar_stream(LayerSpec.directory(tmp_path / "missing")))
    with pytest.raises(StepError, match="must not contain"):
        list(tar_stream(LayerSpec((("/a/../b", tmp_path),))))


def test_owner(tmp_path):
    root = _tree(tmp_path / "cat")
    blob = write_layer(LayerSpec((("/tmp/cache", root / "pkg-b"),), owner=(1001, 0)), tmp_path / "w")
    with tarfile.open(blob.path) as tar:
        assert {(m.uid, m.gid) for m in tar} == {(1001, 0)}
        assert tar.getnames()[:2] == ["tmp/cache", "tmp/cache/link"]  # /tmp itself is left alone
