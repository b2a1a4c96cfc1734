"""IIB's pre-build decisions, table by table (spec/iib.md §4.0 step 3)."""

from __future__ import annotations

import pytest

from iib_steps import resolve as r
from iib_steps.errors import StepError

CONFIG = {"prod": {"v4.19": "reg/opm:v4.19", "v4.20": "scratch"}, "stage": {"v4.19": "reg/opm-stage:v4.19"}}


@pytest.mark.parametrize(
    ("index", "requested", "result"),
    [
        ("prod", None, "prod"),
        ("prod", "prod", "prod"),
        ("prod", "STAGE", "stage"),
        ("prod", "dev", "dev"),
        ("stage", "dev", "dev"),
        ("stage", "stage", "stage"),
        (
            "stage",
            "prod",
            'Cannot set "distribution_scope" to prod because from index is already set to stage',
        ),
        ("dev", "stage", 'Cannot set "distribution_scope" to stage because from index is already set to dev'),
        ("dev", "prod", 'Cannot set "distribution_scope" to prod because from index is already set to dev'),
        ("prod", "qa", 'The "distribution_scope" value must be one of "dev", "stage", or "prod"'),
    ],
)
def test_scope(index, requested, result):
    if result in r.SCOPES_WIDEST_FIRST:
        assert r.decide_scope(index, requested) == result
    else:
        with pytest.raises(StepError) as info:
            r.decide_scope(index, requested)
        assert str(info.value) == result


@pytest.mark.parametrize(
    ("requested", "scope", "ocp", "result"),
    [
        (None, "prod", "v4.19", "reg/opm:v4.19"),
        (None, "stage", "v4.19", "reg/opm-stage:v4.19"),
        ("mine/opm:1", "prod", "v4.19", "mine/opm:1"),
        ("mine/opm:1", "dev", "v4.5", "mine/opm:1"),
        (
            None,
            "scratch-less",
            "v4.19",
            "IIB does not have a configured binary_image for distribution_scope : "
            "scratch-less and ocp_version: v4.19. Please specify a binary_image value in the request.",
        ),
        (
            None,
            "dev",
            "v4.19",
            "IIB does not have a configured binary_image for distribution_scope : dev and "
            "ocp_version: v4.19. Please specify a binary_image value in the request.",
        ),
        (None, "prod", "v4.20", "scratch"),
        ("scratch", "prod", "v4.20", "scratch"),
        ("scratch", "prod", "v4.19", "The index image should not be binaryless for v4.19."),
        ("mine/opm:1", "prod", "v4.20", "The index image must be built as a binaryless for v4.20."),
    ],
)
def test_binary_image(requested, scope, ocp, result):
    if " " not in result:
        assert r.decide_binary_image(requested, CONFIG, scope, ocp) == result
    else:
        with pytest.raises(StepError) as info:
            r.decide_binary_image(requested, CONFIG, scope, ocp)
        assert str(info.value) == result


@pytest.mark.parametrize(
    ("indexes", "add", "binary", "kw", "result"),
    [
        ([{"amd64", "s390x"}], None, {"amd64", "s390x", "arm64"}, {}, ["amd64", "s390x"]),
        ([{"amd64"}], ["ppc64le"], {"amd64", "ppc64le"}, {}, ["amd64", "ppc64le"]),
        ([set()], ["arm64"], {"arm64"}, {}, ["arm64"]),
        ([{"amd64"}, {"s390x"}], [], {"amd64", "s390x"}, {}, ["amd64", "s390x"]),
        ([set()], [], {"amd64"}, {}, "No arches were provided to build the index image"),
        (
            [{"amd64", "s390x", "arm64"}],
            None,
            {"amd64"},
            {},
            "The binary image is not available for the following arches: arm64, s390x",
        ),
        ([{"amd64", "s390x"}], None, {"amd64"}, {"subset_allowed": True}, ["amd64"]),
        ([{"s390x"}], None, set(), {"binaryless": True}, ["amd64"]),
    ],
)
def test_arches(indexes, add, binary, kw, result):
    if isinstance(result, list):
        assert r.decide_arches(indexes, add, binary, **kw) == result
    else:
        with pytest.raises(StepError) as info:
            r.decide_arches(indexes, add, binary, **kw)
        assert str(info.value) == result


