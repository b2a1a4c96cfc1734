"""Layer blobs read as their uncompressed tar, whatever the compression, hashed on the way; a zstd
catalog layer extracts like a gzip one."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile

import pytest
import zstandard

from iib_steps.errors import StepError
from iib_steps.images import extract_index_catalog
from iib_steps.images import manifests as mt
from iib_steps.images.layer_stream import LayerStream
from iib_steps.images.manifests import Descriptor, ImageManifest, RawManifest
from iib_steps.images.oci_layout import OciLayout
from tests.iib_steps.images.conftest import client_for


def _tar(files: dict[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return raw.getvalue()


# Incompressible enough to span many reads, so that chunking and buffering are exercised.
TAR = _tar(
    {
        f"configs/p{i}/catalog.json": hashlib.sha256(str(i).encode()).hexdigest().encode() * 900
        for i in range(40)
    }
)
DIFF_ID = "sha256:" + hashlib.sha256(TAR).hexdigest()

COMPRESSIONS = {
    "plain": lambda b: b,
    "gzip": lambda b: gzip.compress(b, mtime=0),
    "gzip, two members": lambda b: gzip.compress(b[:5000], mtime=0) + gzip.compress(b[5000:], mtime=0),
    "zstd": lambda b: zstandard.ZstdCompressor().compress(b),
    "zstd, streamed frames": lambda b: b"".join(
        zstandard.ZstdCompressor().compress(b[i : i + 70000]) for i in range(0, len(b), 70000)
    ),
}


@pytest.mark.parametrize("compression", sorted(COMPRESSIONS))
@pytest.mark.parametrize("read_size", [-1, 512, 10240])
def test_the_uncompressed_bytes_and_their_digest(compression, read_size):
    stream = LayerStream(io.BytesIO(COMPRESSIONS[compression](TAR)))
    parts = []
    while chunk := stream.read(read_size):
        parts.append(chunk)
    assert b"".join(parts) == TAR
    assert stream.diff_id == DIFF_ID


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_a_truncated_layer_is_an_error(compression):
    blob = COMPRESSIONS[compression](TAR)
    stream = LayerStream(io.BytesIO(blob[: len(blob) // 2]))
    with pytest.raises(StepError):
        stream.drain()


def test_a_zstd_catalog_layer_extracts(tmp_path):
    layout = OciLayout(tmp_path / "img")
    layout.ensure()
    blob = zstandard.ZstdCompressor().compress(TAR)
    digest = mt.sha256_digest(blob)
    layout.put_blob_bytes(digest, blob)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Labels": {"operators.operatorframework.io.index.configs.v1": "/configs"}},
            "rootfs": {"type": "layers", "diff_ids": [DIFF_ID]},
        }
    ).encode()
    layout.put_blob_bytes(mt.sha256_digest(config), config)
    manifest = ImageManifest(
        mt.OCI_MANIFEST,
        Descriptor(mt.OCI_CONFIG, mt.sha256_digest(config), len(config)),
        (Descriptor(mt.OCI_LAYER_ZSTD, digest, len(blob)),),
    )
    layout.put_manifest(RawManifest(manifest.to_bytes(), mt.OCI_MANIFEST), "v1")
    out = extract_index_catalog(f"oci:{tmp_path / 'img'}:v1", tmp_path / "out", client=client_for())
    assert sorted(p.name for p in out.iterdir()) == sorted(f"p{i}" for i in range(40))
    assert (out / "p7" / "catalog.json").read_bytes() == hashlib.sha256(b"7").hexdigest().encode() * 900
