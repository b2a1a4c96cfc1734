"""catalog.imageref gives distribution/reference's answers and error texts."""

from __future__ import annotations

import pytest

from catalog.imageref import ImageRef, ImageRefError, parse_normalized_named, parse_reference

D64 = "sha256:" + "a" * 64
D64_UPPER = "sha256:" + "A" * 64


@pytest.mark.parametrize(
    ("text", "canonical", "domain", "path", "tag", "digest", "familiar"),
    [
        ("ubuntu", "docker.io/library/ubuntu", "docker.io", "library/ubuntu", None, None, "ubuntu"),
        (
            "ubuntu:22.04",
            "docker.io/library/ubuntu:22.04",
            "docker.io",
            "library/ubuntu",
            "22.04",
            None,
            "ubuntu:22.04",
        ),
        ("docker.io/ubuntu", "docker.io/library/ubuntu", "docker.io", "library/ubuntu", None, None, "ubuntu"),
        ("index.docker.io/foo/bar", "docker.io/foo/bar", "docker.io", "foo/bar", None, None, "foo/bar"),
        ("index.docker.io/bar", "docker.io/library/bar", "docker.io", "library/bar", None, None, "bar"),
        ("foo/bar", "docker.io/foo/bar", "docker.io", "foo/bar", None, None, "foo/bar"),
        ("library/a/b", "docker.io/library/a/b", "docker.io", "library/a/b", None, None, "library/a/b"),
        ("localhost/foo", "localhost/foo", "localhost", "foo", None, None, "localhost/foo"),
        (
            "localhost:5000/foo/bar:v1",
            "localhost:5000/foo/bar:v1",
            "localhost:5000",
            "foo/bar",
            "v1",
            None,
            "localhost:5000/foo/bar:v1",
        ),
        ("127.0.0.1:5000/r", "127.0.0.1:5000/r", "127.0.0.1:5000", "r", None, None, "127.0.0.1:5000/r"),
        ("[::1]:5000/r:t", "[::1]:5000/r:t", "[::1]:5000", "r", "t", None, "[::1]:5000/r:t"),
        ("Example.COM/r", "Example.COM/r", "Example.COM", "r", None, None, "Example.COM/r"),
        ("UPPER/r", "UPPER/r", "UPPER", "r", None, None, "UPPER/r"),
        (
            "quay.io/ns/op-bundle@" + D64,
            "quay.io/ns/op-bundle@" + D64,
            "quay.io",
            "ns/op-bundle",
            None,
            D64,
            "quay.io/ns/op-bundle@" + D64,
        ),
        (
            "quay.io/a/b:v1@" + D64,
            "quay.io/a/b:v1@" + D64,
            "quay.io",
            "a/b",
            "v1",
            D64,
            "quay.io/a/b:v1@" + D64,
        ),
        (
            "registry.redhat.io/a__b/c-d.e_f:V_1.0-x",
            "registry.redhat.io/a__b/c-d.e_f:V_1.0-x",
            "registry.redhat.io",
            "a__b/c-d.e_f",
            "V_1.0-x",
            None,
            "registry.redhat.io/a__b/c-d.e_f:V_1.0-x",
        ),
        ("a---b", "docker.io/library/a---b", "docker.io", "library/a---b", None, None, "a---b"),
    ],
)
def test_valid_references_normalise(text, canonical, domain, path, tag, digest, familiar):
    ref = parse_normalized_named(text)
    assert (str(ref), ref.domain, ref.path, ref.tag, ref.digest) == (canonical, domain, path, tag, digest)
    assert ref.familiar_string == familiar
    assert ref.name == f"{domain}/{path}"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "invalid reference format"),
        ("quay.io/", "invalid reference format"),
        ("quay.io/a/", "invalid reference format"),
        ("a:b:c", "invalid reference format"),
        ("quay.io/a b", "invalid reference format"),
        ("quay.io/a/b:", "invalid reference format"),
        ("quay.io/a/b@", "invalid reference format"),
        ("quay.io/a/b@sha256:abc", "invalid reference format"),
        ("quay.io/-a/b", "invalid reference format"),
        ("quay.io/a_-b", "invalid reference format"),
        ("quay.io/a/b:" + "t" * 129, "invalid reference format"),
        ("quay.io/a/b:-tag", "invalid reference format"),
        ("quay.io/a/b:tág", "invalid reference format"),
        ("Foo", "invalid reference format: repository name (library/Foo) must be lowercase"),
        ("quay.io/Foo/bar:v1", "invalid reference format: repository name (Foo/bar) must be lowercase"),
        ("foo/Bar", "invalid reference format: repository name (foo/Bar) must be lowercase"),
        ("a" * 64, "invalid repository name (" + "a" * 64 + "), cannot specify 64-byte hexadecimal strings"),
        ("quay.io/" + "a" * 256, "repository name must not be more than 255 characters"),
        ("quay.io/a@" + D64_UPPER, "invalid checksum digest format"),
        ("quay.io/a@sha256:" + "a" * 63 + "0a", "invalid checksum digest length"),
        ("quay.io/a@sha256:" + "a" * 32, "invalid checksum digest length"),
        ("quay.io/a@md5:" + "a" * 32, "unsupported digest algorithm"),
        ("quay.io/a@sha512:" + "b" * 128, None),
        ("localhost:5000/" + "a" * 255, None),
    ],
)
def test_errors_match_distribution(text, error):
    if error is None:
        parse_normalized_named(text)
        return
    with pytest.raises(ImageRefError) as info:
        parse_normalized_named(text)
    assert str(info.value) == error


def test_parse_reference_keeps_names_as_given_and_reports_uppercase():
    # like Go's reference.Parse, the first of two components is taken as the domain
    assert parse_reference("foo/bar:v1") == ImageRef("foo", "bar", "v1", None)
    assert parse_reference("bar") == ImageRef("", "bar")
    assert parse_reference("quay.io/foo") == ImageRef("quay.io", "foo")
    with pytest.raises(ImageRefError, match=r"^repository name must be lowercase$"):
        parse_reference("quay.io/Foo")


def test_helpers():
    ref = parse_normalized_named("quay.io/a/b")
    assert str(ref.tag_name_only()) == "quay.io/a/b:latest"
    pinned = ref.with_tag("v1").with_digest(D64)
    assert str(pinned) == "quay.io/a/b:v1@" + D64
    assert str(pinned.docker_ref()) == "quay.io/a/b@" + D64
    assert str(pinned.name_only()) == "quay.io/a/b"
    with pytest.raises(ImageRefError, match=r"^invalid tag format$"):
        ref.with_tag(".bad")
    with pytest.raises(ImageRefError, match=r"^invalid digest format$"):
        ref.with_digest("sha256:xyz")
