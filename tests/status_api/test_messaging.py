"""IIB's AMQP 1.0 state messages, read back from a real AMQP broker on loopback (tests/fixtures/amqp_broker).

Each test uses its own destinations, so the session's one broker serves them all.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from status_api.app import create_app
from status_api.executors import RecordingExecutor
from tests.fixtures.amqp_broker import Broker, consume
from tests.fixtures.postgres import free_port
from tests.status_api import samples
from tests.status_api.conftest import base_settings, user, worker
from tests.status_api.messaging_helpers import (
    ADD,
    RM,
    WAIT,
    certificates,
    check_envelope,
    client_domain,
    drained,
    listed,
    messenger,
    patch,
)


class Destinations:
    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:8]
        self.build = f"topic://VirtualTopic.eng.iib.build.state.{tag}"
        self.batch = f"topic://VirtualTopic.eng.iib.batch.state.{tag}"

    def settings(self, urls: list[str], **extra: Any) -> dict[str, Any]:
        return {
            "IIB_MESSAGING_URLS": urls,
            "IIB_MESSAGING_BUILD_STATE_DESTINATION": self.build,
            "IIB_MESSAGING_BATCH_STATE_DESTINATION": self.batch,
            "IIB_MESSAGING_TIMEOUT": 10,
            **extra,
        }


@pytest.fixture
def dest() -> Destinations:
    return Destinations()


@pytest.mark.parametrize("db_backend", ["sqlite", "postgresql"])
def test_add_request_lifecycle_sends_iibs_messages_in_order(
    db_backend: str, request: pytest.FixtureRequest, amqp_broker: Broker, dest: Destinations, tmp_path: Path
) -> None:
    from status_api.db import upgrade

    if db_backend == "sqlite":
        url = f"sqlite:///{tmp_path}/iib.db"
    else:
        url = request.getfixturevalue("postgres_server").new_database("msg")
    upgrade(url)
    app = create_app(base_settings(url, **dest.settings([amqp_broker.url])), executor=RecordingExecutor())
    with TestClient(app, base_url="http://iib.example.com") as client:
        created = client.post("/api/v1/builds/add", json=ADD, headers=user())
        assert created.status_code == 201, created.text
        request_id = created.json()["id"]
        expected = [listed(client, request_id)]
        patch(client, request_id, "in_progress", "Resolving the bundles")
        expected.append(listed(client, request_id))
        patch(client, request_id, "in_progress", "Resolving the bundles")  # repeated: no new state
        patch(client, request_id, "complete", "The operator bundle(s) were successfully added")
        expected.append(listed(client, request_id))
        drained(client)

    builds = consume(amqp_broker.url, dest.build, 3)
    for message, want in zip(builds, expected, strict=True):
        props = {
            "batch": want["batch"],
            "id": request_id,
            "state": want["state"],
            "user": "alice@EXAMPLE.COM",
        }
        assert check_envelope(message, props) == want
    assert [json.loads(m.body)["state_reason"] for m in builds] == [
        "The request was initiated",
        "Resolving the bundles",
        "The operator bundle(s) were successfully added",
    ]
    batch_id = expected[0]["batch"]
    batches = consume(amqp_broker.url, dest.batch, 2)
    for message, state in zip(batches, ["in_progress", "complete"], strict=True):
        body = check_envelope(message, {"batch": batch_id, "state": state, "user": "alice@EXAMPLE.COM"})
        assert body == {
            "batch": batch_id,
            "annotations": None,
            "requests": [{"id": request_id, "organization": None, "request_type": "add"}],
            "state": state,
            "user": "alice@EXAMPLE.COM",
        }


def test_batch_messages_follow_the_derived_batch_state(
    make_sqlite_client: Callable[..., TestClient], amqp_broker: Broker, dest: Destinations
) -> None:
    client = make_sqlite_client(**dest.settings([amqp_broker.url]))
    body = {
        "build_requests": [{**ADD, "organization": "acme"}, RM],
        "annotations": {"release": "RHBA-2026:1"},
    }
    created = client.post("/api/v1/builds/add-rm-batch", json=body, headers=user("bob@EXAMPLE.COM"))
    assert created.status_code == 201, created.text
    first, second = (item["id"] for item in created.json())
    patch(client, first, "complete", "done")  # the batch is still in progress: no batch message
    patch(client, second, "failed", "broken")  # now the batch is failed
    drained(client)

    builds = consume(amqp_broker.url, dest.build, 4)
    assert [(m.properties["id"], m.properties["state"]) for m in builds] == [
        (first, "in_progress"),
        (second, "in_progress"),
        (first, "complete"),
        (second, "failed"),
    ]
    batch_id = builds[0].properties["batch"]
    batches = consume(amqp_broker.url, dest.batch, 2)
    content = {
        "batch": batch_id,
        "annotations": {"release": "RHBA-2026:1"},
        "requests": [
            {"id": first, "organization": "acme", "request_type": "add"},
            {"id": second, "organization": None, "request_type": "rm"},
        ],
        "user": "bob@EXAMPLE.COM",
    }
    assert json.loads(batches[0].body) == {**content, "state": "in_progress"}
    assert json.loads(batches[1].body) == {**content, "state": "failed"}
    assert batches[1].properties == {"batch": batch_id, "state": "failed", "user": "bob@EXAMPLE.COM"}


class BrokenExecutor:
    def submit(self, submission: Any) -> None:
        raise RuntimeError("no cluster")


def test_scheduling_failure_is_announced(
    make_sqlite_client: Callable[..., TestClient], amqp_broker: Broker, dest: Destinations
) -> None:
    client = make_sqlite_client(BrokenExecutor(), **dest.settings([amqp_broker.url]))
    response = client.post("/api/v1/builds/rm", json=RM, headers=user())
    assert response.status_code == 500
    drained(client)
    builds = consume(amqp_broker.url, dest.build, 2)
    assert [json.loads(m.body)["state_reason"] for m in builds] == [
        "The request was initiated",
        "The scheduling of the request failed",
    ]
    assert [m.properties["state"] for m in consume(amqp_broker.url, dest.batch, 2)] == [
        "in_progress",
        "failed",
    ]


def test_pipelinerun_first_seen_finished_is_announced_from_its_first_state(
    make_sqlite_client: Callable[..., TestClient], amqp_broker: Broker, dest: Destinations
) -> None:
    client = make_sqlite_client(**dest.settings([amqp_broker.url]))
    response = client.post(
        "/api/v1/pipelineruns", json=samples.succeeded(results=samples.ADD_RESULTS), headers=worker()
    )
    assert response.status_code == 201, response.text
    drained(client)
    builds = consume(amqp_broker.url, dest.build, 2)
    assert [(m.properties["state"], json.loads(m.body)["state"]) for m in builds] == [
        ("in_progress", "in_progress"),
        ("complete", "complete"),
    ]
    assert json.loads(builds[0].body)["state_reason"] == "The request was initiated"
    assert json.loads(builds[1].body) == listed(client, response.json()["id"])
    assert [m.properties["state"] for m in consume(amqp_broker.url, dest.batch, 2)] == [
        "in_progress",
        "complete",
    ]


def test_failover_to_the_next_url(
    make_sqlite_client: Callable[..., TestClient], amqp_broker: Broker, dest: Destinations
) -> None:
    dead = f"amqp://127.0.0.1:{free_port()}"
    client = make_sqlite_client(**dest.settings([dead, amqp_broker.url], IIB_MESSAGING_DURABLE=False))
    assert client.post("/api/v1/builds/rm", json=RM, headers=user()).status_code == 201
    drained(client)
    assert messenger(client).failures == 0
    (message,) = consume(amqp_broker.url, dest.build, 1)
    assert message.properties["state"] == "in_progress"
    assert message.durable is False


def test_broker_down_never_fails_a_request_and_gives_up_after_the_retries(
    make_sqlite_client: Callable[..., TestClient], dest: Destinations
) -> None:
    dead = f"amqp://127.0.0.1:{free_port()}"
    client = make_sqlite_client(
        **dest.settings([dead], IIB_MESSAGING_RETRIES=2, IIB_MESSAGING_RETRY_DELAY=0.05)
    )
    created = client.post("/api/v1/builds/add", json=ADD, headers=user())
    assert created.status_code == 201, created.text
    request_id = created.json()["id"]
    sender = messenger(client)
    drained(client)
    assert (sender.sent, sender.dropped, sender.failures) == (0, 2, 3)  # build + batch; 1 try + 2 retries
    patch(client, request_id, "complete", "done")
    drained(client)
    assert (sender.sent, sender.dropped, sender.failures) == (0, 4, 6)
    history = client.get(f"/api/v1/builds/{request_id}").json()["state_history"]
    assert [h["state"] for h in history] == ["complete", "in_progress"]


def test_messages_queued_while_the_broker_is_down_are_sent_when_it_returns(
    make_sqlite_client: Callable[..., TestClient], dest: Destinations
) -> None:
    broker = Broker(free_port())
    client = make_sqlite_client(
        **dest.settings([broker.url], IIB_MESSAGING_RETRIES=1000, IIB_MESSAGING_RETRY_DELAY=0.05)
    )
    created = client.post("/api/v1/builds/rm", json=RM, headers=user())
    assert created.status_code == 201
    request_id = created.json()["id"]
    assert messenger(client).wait_for(lambda m: m.failures >= 1, WAIT)
    patch(client, request_id, "failed", "broken")
    broker.start()
    try:
        drained(client)
        assert messenger(client).dropped == 0
        states = [m.properties["state"] for m in consume(broker.url, dest.build, 2)]
        assert states == ["in_progress", "failed"]
        assert [m.properties["state"] for m in consume(broker.url, dest.batch, 2)] == [
            "in_progress",
            "failed",
        ]
    finally:
        broker.stop()


def test_tls_with_a_client_certificate(
    make_sqlite_client: Callable[..., TestClient], dest: Destinations, tmp_path: Path
) -> None:
    files = certificates(tmp_path)
    broker = Broker(free_port(), tls=(files["server.crt"], files["server.key"], files["ca.crt"]))
    broker.start()
    try:
        client = make_sqlite_client(
            **dest.settings(
                [broker.url],
                IIB_MESSAGING_CERT=files["client.crt"],
                IIB_MESSAGING_KEY=files["client.key"],
                IIB_MESSAGING_CA=files["ca.crt"],
            )
        )
        assert client.post("/api/v1/builds/rm", json=RM, headers=user()).status_code == 201
        drained(client)
        assert messenger(client).failures == 0
        messages = consume(broker.url, dest.build, 1, ssl_domain=client_domain(files))
        assert messages[0].properties["state"] == "in_progress"
    finally:
        broker.stop()


def test_off_by_default(make_sqlite_client: Callable[..., TestClient]) -> None:
    client = make_sqlite_client()
    assert client.post("/api/v1/builds/rm", json=RM, headers=user()).status_code == 201
    assert messenger(client).enabled is False
    assert messenger(client).sent == 0


class OneListing:
    """A watch source that lists the given PipelineRuns once and then has no events."""

    def __init__(self, runs: list[dict[str, Any]]) -> None:
        self.runs = runs

    def list(self) -> tuple[list[dict[str, Any]], str]:
        return self.runs, "100"

    def watch(self, resource_version: str) -> Any:
        return iter(())


def test_the_watcher_announces_what_it_records(
    sqlite_url: str, amqp_broker: Broker, dest: Destinations
) -> None:
    from status_api.db import connect
    from status_api.messaging import Messenger
    from status_api.watcher import PipelineRunWatcher

    settings = base_settings(
        sqlite_url, IIB_PUBLIC_URL="https://iib.example.com/", **dest.settings([amqp_broker.url])
    )
    db = connect(sqlite_url)
    sender = Messenger(settings, db)
    run = samples.failed(uid="uid-rrb", request_type="recursive-related-bundles", params=[
        {"name": "parent_bundle_image", "value": "quay.io/ns/parent-bundle:1"}])  # fmt: skip
    PipelineRunWatcher(db, OneListing([run]), on_recorded=sender.on_recorded).run(max_cycles=1)
    assert sender.wait_idle(WAIT)
    sender.close()
    db.dispose()
    builds = consume(amqp_broker.url, dest.build, 2)
    assert [m.properties["state"] for m in builds] == ["in_progress", "failed"]
    body = json.loads(builds[1].body)
    assert (
        body["nested_bundles"]["url"] == f"https://iib.example.com/api/v1/builds/{body['id']}/nested-bundles"
    )
    assert [m.properties["state"] for m in consume(amqp_broker.url, dest.batch, 2)] == [
        "in_progress",
        "failed",
    ]


def test_tls_without_a_client_certificate_is_refused_and_the_request_still_succeeds(
    make_sqlite_client: Callable[..., TestClient], dest: Destinations, tmp_path: Path
) -> None:
    files = certificates(tmp_path)
    broker = Broker(free_port(), tls=(files["server.crt"], files["server.key"], files["ca.crt"]))
    broker.start()
    try:
        client = make_sqlite_client(
            **dest.settings(
                [broker.url],
                IIB_MESSAGING_CERT=str(tmp_path / "absent.crt"),
                IIB_MESSAGING_KEY=files["client.key"],
                IIB_MESSAGING_CA=files["ca.crt"],
                IIB_MESSAGING_RETRIES=1,
                IIB_MESSAGING_RETRY_DELAY=0.05,
            )
        )
        created = client.post("/api/v1/builds/rm", json=RM, headers=user())
        assert created.status_code == 201
        drained(client)
        assert (messenger(client).sent, messenger(client).failures, messenger(client).dropped) == (0, 2, 2)
        assert client.get(f"/api/v1/builds/{created.json()['id']}").json()["state"] == "in_progress"
    finally:
        broker.stop()


def test_a_broker_that_never_answers_times_out_and_the_next_url_is_used(
    make_sqlite_client: Callable[..., TestClient], amqp_broker: Broker, dest: Destinations
) -> None:
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts TCP connections (the kernel's backlog) and never speaks AMQP
    try:
        hanging = f"amqp://127.0.0.1:{silent.getsockname()[1]}"
        client = make_sqlite_client(**dest.settings([hanging, amqp_broker.url], IIB_MESSAGING_TIMEOUT=1))
        assert client.post("/api/v1/builds/rm", json=RM, headers=user()).status_code == 201
        drained(client)
        assert (messenger(client).sent, messenger(client).failures) == (2, 0)
        assert [m.properties["state"] for m in consume(amqp_broker.url, dest.build, 1)] == ["in_progress"]
    finally:
        silent.close()
