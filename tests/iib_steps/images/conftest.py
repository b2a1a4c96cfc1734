"""Helpers for the image tests: small fake "binary images" of several architectures, made with our
own layer writer and pushed as a manifest list (or OCI index) to a registry or an OCI layout."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from iib_steps.images import manifests as mt
from iib_steps.images.layers import LayerSpec, write_layer
from iib_steps.images.manifests import Descriptor, ImageIndex, ImageManifest, Platform, RawManifest
from iib_steps.images.reference import parse_image
from iib_steps.images.registry import RegistryClient
from iib_steps.images.retry import RetryPolicy
from iib_steps.images.stores import open_store

ARCHES = ("amd64", "arm64", "ppc64le", "s390x")


def client_for(*hosts: str, auth=None, attempts: int = 3) -> RegistryClient:
    """A client that speaks plain HTTP to the loopback hosts and retries quickly."""
    from iib_steps.images.auth import AuthStore

    return RegistryClient(auth=auth or AuthStore(), insecure=hosts, retry=RetryPolicy(attempts, 0.01, 0.05))


def make_binary_image(
    dest: str,
    tmp: Path,
    client: RegistryClient,
    arches: Sequence[str] = ARCHES,
    fmt: str = mt.FORMAT_DOCKER,
    labels: dict[str, str] | None = None,
) -> str:
    """Push a fake opm image: a shared base layer (with a stale /configs the index must hide) and one
    ``/bin/opm`` layer per architecture. Returns the list's digest."""
    loc = parse_image(dest)
    store = open_store(loc, client)
    base_dir = tmp / "base"
    (base_dir / "etc").mkdir(parents=True, exist_ok=True)
    (base_dir / "etc" / "os-release").write_text("ID=fake\n")
    (base_dir / "configs" / "stale").mkdir(parents=True, exist_ok=True)
    (base_dir / "configs" / "stale" / "catalog.json").write_text('{"schema":"olm.package","name":"stale"}\n')
    base = write_layer(
        LayerSpec((("/etc", base_dir / "etc"), ("/configs", base_dir / "configs"))), tmp / "blobs"
    )
    layer_type = mt.DOCKER_LAYER_GZIP if fmt == mt.FORMAT_DOCKER else mt.OCI_LAYER_GZIP
    children = []
    for arch in arches:
        bin_dir = tmp / f"bin-{arch}"
        bin_dir.mkdir(exist_ok=True)
        (bin_dir / "opm").write_text(f"#!/bin/sh\necho opm for {arch}\n")
        (bin_dir / "opm").chmod(0o755)
        opm = write_layer(LayerSpec((("/bin", bin_dir),)), tmp / "blobs")
        config = {
            "architecture": arch,
            "os": "linux",
            "created": "2024-01-01T00:00:00Z",
            "config": {"Labels": {"base": "fake", **(labels or {})}, "Env": ["PATH=/bin"]},
            "rootfs": {"type": "layers", "diff_ids": [base.diff_id, opm.diff_id]},
            "history": [{"created_by": "base"}, {"created_by": "opm"}],
        }
        config_bytes = json.dumps(config).encode()
        for blob in (base, opm):
            if not store.has_blob(blob.digest):
                store.put_blob_file(blob.digest, blob.size, blob.path)
        store.put_blob_bytes(mt.sha256_digest(config_bytes), config_bytes)
        manifest = ImageManifest(
            mt.DOCKER_MANIFEST if fmt == mt.FORMAT_DOCKER else mt.OCI_MANIFEST,
            Descriptor(
                mt.DOCKER_CONFIG if fmt == mt.FORMAT_DOCKER else mt.OCI_CONFIG,
                mt.sha256_digest(config_bytes),
                len(config_bytes),
            ),
            (Descriptor(layer_type, base.digest, base.size), Descriptor(layer_type, opm.digest, opm.size)),
        )
        raw = RawManifest(manifest.to_bytes(), manifest.media_type)
        store.put_manifest(raw)
        children.append(raw.descriptor(Platform(arch)))
    index = ImageIndex(mt.DOCKER_LIST if fmt == mt.FORMAT_DOCKER else mt.OCI_INDEX, tuple(children))
    top = RawManifest(index.to_bytes(), index.media_type)
    store.put_manifest(top, loc.tag or "latest")
    return top.digest


def make_catalog(root: Path, packages: Sequence[str] = ("alpha", "beta", "gamma"), big: int = 0) -> Path:
    """A small FBC directory: one catalog.json per package (``big`` extra bytes in the first)."""
    root.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(packages):
        (root / name).mkdir(exist_ok=True)
        blobs = [
            {"schema": "olm.package", "name": name, "defaultChannel": "stable"},
            {
                "schema": "olm.channel",
                "package": name,
                "name": "stable",
                "entries": [{"name": f"{name}.v1.0.0"}],
            },
            {
                "schema": "olm.bundle",
                "package": name,
                "name": f"{name}.v1.0.0",
                "image": f"quay.io/ns/{name}:v1",
            },
        ]
        if i == 0 and big:
            blobs.append({"schema": "olm.bundle", "name": "padding", "x": "y" * big})
        (root / name / "catalog.json").write_text("".join(json.dumps(b, indent=4) + "\n" for b in blobs))
    return root


@pytest.fixture
def reg_client(registry):
    return client_for(registry.host)