def test_index_facts_defaults_and_labels():
    facts = r.IndexFacts.from_labels("a:1", "a@sha256:1", ["amd64"], {})
    assert (facts.ocp_version, facts.distribution_scope) == ("v4.5", "prod")
    facts = r.IndexFacts.from_labels(
        "a:1", "a@sha256:1", [], {r.LABEL_SCOPE: "Stage"}, r.DEFAULT_TARGET_OCP_VERSION
    )
    assert (facts.ocp_version, facts.distribution_scope) == ("v4.6", "stage")
    facts = r.IndexFacts.from_labels("a:1", "a@sha256:1", [], {r.LABEL_OCP_VERSION: "v4.19"})
    assert facts.ocp_version == "v4.19"


def test_bundle_mapping_keeps_request_order():
    labels = {
        "q/b:2": {r.LABEL_PACKAGE: "beta"},
        "q/a:1": {r.LABEL_PACKAGE: "alpha"},
        "q/b:1": {r.LABEL_PACKAGE: "beta"},
        "q/none:1": {},
    }
    assert r.bundle_mapping(labels) == {"beta": ["q/b:2", "q/b:1"], "alpha": ["q/a:1"]}


@pytest.mark.parametrize(
    ("spec", "name"),
    [
        ("quay.io/ns/repo:v1", "quay.io/ns/repo"),
        ("localhost:5000/ns/repo", "localhost:5000/ns/repo"),
        ("localhost:5000/ns/repo:tag", "localhost:5000/ns/repo"),
        ("localhost:5000/ns/repo@sha256:abc", "localhost:5000/ns/repo"),
        ("repo:tag@sha256:abc", "repo"),
        ("oci:/tmp/layout:v1", "oci:/tmp/layout"),
        ("oci:/tmp/layout", "oci:/tmp/layout"),
        ("oci:layout", "oci:layout"),
    ],
)
def test_image_name(spec, name):
    assert r.image_name(spec) == name


def test_present_bundles_are_skipped_by_digest_in_any_repo():
    add, skipped = r.bundles_to_add(
        ["q/a@sha256:1", "q/b@sha256:2", "q/c@sha256:3"], ["other/a@sha256:1", "q/c:latest", "x/c@sha256:3"]
    )
    assert add == ["q/b@sha256:2"] and skipped == ["q/a@sha256:1", "q/c@sha256:3"]


def test_output_specs():
    assert r.output_pull_spec("{registry}/iib-build:{request_id}", "reg:5000/", 7) == "reg:5000/iib-build:7"
    assert r.output_tags(7, ["v4.19", "7", "v4.19"]) == ["7", "v4.19"]
    assert (
        r.public_index_image("reg:5000/iib-build:7", "reg:5000", "quay.io/iib") == "quay.io/iib/iib-build:7"
    )
    assert r.public_index_image("reg:5000/iib-build:7", "reg:5000", None) == "reg:5000/iib-build:7"
    with pytest.raises(StepError, match="push template"):
        r.output_pull_spec("{registry}/{nope}", "reg", 1)


@pytest.mark.parametrize(
    ("overwrite", "token", "result"),
    [
        (False, None, None),
        (True, None, None),
        (True, "me:pw", "me:*****"),
        (True, "me:p:w", "me:*****"),
        (
            False,
            "me:pw",
            'The "overwrite_from_index" parameter is required when the '
            '"overwrite_from_index_token" parameter is used',
        ),
        (True, "mepw", 'The "overwrite_from_index_token" parameter must be in the format "user:password"'),
        (True, ":pw", 'The "overwrite_from_index_token" parameter must be in the format "user:password"'),
    ],
)
def test_overwrite_token(overwrite, token, result):
    if result is None or result.endswith("*****"):
        parsed = r.parse_overwrite(overwrite, token)
        assert (str(parsed) if parsed else None) == result
        if parsed:
            assert "pw" not in repr(parsed) and parsed.password.endswith("w")
    else:
        with pytest.raises(StepError) as info:
            r.parse_overwrite(overwrite, token)
        assert str(info.value) == result


