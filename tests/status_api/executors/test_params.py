"""The one request → PipelineRun mapping, from requests as the API validates them."""

from __future__ import annotations

from typing import Any

import pytest

from status_api.executors.base import Submission
from status_api.executors.params import (
    REQUEST_PARAMS,
    RunSettings,
    local_status_url,
    pipeline_params,
    run_annotations,
    run_labels,
    run_name,
    secret_files,
    serial_key,
)
from status_api.settings import load_settings
from status_api.validation import VALIDATORS, Context

BINARY = "registry.example.com/opm:v4.17"
TRACE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
PAYLOADS: dict[str, dict[str, Any]] = {
    "add": {
        "from_index": "registry.example.com/index:v4.17",
        "bundles": ["quay.io/ns/etcd-bundle:0.9.4", "quay.io/ns/etcd-bundle:0.9.4"],
        "binary_image": BINARY,
        "add_arches": ["s390x"],
        "overwrite_from_index": True,
        "overwrite_from_index_token": "alice:hunter2",
        "graph_update_mode": "semver",
    },
    "rm": {"from_index": "registry.example.com/index:v4.17", "operators": ["etcd"], "binary_image": BINARY},
    "fbc-operations": {
        "from_index": "r.example.com/i:1",
        "fbc_fragment": "r.example.com/f:1",
        "binary_image": BINARY,
    },
    "create-empty-index": {"from_index": "r.example.com/i:1", "labels": {"a": "b"}, "binary_image": BINARY},
    "add-deprecations": {
        "from_index": "r.example.com/i:1",
        "operator_package": "etcd",
        "deprecation_schema": '{"schema": "olm.deprecations", "package": "etcd", "entries": []}',
        "binary_image": BINARY,
    },
    "regenerate-bundle": {
        "from_bundle_image": "quay.io/ns/b:1",
        "bundle_replacements": {"quay.io/ns/b:1": "quay.io/ns/b:2"},
        "registry_auths": {"auths": {"quay.io": {"auth": "aHVudGVyNA=="}}},
    },
    "recursive-related-bundles": {"parent_bundle_image": "quay.io/ns/b:1", "organization": "acme"},
    "merge-index-image": {
        "source_from_index": "r.example.com/i:1",
        "target_index": "r.example.com/i:2",
        "overwrite_target_index": True,
        "overwrite_target_index_token": "bob:pw",
        "binary_image": BINARY,
    },
}


def submission(request_type: str, request_id: int = 7, user: str | None = "alice@EXAMPLE.COM") -> Submission:
    settings = load_settings({}, IIB_GRAPH_MODE_INDEX_ALLOW_LIST=["registry.example.com/index:v4.17"])
    new = VALIDATORS[request_type](Context(settings, authenticated=True), PAYLOADS[request_type])
    return Submission(request_id, request_type, new.params, new.secrets, user)


def test_add_maps_to_the_step_options_in_kebab_case() -> None:
    params = pipeline_params(
        submission("add"), RunSettings(status_api_url="http://api/api/v1", step_image="quay.io/iib/step:1")
    )
    assert params == {
        "request-id": "7",
        "from-index": "registry.example.com/index:v4.17",
        "binary-image": BINARY,
        "add-arches": ["s390x"],
        "build-tags": [],
        "overwrite-from-index": "true",
        "bundles": ["quay.io/ns/etcd-bundle:0.9.4"],  # de-duplicated by validation
        "deprecation-list": [],
        "graph-update-mode": "semver",
        "check-related-images": "false",
        "status-api-url": "http://api/api/v1",
        "step-image": "quay.io/iib/step:1",
    }


@pytest.mark.parametrize("request_type", sorted(PAYLOADS))
def test_every_type_gives_tekton_values_and_no_secret(request_type: str) -> None:
    sub = submission(request_type)
    params = pipeline_params(sub, RunSettings())
    assert set(params) - {"request-id"} <= {name.replace("_", "-") for name in REQUEST_PARAMS[request_type]}
    for value in params.values():
        assert isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
    text = repr(params)
    for secret in ("hunter2", "bob:pw", "aHVudGVyNA=="):
        assert secret not in text


def test_mappings_are_json_text_and_unset_values_are_left_out() -> None:
    params = pipeline_params(submission("create-empty-index"), RunSettings())
    assert params["labels"] == '{"a":"b"}'
    assert "distribution-scope" not in params  # unset: the Pipeline's default
    regen = pipeline_params(submission("regenerate-bundle"), RunSettings())
    assert regen["bundle-replacements"] == '{"quay.io/ns/b:1":"quay.io/ns/b:2"}'
    assert "organization" not in regen


def test_secrets_become_files_of_their_own_workspaces() -> None:
    assert secret_files(submission("add")) == {"overwrite-from-index-token": {"token": "alice:hunter2"}}
    assert secret_files(submission("merge-index-image")) == {
        "overwrite-target-index-token": {"token": "bob:pw"}
    }
    regen = secret_files(submission("regenerate-bundle"))
    assert regen == {"registry-auths": {"config.json": '{"auths": {"quay.io": {"auth": "aHVudGVyNA=="}}}'}}
    assert secret_files(submission("rm")) == {}


def test_labels_name_and_serial_key() -> None:
    sub = submission("add")
    assert run_labels(sub) == {
        "app.kubernetes.io/part-of": "iib",
        "iib.redhat.com/request-id": "7",
        "iib.redhat.com/request-type": "add",
    }
    assert run_name("iib", sub) == "iib-add-7"
    assert serial_key(sub) == "registry.example.com/index:v4.17"  # it overwrites its from_index
    assert serial_key(submission("rm")) is None
    assert serial_key(submission("merge-index-image")) == "r.example.com/i:2"


def test_unknown_type_is_refused() -> None:
    with pytest.raises(ValueError, match="no Pipeline builds requests of type generic"):
        pipeline_params(Submission(1, "generic", {}), RunSettings())


def test_the_trace_context_rides_along() -> None:
    sub = submission("rm")
    traced = Submission(sub.request_id, "rm", {**sub.params, "traceparent": TRACE}, user=sub.user)
    assert pipeline_params(traced, RunSettings())["traceparent"] == TRACE
    assert run_annotations(traced) == {
        "iib.redhat.com/user": "alice@EXAMPLE.COM",
        "iib.tekton.dev/traceparent": TRACE,
    }
    assert "traceparent" not in pipeline_params(sub, RunSettings())
    assert run_annotations(Submission(1, "rm", {})) == {}


def test_local_status_url() -> None:
    assert local_status_url("0.0.0.0", 8080) == "http://127.0.0.1:8080/api/v1"
    assert local_status_url("127.0.0.1", 9) == "http://127.0.0.1:9/api/v1"
    assert local_status_url("::1", 9) == "http://[::1]:9/api/v1"


def test_the_greenwave_config_of_a_gated_add_is_json_text() -> None:
    sub = submission("add")
    config = {"decision_context": "c", "product_version": "p", "subject_type": "koji_build"}
    gated = Submission(sub.request_id, "add", {**sub.params, "greenwave_config": config})
    assert pipeline_params(gated, RunSettings())["greenwave-config"] == (
        '{"decision_context":"c","product_version":"p","subject_type":"koji_build"}'
    )
    assert "greenwave-config" not in pipeline_params(sub, RunSettings())
