# ruff: noqa: E501  (a table of exact error strings reads best one case a line)
"""POST payload rules, table-driven: payload → IIB's exact error text (no database needed)."""

from __future__ import annotations

from typing import Any

import pytest

from status_api.errors import Forbidden, ValidationError
from status_api.settings import load_settings
from status_api.validation import VALIDATORS, Context, validate_add_rm_batch

BIN = {"binary_image": "reg/opm:1"}
IDX = {"from_index": "reg/index:1"}
CASES: list[tuple[str, Any, str]] = [
    (
        "add",
        {**IDX, **BIN, "bundles": "x"},
        '"bundles" should be either an empty array or an array of non-empty strings',
    ),
    ("add", {**BIN}, '"from_index" must be specified if no bundles are specified'),
    (
        "add",
        {**IDX, **BIN, "check_related_images": True},
        '"check_related_images" must be specified only when bundles are specified',
    ),
    (
        "add",
        {**IDX, **BIN, "bundles": ["b:1"], "check_related_images": "yes"},
        'The "check_related_images" parameter must be a boolean',
    ),
    (
        "add",
        {**IDX, **BIN, "graph_update_mode": "fast"},
        "\"graph_update_mode\" must be set to one of these: ['replaces', 'semver', 'semver-skippatch']",
    ),
    ("add", {**IDX, **BIN, "organization": 3}, '"organization" must be a string'),
    ("add", {**IDX, **BIN, "force_backport": "y"}, '"force_backport" must be a boolean'),
    ("add", {**IDX, **BIN, "output_fbc": True}, "The following parameters are invalid: output_fbc"),
    ("add", {**IDX, **BIN, "colour": "blue"}, "The following parameters are invalid: colour"),
    ("add", {"bundles": ["b:1"], **BIN}, 'One of "from_index" or "add_arches" must be specified'),
    (
        "add",
        {**IDX, **BIN, "overwrite_from_index": "yes"},
        'The "overwrite_from_index" parameter must be a boolean',
    ),
    (
        "add",
        {**IDX, **BIN, "overwrite_from_index_token": 5},
        'The "overwrite_from_index_token" parameter must be a string',
    ),
    (
        "add",
        {**IDX, **BIN, "overwrite_from_index_token": "u:p"},
        'The "overwrite_from_index" parameter is required when the "overwrite_from_index_token" parameter is used',
    ),
    (
        "add",
        {**IDX, **BIN, "distribution_scope": "qa"},
        'The "distribution_scope" value must be one of "dev", "stage", or "prod"',
    ),
    (
        "add",
        {**IDX, **BIN, "add_arches": ["", "x"]},
        "Architectures should be specified as a non-empty array of strings",
    ),
    ("add", {**IDX, "binary_image": 7}, 'The "binary_image" value must be a string'),
    ("add", {**IDX}, 'The "binary_image" value must be a non-empty string'),
    ("add", {"from_index": 7, **BIN}, '"from_index" must be a string'),
    ("add", {"from_index": "noTag", **BIN}, "Image noTag should have a tag or a digest specified."),
    (
        "add",
        {**IDX, **BIN, "build_tags": [""]},
        '"build_tags" should be either an empty array or an array of non-empty strings',
    ),
    ("rm", {**IDX, **BIN, "operators": []}, '"operators" should be a non-empty array of strings'),
    ("rm", {**BIN, "operators": ["a"]}, "Missing required parameter(s): from_index"),
    (
        "rm",
        {**IDX, **BIN, "operators": ["a"], "cnr_token": "t"},
        "The following parameters are invalid: cnr_token",
    ),
    ("rm", {"from_index": "", **BIN, "operators": ["a"]}, '"from_index" must be set'),
    ("regenerate-bundle", {}, "Missing required parameter(s): from_bundle_image"),
    ("regenerate-bundle", {"from_bundle_image": 5}, '"from_bundle_image" must be a string'),
    ("regenerate-bundle", {"from_bundle_image": "b:1", "organization": 5}, '"organization" must be a string'),
    (
        "regenerate-bundle",
        {"from_bundle_image": "b:1", "bundle_replacements": [1]},
        'The value of "bundle_replacements" must be a JSON object',
    ),
    (
        "regenerate-bundle",
        {"from_bundle_image": "b:1", "bundle_replacements": {"a": 1}},
        'The key and value of "a" must be a string',
    ),
    (
        "regenerate-bundle",
        {"from_bundle_image": "b:1", "registry_auths": [1]},
        '"registry_auths" must be a dict',
    ),
    (
        "regenerate-bundle",
        {"from_bundle_image": "b:1", "registry_auths": {"x": {}}},
        '"registry_auths" must contain single key "auths"',
    ),
    (
        "regenerate-bundle",
        {"from_bundle_image": "b:1", "registry_auths": {"auths": {}}},
        '"registry_auths.auths" must be a non-empty dict',
    ),
    (
        "regenerate-bundle",
        {"from_bundle_image": "b:1", "registry_auths": {"auths": {"q.io": {"pw": "x"}}}},
        "q.io in registry_auths has auth value in incorrect format. See the API docs for details on the expected format",
    ),
    ("merge-index-image", {**BIN}, 'The "source_from_index" value must be a string'),
    (
        "merge-index-image",
        {"source_from_index": "s:1", **BIN, "color": 1},
        "The following parameters are invalid: color",
    ),
    (
        "merge-index-image",
        {"source_from_index": "s:1", **BIN, "target_index": 3},
        'The "target_index" value must be a string',
    ),
    (
        "merge-index-image",
        {"source_from_index": "s:1", **BIN, "deprecation_list": "x"},
        'The "deprecation_list" value should be an empty array or an array of strings',
    ),
    (
        "merge-index-image",
        {"source_from_index": "s:1", **BIN, "overwrite_target_index": 1},
        'The "overwrite_target_index" value must be a boolean',
    ),
    (
        "merge-index-image",
        {"source_from_index": "s:1", **BIN, "overwrite_target_index": True},
        'The "overwrite_target_index_token" value is required when the "overwrite_target_index" value is set',
    ),
    (
        "merge-index-image",
        {"source_from_index": "s:1", **BIN, "overwrite_target_index_token": "u:p"},
        'The "overwrite_target_index" value is required when the "overwrite_target_index_token" value is used',
    ),
    ("create-empty-index", {**BIN}, '"from_index" must be specified'),
    ("create-empty-index", {"from_index": "", **BIN}, '"from_index" must be a non-empty string'),
    ("create-empty-index", {**IDX, **BIN, "labels": []}, 'The value of "labels" must be a JSON object'),
    ("create-empty-index", {**IDX, **BIN, "labels": {"a": 1}}, 'The key and value of "a" must be a string'),
    ("create-empty-index", {**IDX, **BIN, "output_fbc": "y"}, '"output_fbc" should be boolean'),
    (
        "create-empty-index",
        {**IDX, **BIN, "add_arches": ["x"]},
        'The "add_arches" arg is invalid for the create-empty-index endpoint.',
    ),
    (
        "fbc-operations",
        {**IDX, **BIN, "fbc_fragment": "f:1", "fbc_fragments": ["f:1"]},
        'Cannot provide both "fbc_fragment" and "fbc_fragments" parameters',
    ),
    ("fbc-operations", {**IDX, **BIN}, 'Either "fbc_fragment" or "fbc_fragments" must be provided'),
    ("fbc-operations", {**IDX, **BIN, "fbc_fragment": 1}, '"fbc_fragment" must be a string'),
    ("fbc-operations", {**IDX, **BIN, "fbc_fragments": []}, '"fbc_fragments" must be set'),
    (
        "fbc-operations",
        {**IDX, **BIN, "fbc_fragments": [""]},
        '"fbc_fragments" should be either an empty array or an array of non-empty strings',
    ),
    (
        "add-deprecations",
        {**IDX, **BIN, "deprecation_schema": "{}"},
        '"operator_package" should be a non-empty string',
    ),
    (
        "add-deprecations",
        {**IDX, **BIN, "operator_package": "p"},
        '"deprecation_schema" should be a non-empty string',
    ),
    (
        "add-deprecations",
        {**IDX, **BIN, "operator_package": "p", "deprecation_schema": "{"},
        '"deprecation_schema" string should be valid JSON',
    ),
    ("recursive-related-bundles", {"parent_bundle_image": 4}, '"parent_bundle_image" must be a string'),
    (
        "recursive-related-bundles",
        {"parent_bundle_image": "p:1", "x": 1},
        "The following parameters are invalid: x",
    ),
]


