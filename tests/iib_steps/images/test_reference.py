"""Image locations and auth files: what users type, and the one-line errors they get."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from iib_steps.errors import StepError
from iib_steps.images import AuthStore, Credentials, LayoutImage, RegistryImage, parse_image


@pytest.mark.parametrize(
    ("text", "registry", "repository", "reference"),
    [
        ("quay.io/ns/index:v4.19", "quay.io", "ns/index", "v4.19"),
        ("docker://quay.io/ns/index:v4.19", "quay.io", "ns/index", "v4.19"),
        ("busybox", "docker.io", "library/busybox", "latest"),
        ("127.0.0.1:5000/a/b@sha256:" + "1" * 64, "127.0.0.1:5000", "a/b", "sha256:" + "1" * 64),
    ],
)
def test_registry_references(text, registry, repository, reference):
    loc = parse_image(text)
    assert isinstance(loc, RegistryImage)
    assert (loc.registry, loc.repository, loc.reference) == (registry, repository, reference)


def test_layout_references():
    assert parse_image("oci:/tmp/x:v1") == LayoutImage(Path("/tmp/x"), "v1")
    assert parse_image("oci:/tmp/x") == LayoutImage(Path("/tmp/x"))
    assert parse_image("oci:rel/dir@sha256:" + "a" * 64) == LayoutImage(
        Path("rel/dir"), None, "sha256:" + "a" * 64
    )
    assert (
        str(parse_image("oci:/tmp/x:v1").with_digest("sha256:" + "b" * 64)) == "oci:/tmp/x@sha256:" + "b" * 64
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "an image reference is empty"),
        (
            "quay.io/Ns/x:1",
            "invalid image reference 'quay.io/Ns/x:1': "
            "invalid reference format: repository name (Ns/x) must be lowercase",
        ),
        ("http://quay.io/x", "unsupported image transport in 'http://quay.io/x': use docker:// or oci:"),
        ("oci:", "invalid image reference 'oci:': the OCI layout path is empty"),
        ("oci:/x@sha256:12", "invalid image reference 'oci:/x@sha256:12': invalid checksum digest length"),
    ],
)
def test_bad_references(text, message):
    with pytest.raises(StepError) as info:
        parse_image(text)
    assert str(info.value) == message


def test_auth_file_lookup(tmp_path):
    def b64(s: str) -> str:
        return base64.b64encode(s.encode()).decode()

    path = tmp_path / "auth.json"
    path.write_text(
        json.dumps(
            {
                "auths": {
                    "https://index.docker.io/v1/": {"auth": b64("hub:hubpw")},
                    "quay.io": {"auth": b64("q:qpw")},
                    "quay.io/ns/repo": {"username": "tok", "password": "tokpw"},
                    "registry.io": {"identitytoken": "refresh"},
                }
            }
        )
    )
    store = AuthStore.from_file(path)
    assert store.for_repository("docker.io", "library/x") == Credentials("hub", "hubpw")
    assert store.for_repository("quay.io", "ns/other") == Credentials("q", "qpw")
    assert store.for_repository("quay.io", "ns/repo") == Credentials("tok", "tokpw")
    assert store.for_repository("registry.io", "a").identity_token == "refresh"
    assert store.for_repository("other.io", "a") is None
    assert "tokpw" not in repr(store.for_repository("quay.io", "ns/repo"))


def test_bad_auth_files(tmp_path):
    with pytest.raises(StepError, match="does not exist"):
        AuthStore.from_file(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(StepError, match="cannot read registry auth file"):
        AuthStore.from_file(bad)
    bad.write_text(json.dumps({"auths": {"q.io": {"auth": base64.b64encode(b"nocolon").decode()}}}))
    with pytest.raises(StepError, match="is not user:password"):
        AuthStore.from_file(bad)