def test_from_index_changed_during_the_request():
    r.check_from_index_unchanged("i:v1", "i@sha256:1", "i@sha256:1")
    with pytest.raises(StepError, match="The supplied from_index image changed during the IIB request"):
        r.check_from_index_unchanged("i:v1", "i@sha256:1", "i@sha256:2")


@pytest.mark.parametrize(
    ("mode", "index", "allow", "ok"),
    [
        (None, "i:v1", [], True),
        ("semver", "i:v1", [], True),
        ("semver", "i:v1", ["i"], True),
        ("semver", "i:v1", ["i:v1"], True),
        ("semver", "j:v1", ["i:v1"], False),
        ("bogus", "i:v1", [], False),
    ],
)
def test_graph_update_mode(mode, index, allow, ok):
    if ok:
        assert r.check_graph_update_mode(mode, index, allow) == mode
    else:
        with pytest.raises(StepError, match='"graph_update_mode"'):
            r.check_graph_update_mode(mode, index, allow)


def test_deprecated_bundles_and_required_labels():
    assert r.deprecated_bundles(["a@sha256:1", "b@sha256:2"], ["z@sha256:2"]) == ["b@sha256:2"]
    r.check_required_labels("b", {"x": "1"}, {"x": "1"})
    with pytest.raises(StepError, match="The bundle b does not have the label x=2"):
        r.check_required_labels("b", {"x": "1"}, {"x": "2"})
    assert r.unique(["b", "a", "b"]) == ["b", "a"]


@pytest.mark.parametrize(
    ("label", "results"),
    [
        ("v4.5", [True, True, True, True]),
        ("=v4.6", [False, True, False, False]),
        ("v4.5-v4.7", [True, True, True, False]),
        ("v4.5,v4.6", [True, True, True, True]),
        ("v4.6,v4.5", [True, True, True, True]),
        ("=v4.5|=v4.6", [True, True, False, False]),
        ("=v4.5|>=v4.7", [True, False, True, True]),
        ("v4.5|v4.6", [False, False, False, False]),
        ("not-a-version", [False, False, False, False]),
        (None, [False, False, False, False]),
    ],
)
def test_bundle_ocp_version(label, results):
    got = [r.bundle_ocp_version_valid(label, f"v4.{n}") for n in (5, 6, 7, 8)]
    assert got == results


def test_bundle_ocp_version_edge_cases():
    assert r.bundle_ocp_version_valid(None, "v4.12", allow_missing=True)
    assert r.bundle_ocp_version_valid("v4.9", "v4.12")  # numeric, not text, order
    with pytest.raises(StepError, match='Invalid OCP version, "latest", specified in Index Image'):
        r.bundle_ocp_version_valid("v4.5", "latest")


def test_catalog_pull_spec():
    assert r.catalog_pull_spec("q.io/ns/b@sha256:1", "x") == "q.io/ns/b@sha256:1"
    assert (
        r.catalog_pull_spec("oci:/tmp/l/My-Bundle@sha256:1", "localhost/oci")
        == "localhost/oci/my-bundle@sha256:1"
    )


def test_layout_location_inverts_catalog_pull_spec():
    spec = r.catalog_pull_spec("oci:/data/images/bundle@sha256:1", "localhost/oci")
    assert r.layout_location(spec, "localhost/oci", "/data/images") == "oci:/data/images/bundle@sha256:1"
    assert r.layout_location(spec, "localhost/oci", None) == spec
    assert r.layout_location("quay.io/x@sha256:1", "localhost/oci", "/data") == "quay.io/x@sha256:1"


def test_binary_image_without_any_configuration() -> None:
    assert r.decide_binary_image("scratch", {}, "prod", "v4.19") == "scratch"
    assert r.decide_binary_image("mine/opm:1", {}, "prod", "v4.19") == "mine/opm:1"
    with pytest.raises(StepError) as info:
        r.decide_binary_image(None, {}, "prod", "v4.19")
    assert "set e.g. binary_image_config: {prod: {v4.19: scratch}}" in str(info.value)
    assert str(info.value).startswith("IIB does not have a configured binary_image for distribution_scope")