@pytest.mark.parametrize(("request_type", "payload", "message"), CASES)
def test_bad_payloads(request_type: str, payload: Any, message: str) -> None:
    ctx = Context(load_settings({}), authenticated=False)
    with pytest.raises(ValidationError) as caught:
        VALIDATORS[request_type](ctx, payload)
    assert caught.value.message == message


def test_empty_optionals_are_absent_and_scope_is_lowered() -> None:
    ctx = Context(load_settings({}), authenticated=False)
    new = VALIDATORS["add"](
        ctx, {**IDX, **BIN, "bundles": [], "organization": "", "distribution_scope": "PROD"}
    )
    assert new.fields["organization"] is None
    assert new.fields["distribution_scope"] == "prod"


def test_graph_update_mode_allow_list_is_403() -> None:
    settings = load_settings({}, IIB_GRAPH_MODE_INDEX_ALLOW_LIST=["reg/allowed"])
    ctx = Context(settings, authenticated=False)
    assert VALIDATORS["add"](ctx, {"from_index": "reg/allowed:1", **BIN, "graph_update_mode": "semver"})
    with pytest.raises(Forbidden) as caught:
        VALIDATORS["add"](ctx, {**IDX, **BIN, "graph_update_mode": "semver"})
    assert (
        caught.value.message
        == "\"graph_update_mode\" can only be used on the following index image: ['reg/allowed']"
    )


def test_batch_item_errors_name_the_index() -> None:
    ctx = Context(load_settings({}), authenticated=False)
    with pytest.raises(ValidationError) as caught:
        validate_add_rm_batch(
            ctx, {"build_requests": [{**IDX, **BIN, "operators": ["a"]}, {**IDX, "operators": ["a"]}]}
        )
    assert caught.value.message == (
        'The "binary_image" value must be a non-empty string. This occurred on the build request in index 1.'
    )
    with pytest.raises(ValidationError, match="annotations"):
        validate_add_rm_batch(
            ctx, {"build_requests": [{**IDX, **BIN, "operators": ["a"]}], "annotations": []}
        )
