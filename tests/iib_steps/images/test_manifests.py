"""Manifests: digests of the raw bytes, parsing both formats, clear errors, OCI conversion."""

from __future__ import annotations

import hashlib
import json

import pytest

from iib_steps.errors import StepError
from iib_steps.images import manifests as mt
from iib_steps.images.manifests import (
    Descriptor,
    ImageIndex,
    ImageManifest,
    Platform,
    RawManifest,
    media_type_for,
    parse_manifest,
    sniff_media_type,
)
from iib_steps.images.push import to_oci

CONFIG = Descriptor(mt.DOCKER_CONFIG, "sha256:" + "c" * 64, 100)
LAYER = Descriptor(mt.DOCKER_LAYER_GZIP, "sha256:" + "l" * 64, 2000, annotations={"k": "v"})


def test_digest_is_of_the_exact_bytes():
    data = b'{"schemaVersion": 2,  "mediaType": "%s", "manifests": []}' % mt.DOCKER_LIST.encode()
    raw = RawManifest(data, sniff_media_type(data))
    assert raw.media_type == mt.DOCKER_LIST
    assert raw.digest == "sha256:" + hashlib.sha256(data).hexdigest()
    assert raw.is_index


def test_round_trip_both_formats():
    manifest = ImageManifest(mt.DOCKER_MANIFEST, CONFIG, (LAYER,))
    again = parse_manifest(manifest.to_bytes(), mt.DOCKER_MANIFEST)
    assert again == ImageManifest(mt.DOCKER_MANIFEST, CONFIG, (LAYER,), None)
    index = ImageIndex(
        mt.OCI_INDEX, (Descriptor(mt.OCI_MANIFEST, "sha256:" + "a" * 64, 5, Platform("arm64", variant="v8")),)
    )
    parsed = parse_manifest(index.to_bytes(), mt.OCI_INDEX)
    assert isinstance(parsed, ImageIndex) and parsed.manifests[0].platform == Platform("arm64", "linux", "v8")


@pytest.mark.parametrize(
    ("data", "media_type", "message"),
    [
        (b'{"schemaVersion": 1}', mt.DOCKER_SCHEMA1_SIGNED, "Docker schema 1 manifests are not supported"),
        (
            b"not json",
            mt.OCI_MANIFEST,
            "malformed application/vnd.oci.image.manifest.v1+json manifest: not JSON",
        ),
        (
            b'{"layers": []}',
            mt.OCI_MANIFEST,
            "malformed application/vnd.oci.image.manifest.v1+json manifest: no config",
        ),
        (b"{}", "application/x-unknown", "unsupported manifest media type 'application/x-unknown'"),
    ],
)
def test_parse_errors(data, media_type, message):
    with pytest.raises(StepError) as info:
        parse_manifest(data, media_type)
    assert str(info.value).startswith(message)


def test_sniffing_without_media_type():
    assert sniff_media_type(b'{"schemaVersion": 1, "name": "x"}') == mt.DOCKER_SCHEMA1
    assert sniff_media_type(b'{"schemaVersion": 2, "manifests": []}') == mt.OCI_INDEX
    assert sniff_media_type(b'{"schemaVersion": 2, "config": {}}', "application/json") == mt.OCI_MANIFEST


def test_format_conversion():
    assert media_type_for(mt.OCI_LAYER_GZIP, mt.FORMAT_DOCKER) == mt.DOCKER_LAYER_GZIP
    assert media_type_for(mt.DOCKER_CONFIG, mt.FORMAT_OCI) == mt.OCI_CONFIG
    with pytest.raises(StepError, match=r"cannot write a Docker v2s2 image with a .*zstd blob"):
        media_type_for(mt.OCI_LAYER_ZSTD, mt.FORMAT_DOCKER)


def test_to_oci_keeps_blobs_and_platforms():
    child = RawManifest(ImageManifest(mt.DOCKER_MANIFEST, CONFIG, (LAYER,)).to_bytes(), mt.DOCKER_MANIFEST)
    top = RawManifest(
        ImageIndex(mt.DOCKER_LIST, (child.descriptor(Platform("s390x")),)).to_bytes(), mt.DOCKER_LIST
    )
    new_top, new_children = to_oci(top, [child])
    index = json.loads(new_top.data)
    assert index["mediaType"] == mt.OCI_INDEX
    assert index["manifests"][0]["platform"] == {"architecture": "s390x", "os": "linux"}
    assert index["manifests"][0]["digest"] == new_children[0].digest != child.digest
    image = json.loads(new_children[0].data)
    assert image["config"] == {"mediaType": mt.OCI_CONFIG, "digest": CONFIG.digest, "size": 100}
    assert image["layers"] == [
        {"mediaType": mt.OCI_LAYER_GZIP, "digest": LAYER.digest, "size": 2000, "annotations": {"k": "v"}}
    ]
