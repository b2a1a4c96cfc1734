"""Tekton results within the size budget and IIB's request JSON per type."""

from __future__ import annotations

import orjson
import pytest

from iib_steps.errors import StepError
from iib_steps.results import REQUEST_KEYS, request_json, write_json_file, write_results


def test_results_written_exactly(tmp_path):
    paths = {"IMAGE_URL": tmp_path / "url", "arches": tmp_path / "arches", "unused": None}
    write_results(paths, {"IMAGE_URL": "reg/iib-build:1", "arches": ["amd64", "s390x"], "unused": "x"})
    assert (tmp_path / "url").read_bytes() == b"reg/iib-build:1"  # no newline: Tekton does not trim
    assert (tmp_path / "arches").read_bytes() == b'["amd64","s390x"]'
    assert not (tmp_path / "unused").exists()


def test_results_over_budget_write_nothing(tmp_path):
    paths = {"a": tmp_path / "a", "bundle_mapping": tmp_path / "b"}
    with pytest.raises(StepError, match=r"over the 3500-byte budget.*'bundle_mapping'"):
        write_results(paths, {"a": "x", "bundle_mapping": {"op": ["b" * 100] * 40}})
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_add_request_json_has_every_key():
    data = request_json("add", {"bundles": ["b@sha256:1"], "arches": ["s390x", "amd64"]}, "7")
    assert data["id"] == 7 and data["request_type"] == "add" and data["arches"] == ["amd64", "s390x"]
    for key in (
        "bundle_mapping",
        "omps_operator_version",
        "removed_operators",
        "check_related_images",
        "internal_index_image_copy_resolved",
        "graph_update_mode",
        "build_tags",
    ):
        assert key in data
    assert (
        data["bundle_mapping"] == {}
        and data["removed_operators"] == []
        and data["check_related_images"] is None
    )


@pytest.mark.parametrize(
    ("rtype", "present", "absent"),
    [
        ("rm", "removed_operators", "graph_update_mode"),
        ("fbc-operations", "fbc_fragments_resolved", "bundles"),
        ("create-empty-index", "labels", "build_tags"),
        ("add-deprecations", "operator_package", "distribution_scope"),
        ("merge-index-image", "target_index_resolved", "index_image_resolved"),
        ("regenerate-bundle", "bundle_replacements", "from_index"),
        ("recursive-related-bundles", "nested_bundles", "arches_x"),
    ],
)
def test_type_keys(rtype, present, absent):
    data = request_json(rtype, {})
    assert present in data and absent not in data
    assert set(REQUEST_KEYS[rtype]) <= set(data)


def test_legacy_fbc_fragment_shape():
    data = request_json(
        "fbc-operations", {"fbc_fragment": "f:1", "fbc_fragments": ["f:1"], "used_fbc_fragment": True}
    )
    assert data["fbc_fragment"] == "f:1" and data["fbc_fragments"] == []


def test_unknown_type():
    with pytest.raises(StepError, match="unknown request type"):
        request_json("paint", {})


def test_json_file(tmp_path):
    out = write_json_file(tmp_path / "d" / "r.json", {"b": 1, "a": [1]})
    assert orjson.loads(out.read_bytes()) == {"a": [1], "b": 1}
