"""IIB's queue routing (IIB_USER_TO_QUEUE) and the namespace/service account of a queue."""

from __future__ import annotations

from typing import Any

import pytest

from status_api.executors.base import Submission
from status_api.executors.routing import Placement, check_user_to_queue, placement, user_queue
from status_api.settings import SettingsError, load_settings

ROUTES = {
    "SERIAL:alice": "serial-alice",
    "PARALLEL:alice": {"quay.io/i/index:v4.17": "alice-417", "all": "alice-any"},
    "bob": "bob-queue",
}


def sub(user: str | None, overwrite: bool, from_index: str = "quay.io/i/index:v4.17") -> Submission:
    params: dict[str, Any] = {"from_index": from_index, "overwrite_from_index": overwrite}
    return Submission(1, "add", params, user=user)


@pytest.mark.parametrize(
    ("submission", "queue"),
    [
        (sub("alice", True), "serial-alice"),
        (sub("alice", False), "alice-417"),
        (sub("alice", False, "quay.io/i/other:1"), "alice-any"),
        (sub("bob", True), "bob-queue"),  # no SERIAL:bob: falls back to the user's own entry
        (sub("carol", False), None),
        (sub(None, True), None),  # login disabled: the default queue
    ],
)
def test_user_queue_follows_iib(submission: Submission, queue: str | None) -> None:
    assert user_queue(ROUTES, submission) == queue


def test_merge_routes_on_target_index() -> None:
    merge = Submission(
        1,
        "merge-index-image",
        {"target_index": "quay.io/i/index:v4.17", "overwrite_target_index": False},
        user="alice",
    )
    assert user_queue(ROUTES, merge) == "alice-417"


def test_placement() -> None:
    queues = {"serial-alice": {"namespace": "iib-serial", "service_account": "iib-overwriter"}}
    assert placement(None, queues, "iib", "iib-pipeline") == Placement("iib", "iib-pipeline")
    assert placement("serial-alice", queues, "iib", "iib-pipeline") == Placement(
        "iib-serial", "iib-overwriter"
    )
    assert placement("bob-queue", queues, "iib", "iib-pipeline") == Placement("bob-queue", "iib-pipeline")


def test_malformed_routing_is_a_settings_error() -> None:
    assert check_user_to_queue(ROUTES) is None
    assert check_user_to_queue({"alice": {"x": "y"}}) == "IIB_USER_TO_QUEUE['alice'] must have an \"all\" key"
    with pytest.raises(SettingsError, match='must have an "all" key'):
        load_settings({"IIB_USER_TO_QUEUE": '{"alice": {"x": "y"}}'})
    with pytest.raises(SettingsError, match="IIB_EXECUTOR must be local, kubernetes or none"):
        load_settings({"IIB_EXECUTOR": "celery"})
    with pytest.raises(SettingsError, match="IIB_PIPELINE_BUNDLE"):
        load_settings({"IIB_EXECUTOR": "kubernetes", "IIB_PIPELINE_RESOLVER": "bundles"})
