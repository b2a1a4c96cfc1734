"""Blob writes into an OCI layout: every way in leaves a readable blob and no temporary file."""

from __future__ import annotations

import hashlib
import stat

import pytest

from iib_steps.errors import StepError
from iib_steps.images.oci_layout import OciLayout


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _leftovers(layout: OciLayout) -> list[str]:
    return sorted(p.name for p in layout.path.rglob(".*") if p.is_file())


def test_put_blob_bytes_file_and_stream_agree(tmp_path):
    layout = OciLayout(tmp_path / "layout")
    data = [b"from bytes", b"from a file", b"from a stream"]
    source = tmp_path / "src"
    source.write_bytes(data[1])
    layout.put_blob_bytes(_digest(data[0]), data[0])
    layout.put_blob_file(_digest(data[1]), source)
    layout.put_blob_stream(_digest(data[2]), lambda fh: fh.write(data[2]))
    for blob in data:
        path = layout.blob_path(_digest(blob))
        assert layout.read_blob(_digest(blob)) == blob
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert _leftovers(layout) == []


def test_a_corrupted_stream_leaves_nothing(tmp_path):
    layout = OciLayout(tmp_path / "layout")
    digest = _digest(b"expected")
    with pytest.raises(StepError, match="arrived corrupted"):
        layout.put_blob_stream(digest, lambda fh: fh.write(b"something else"))
    assert not layout.has_blob(digest)
    assert _leftovers(layout) == []
