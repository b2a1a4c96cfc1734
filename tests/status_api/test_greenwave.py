"""IIB_GREENWAVE_CONFIG: checked as IIB checks it, and handed to the executor with add requests only."""

from __future__ import annotations

import json
from typing import Any

import pytest

from status_api.executors import RecordingExecutor
from status_api.executors.params import RunSettings, pipeline_params
from status_api.settings import SettingsError, load_settings
from tests.status_api.conftest import user

CONFIG = {
    "decision_context": "iib_cvp_redhat_operator",
    "product_version": "cvp",
    "subject_type": "koji_build",
}
ADD = {
    "from_index": "registry.example.com/index:v4.17",
    "bundles": ["quay.io/ns/etcd-bundle:0.9.4"],
    "binary_image": "registry.example.com/opm:v4.17",
}
RM = {**{k: v for k, v in ADD.items() if k != "bundles"}, "operators": ["etcd"]}


def test_the_default_queue_config_reaches_the_executor_with_add_requests(make_client: Any) -> None:
    executor = RecordingExecutor()
    client = make_client(executor, IIB_GREENWAVE_CONFIG={None: CONFIG})
    assert client.post("/api/v1/builds/add", json=ADD, headers=user()).status_code == 201
    assert client.post("/api/v1/builds/rm", json=RM, headers=user()).status_code == 201
    add, rm = executor.submissions
    assert add.params["greenwave_config"] == CONFIG
    assert "greenwave_config" not in rm.params


def test_the_config_follows_the_users_queue_and_reaches_the_pipeline(make_client: Any) -> None:
    executor = RecordingExecutor()
    client = make_client(
        executor,
        IIB_USER_TO_QUEUE={"alice@EXAMPLE.COM": "gated", "SERIAL:alice@EXAMPLE.COM": "serial"},
        IIB_GREENWAVE_CONFIG={"gated": CONFIG},
    )
    assert client.post("/api/v1/builds/add", json=ADD, headers=user()).status_code == 201
    assert client.post("/api/v1/builds/add", json=ADD, headers=user("bob@EXAMPLE.COM")).status_code == 201
    alice, bob = executor.submissions
    assert alice.params["greenwave_config"] == CONFIG
    assert "greenwave_config" not in bob.params  # the default queue has no config
    params = pipeline_params(alice, RunSettings())
    assert json.loads(params["greenwave-config"]) == CONFIG  # what iib-step add --greenwave-config reads
    assert "greenwave-config" not in pipeline_params(bob, RunSettings())


def test_no_gating_by_default(make_client: Any) -> None:
    executor = RecordingExecutor()
    client = make_client(executor)
    assert client.post("/api/v1/builds/add", json=ADD, headers=user()).status_code == 201
    assert "greenwave_config" not in executor.submissions[0].params


def test_settings_from_the_environment_use_the_empty_key_for_the_default_queue() -> None:
    settings = load_settings({"IIB_GREENWAVE_CONFIG": '{"": ' + str(CONFIG).replace("'", '"') + "}"})
    assert settings.IIB_GREENWAVE_CONFIG == {"": CONFIG}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"patriots": CONFIG, None: CONFIG},
            'The following queues are invalid in "IIB_GREENWAVE_CONFIG": patriots',
        ),
        (
            {None: {"subject_type": "koji_build", "product_version": "pv"}},
            'Missing required params decision_context for queue None in "IIB_GREENWAVE_CONFIG"',
        ),
        (
            {None: {**CONFIG, "subject_type": "compose"}},
            'IIB only supports gating for subject_type "koji_build". Invalid subject_type compose defined'
            ' for queue None in "IIB_GREENWAVE_CONFIG"',
        ),
    ],
)
def test_iibs_config_checks(config: dict[Any, Any], message: str) -> None:
    with pytest.raises(SettingsError) as failure:
        load_settings({}, IIB_GREENWAVE_CONFIG=config)
    assert str(failure.value) == message
