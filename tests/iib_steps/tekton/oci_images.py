"""Tiny OCI image layouts written by the tests themselves: a busybox rootfs for the container
runtime, and a Tekton bundle (one layer per object) for the bundles resolver."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

BUSYBOX = Path("/bin/busybox")
_APPLETS = (
    "sh",
    "echo",
    "cat",
    "printf",
    "sleep",
    "env",
    "pwd",
    "id",
    "ls",
    "mkdir",
    "test",
    "true",
    "false",
)


def _blob(layout: Path, data: bytes) -> tuple[str, int]:
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (layout / "blobs" / "sha256" / digest).write_bytes(data)
    return f"sha256:{digest}", len(data)


def write_image(
    layout: Path,
    layers: list[tuple[bytes, dict[str, str] | None]],
    config: dict[str, Any],
    tag: str = "latest",
) -> str:
    """Write an OCI layout with one image of gzipped tar ``layers``; return ``oci:PATH:TAG``."""
    layout.mkdir(parents=True, exist_ok=True)
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    descs, diff_ids = [], []
    for tar_bytes, notes in layers:
        diff_ids.append("sha256:" + hashlib.sha256(tar_bytes).hexdigest())
        digest, size = _blob(layout, gzip.compress(tar_bytes, mtime=0))
        desc: dict[str, Any] = {
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": digest,
            "size": size,
        }
        if notes:
            desc["annotations"] = notes
        descs.append(desc)
    config = {
        "architecture": "amd64",
        "os": "linux",
        **config,
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }
    cdigest, csize = _blob(layout, json.dumps(config).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cdigest, "size": csize},
        "layers": descs,
    }
    mdigest, msize = _blob(layout, json.dumps(manifest).encode())
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": mdigest,
                "size": msize,
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }
        ],
    }
    (layout / "index.json").write_text(json.dumps(index))
    return f"oci:{layout}:{tag}"


def _tar(entries: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def busybox_image(layout: Path, user: str = "") -> str:
    """A rootfs of static busybox with a few applets, ``/bin/sh`` as entrypoint."""
    entries: list[tuple[tarfile.TarInfo, bytes | None]] = []
    for d in ("bin", "tmp", "etc", "root"):
        info = tarfile.TarInfo(d)
        info.type, info.mode = tarfile.DIRTYPE, 0o1777 if d == "tmp" else 0o755
        entries.append((info, None))
    data = BUSYBOX.read_bytes()
    info = tarfile.TarInfo("bin/busybox")
    info.size, info.mode = len(data), 0o755
    entries.append((info, data))
    for applet in _APPLETS:
        link = tarfile.TarInfo(f"bin/{applet}")
        link.type, link.linkname = tarfile.SYMTYPE, "busybox"
        entries.append((link, None))
    passwd = b"root:x:0:0:root:/root:/bin/sh\nrunner:x:1001:0::/tmp:/bin/sh\n"
    info = tarfile.TarInfo("etc/passwd")
    info.size = len(passwd)
    entries.append((info, passwd))
    config = {
        "config": {
            "Entrypoint": ["/bin/sh", "-c"],
            "Cmd": ["echo from-image-cmd"],
            "Env": ["PATH=/bin", "IMAGE_ENV=from-image"],
            "WorkingDir": "/",
            "User": user,
        }
    }
    return write_image(layout, [(_tar(entries), None)], config)


def bundle_image(layout: Path, objects: list[dict[str, Any]], tag: str = "0.1") -> str:
    """A Tekton bundle as tkn writes it: one layer per object, named by its annotations."""
    layers = []
    for obj in objects:
        data = json.dumps(obj).encode()
        info = tarfile.TarInfo(obj["metadata"]["name"])
        info.size, info.mode = len(data), 0o600
        notes = {
            "dev.tekton.image.apiVersion": obj["apiVersion"].split("/")[-1],
            "dev.tekton.image.kind": obj["kind"].lower(),
            "dev.tekton.image.name": obj["metadata"]["name"],
        }
        layers.append((_tar([(info, data)]), notes))
    return write_image(layout, layers, {"config": {}}, tag)
