"""Extraction honours whiteouts and reads only the layers it needs (on OCI layouts, no registry)."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from iib_steps.errors import StepError
from iib_steps.images import extract_index_catalog, extract_paths
from iib_steps.images import manifests as mt
from iib_steps.images.layers import gzip_stream
from iib_steps.images.manifests import Descriptor, ImageManifest, RawManifest
from iib_steps.images.oci_layout import OciLayout
from tests.iib_steps.images.conftest import client_for


def _layer(entries: list[tuple[str, bytes | None]]) -> tuple[bytes, str]:
    """A gzipped tar: (name, content) for files, (name/, None) for directories."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, content in entries:
            info = tarfile.TarInfo(name.rstrip("/"))
            if content is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    out = io.BytesIO()
    _digest, diff_id, _, _ = gzip_stream([raw.getvalue()], out)
    return out.getvalue(), diff_id


def _image(path: Path, layers: list[list[tuple[str, bytes | None]]], labels: dict[str, str]) -> str:
    layout = OciLayout(path)
    layout.ensure()
    descs, diff_ids = [], []
    for entries in layers:
        blob, diff_id = _layer(entries)
        digest = mt.sha256_digest(blob)
        layout.put_blob_bytes(digest, blob)
        descs.append(Descriptor(mt.OCI_LAYER_GZIP, digest, len(blob)))
        diff_ids.append(diff_id)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Labels": labels},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        }
    ).encode()
    layout.put_blob_bytes(mt.sha256_digest(config), config)
    manifest = ImageManifest(
        mt.OCI_MANIFEST, Descriptor(mt.OCI_CONFIG, mt.sha256_digest(config), len(config)), tuple(descs)
    )
    layout.put_manifest(RawManifest(manifest.to_bytes(), mt.OCI_MANIFEST), "v1")
    return f"oci:{path}:v1"


LABEL = {"operators.operatorframework.io.index.configs.v1": "/configs"}


def test_whiteouts_and_upper_layers_win(tmp_path):
    image = _image(
        tmp_path / "img",
        [
            [("configs/", None), ("configs/a/", None), ("configs/a/catalog.json", b"a-old"),
             ("configs/gone/", None), ("configs/gone/catalog.json", b"gone"), ("configs/b/x", b"b-lower")],
            [("configs/a/catalog.json", b"a-new"), ("configs/.wh.gone", b""),
             ("configs/c/catalog.json", b"c")],
            [("configs/b/", None), ("configs/b/.wh..wh..opq", b""), ("configs/b/y", b"b-upper")],
        ],
        LABEL,
    )  # fmt: skip
    out = extract_index_catalog(image, tmp_path / "out", client=client_for())
    files = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    assert files == {"a/catalog.json": b"a-new", "b/y": b"b-upper", "c/catalog.json": b"c"}


def test_stops_at_the_opaque_layer(tmp_path):
    image = _image(
        tmp_path / "img",
        [
            [("bin/opm", b"binary"), ("configs/stale/catalog.json", b"stale")],
            [("configs/", None), ("configs/.wh..wh..opq", b"")],
            [("configs/p/catalog.json", b"p")],
        ],
        LABEL,
    )
    result = extract_paths(image, {"/configs": tmp_path / "out"}, client=client_for())
    assert (result.layers_read, result.layers_total, result.files) == (2, 3, 1)
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["p"]


def test_unsafe_names_are_skipped_and_missing_label_is_clear(tmp_path):
    image = _image(
        tmp_path / "img",
        [[("configs/../../escape", b"x"), ("configs/ok", b"ok"), ("/configs/abs", b"abs")]],
        {},
    )
    with pytest.raises(
        StepError, match=r"is not a file-based catalog: it has no operators.operatorframework"
    ):
        extract_index_catalog(image, tmp_path / "out", client=client_for())
    extract_paths(image, {"/configs": tmp_path / "out"}, client=client_for())
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["abs", "ok"]
    assert not (tmp_path / "escape").exists()
