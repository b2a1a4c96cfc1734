"""Turn a root filesystem tarball into a one-layer OCI image layout, deterministically.

    python3 rootfs_to_oci.py ROOTFS.tar LAYOUT_DIR TAG --created EPOCH [--arch amd64]

``make image`` uses it for the local base image: mmdebstrap writes a bookworm rootfs as a tar whose
bytes depend only on its inputs (SOURCE_DATE_EPOCH fixed), and this wraps that tar, unchanged and
uncompressed, as the single layer of an image (config, manifest, ``index.json`` with the tag). The
same tar and arguments always give the same digest. Standard library only: it runs before any
virtualenv exists. The tarball is moved into the layout's blobs, not copied.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

LAYER = "application/vnd.oci.image.layer.v1.tar"
CONFIG = "application/vnd.oci.image.config.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _sha256_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest(), path.stat().st_size


def _blob(layout: Path, data: bytes) -> tuple[str, int]:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / digest.split(":", 1)[1]).write_bytes(data)
    return digest, len(data)


def _json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def convert(rootfs: Path, layout: Path, tag: str, created: int, arch: str) -> str:
    """Write the layout and return the manifest digest."""
    (layout / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (layout / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    layer_digest, layer_size = _sha256_file(rootfs)
    os.replace(rootfs, layout / "blobs" / "sha256" / layer_digest.split(":", 1)[1])
    stamp = datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    config = {
        "architecture": arch,
        "os": "linux",
        "created": stamp,
        "config": {"Env": [f"PATH={PATH}", "LANG=C.UTF-8"], "Cmd": ["/bin/bash"]},
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        "history": [{"created": stamp, "created_by": "mmdebstrap (scripts/build-image.sh)"}],
    }
    config_digest, config_size = _blob(layout, _json(config))
    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "config": {"mediaType": CONFIG, "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": LAYER, "digest": layer_digest, "size": layer_size}],
    }
    manifest_digest, manifest_size = _blob(layout, _json(manifest))
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": MANIFEST,
                "digest": manifest_digest,
                "size": manifest_size,
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }
        ],
    }
    (layout / "index.json").write_bytes(_json(index))
    return manifest_digest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rootfs", type=Path)
    parser.add_argument("layout", type=Path)
    parser.add_argument("tag")
    parser.add_argument("--created", type=int, required=True, help="seconds since the epoch")
    parser.add_argument("--arch", default="amd64", help="the image's architecture (GOARCH name)")
    args = parser.parse_args(argv)
    if not args.rootfs.is_file():
        print(f"error: {args.rootfs} is not a file: give the tarball mmdebstrap wrote", file=sys.stderr)
        return 2
    print(convert(args.rootfs, args.layout, args.tag, args.created, args.arch))
    return 0


if __name__ == "__main__":
    sys.exit(main())
