"""IIB's AMQP 1.0 state messages through a real RabbitMQ (tests/fixtures/rabbitmq.py: Debian's
rabbitmq-server with its AMQP 1.0 plugin, our own node on loopback), read back by our consumer.

IIB's ActiveMQ-style destinations (``topic://VirtualTopic...``) mean nothing to RabbitMQ, so the
destinations here are durable queues the test declares first, as a consumer would, addressed as
``/amq/queue/<name>`` (see tests/fixtures/rabbitmq.py). Our sender sends to whatever address is set.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.fixtures.amqp_broker import consume
from tests.fixtures.rabbitmq import RabbitMQ, declare_queue, running_rabbitmq
from tests.status_api.conftest import user
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

pytestmark = pytest.mark.slow  # a RabbitMQ node takes 8-20 s to start on a busy 2-core machine

ALICE = "alice@EXAMPLE.COM"


class Queues:
    """A durable build queue and batch queue of one test's own; the destinations are their
    ``/amq/queue/...`` addresses, set once ``declare`` made the queues on a node."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:8]
        self.build = f"iib.build.state.{tag}"
        self.batch = f"iib.batch.state.{tag}"

    def declare(self, url: str, ssl_domain: Any = None) -> Queues:
        for name in (self.build, self.batch):
            declare_queue(url, name, ssl_domain)
        return self

    @property
    def build_address(self) -> str:
        return f"/amq/queue/{self.build}"

    @property
    def batch_address(self) -> str:
        return f"/amq/queue/{self.batch}"

    def settings(self, urls: list[str], **extra: Any) -> dict[str, Any]:
        return {
            "IIB_MESSAGING_URLS": urls,
            "IIB_MESSAGING_BUILD_STATE_DESTINATION": self.build_address,
            "IIB_MESSAGING_BATCH_STATE_DESTINATION": self.batch_address,
            "IIB_MESSAGING_TIMEOUT": 10,
            **extra,
        }


@pytest.fixture
def queues(rabbitmq: RabbitMQ) -> Queues:
    """Queues declared on the session's node."""
    return Queues().declare(rabbitmq.url)


def batch_body(batch_id: int, request_id: int, request_type: str, state: str) -> dict[str, Any]:
    return {
        "batch": batch_id,
        "annotations": None,
        "requests": [{"id": request_id, "organization": None, "request_type": request_type}],
        "state": state,
        "user": ALICE,
    }


def test_a_builds_states_reach_rabbitmq_as_iibs_messages_in_order(
    make_sqlite_client: Callable[..., TestClient], rabbitmq: RabbitMQ, queues: Queues
) -> None:
    client = make_sqlite_client(**queues.settings([rabbitmq.url]))
    created = client.post("/api/v1/builds/add", json=ADD, headers=user())
    assert created.status_code == 201, created.text
    request_id = created.json()["id"]
    expected = [listed(client, request_id)]
    patch(client, request_id, "in_progress", "Resolving the bundles")
    expected.append(listed(client, request_id))
    patch(client, request_id, "in_progress", "Resolving the bundles")  # the same state again: no message
    patch(client, request_id, "complete", "The operator bundle(s) were successfully added")
    expected.append(listed(client, request_id))
    drained(client)
    assert messenger(client).failures == 0

    builds = consume(rabbitmq.url, queues.build_address, 3)
    for message, want in zip(builds, expected, strict=True):
        properties = {"batch": want["batch"], "id": request_id, "state": want["state"], "user": ALICE}
        assert check_envelope(message, properties) == want
    assert [json.loads(m.body)["state_reason"] for m in builds] == [
        "The request was initiated",
        "Resolving the bundles",
        "The operator bundle(s) were successfully added",
    ]
    assert len({m.correlation_id for m in builds}) == 3
    batch_id = expected[0]["batch"]
    batches = consume(rabbitmq.url, queues.batch_address, 2)
    for message, state in zip(batches, ["in_progress", "complete"], strict=True):
        body = check_envelope(message, {"batch": batch_id, "state": state, "user": ALICE})
        assert body == batch_body(batch_id, request_id, "add", state)


def test_non_durable_messages_are_sent_as_such(
    make_sqlite_client: Callable[..., TestClient], rabbitmq: RabbitMQ, queues: Queues
) -> None:
    client = make_sqlite_client(**queues.settings([rabbitmq.url], IIB_MESSAGING_DURABLE=False))
    assert client.post("/api/v1/builds/rm", json=RM, headers=user()).status_code == 201
    drained(client)
    (message,) = consume(rabbitmq.url, queues.build_address, 1)
    assert message.durable is False
    assert message.properties["state"] == "in_progress"


def test_a_stopped_rabbitmq_loses_nothing_and_the_retry_delivers_after_its_restart(
    make_sqlite_client: Callable[..., TestClient], tmp_path: Path
) -> None:
    with running_rabbitmq(tmp_path / "rabbitmq") as node:
        queues = Queues().declare(node.url)
        client = make_sqlite_client(
            **queues.settings([node.url], IIB_MESSAGING_RETRIES=1000, IIB_MESSAGING_RETRY_DELAY=0.1)
        )
        created = client.post("/api/v1/builds/rm", json=RM, headers=user())
        assert created.status_code == 201, created.text
        request_id = created.json()["id"]
        drained(client)  # the first build and batch messages are in RabbitMQ (durable queues)
        assert messenger(client).sent == 2

        node.stop()
        patch(client, request_id, "in_progress", "Removing the operators")
        assert messenger(client).wait_for(lambda m: m.failures >= 1, WAIT), "no send failed"
        patch(client, request_id, "complete", "The operator(s) were successfully removed")
        history = client.get(f"/api/v1/builds/{request_id}").json()["state_history"]
        assert [h["state_reason"] for h in history] == [
            "The operator(s) were successfully removed",
            "Removing the operators",
            "The request was initiated",
        ]
        assert messenger(client).sent == 2  # nothing was delivered while the node was down

        node.start()  # same folder, ports and node name: the durable queues and their messages return
        drained(client)
        assert messenger(client).dropped == 0
        builds = consume(node.url, queues.build_address, 3)
        assert [(m.properties["state"], json.loads(m.body)["state_reason"]) for m in builds] == [
            ("in_progress", "The request was initiated"),
            ("in_progress", "Removing the operators"),
            ("complete", "The operator(s) were successfully removed"),
        ]
        assert json.loads(builds[-1].body) == listed(client, request_id)
        batches = consume(node.url, queues.batch_address, 2)
        batch_id = builds[0].properties["batch"]
        assert [json.loads(m.body) for m in batches] == [
            batch_body(batch_id, request_id, "rm", "in_progress"),
            batch_body(batch_id, request_id, "rm", "complete"),
        ]


def test_tls_with_a_client_certificate(make_sqlite_client: Callable[..., TestClient], tmp_path: Path) -> None:
    files = certificates(tmp_path)
    tls = (files["server.crt"], files["server.key"], files["ca.crt"])
    with running_rabbitmq(tmp_path / "rabbitmq", tls=tls) as node:
        queues = Queues().declare(node.tls_url, client_domain(files))
        client = make_sqlite_client(
            **queues.settings(
                [node.tls_url],
                IIB_MESSAGING_CERT=files["client.crt"],
                IIB_MESSAGING_KEY=files["client.key"],
                IIB_MESSAGING_CA=files["ca.crt"],
            )
        )
        assert client.post("/api/v1/builds/rm", json=RM, headers=user()).status_code == 201
        drained(client)
        assert (messenger(client).sent, messenger(client).failures) == (2, 0)

        # Without a client certificate RabbitMQ refuses the TLS handshake; the request still succeeds.
        refused = make_sqlite_client(
            **queues.settings(
                [node.tls_url],
                IIB_MESSAGING_CERT=str(tmp_path / "absent.crt"),
                IIB_MESSAGING_KEY=files["client.key"],
                IIB_MESSAGING_CA=files["ca.crt"],
                IIB_MESSAGING_RETRIES=1,
                IIB_MESSAGING_RETRY_DELAY=0.05,
            )
        )
        assert refused.post("/api/v1/builds/rm", json=RM, headers=user()).status_code == 201
        drained(refused)
        assert (messenger(refused).sent, messenger(refused).dropped) == (0, 2)

        builds = consume(node.tls_url, queues.build_address, 1, ssl_domain=client_domain(files))
        assert builds[0].properties["state"] == "in_progress"


def test_topic_addresses_reach_a_subscriber_bound_beforehand(
    make_sqlite_client: Callable[..., TestClient], rabbitmq: RabbitMQ
) -> None:
    """The nearest thing to IIB's ``topic://`` destinations: ``/topic/<key>`` publishes to RabbitMQ's
    ``amq.topic`` exchange, which delivers only to the queues bound at that moment (here the
    subscriber's own queue, made by its link); with no subscriber the message is dropped."""
    from proton.utils import BlockingConnection

    address = f"/topic/VirtualTopic.eng.iib.build.state.{uuid.uuid4().hex[:8]}"
    connection = BlockingConnection(rabbitmq.url, timeout=30)
    try:
        receiver = connection.create_receiver(address, credit=10)
        client = make_sqlite_client(
            IIB_MESSAGING_URLS=[rabbitmq.url],
            IIB_MESSAGING_BUILD_STATE_DESTINATION=address,
            IIB_MESSAGING_TIMEOUT=10,
        )
        created = client.post("/api/v1/builds/rm", json=RM, headers=user())
        assert created.status_code == 201, created.text
        request_id = created.json()["id"]
        patch(client, request_id, "failed", "broken")
        drained(client)
        assert (messenger(client).sent, messenger(client).failures) == (2, 0)
        messages = []
        for _ in range(2):
            messages.append(receiver.receive(timeout=WAIT))
            receiver.accept()
    finally:
        connection.close()
    assert [(m.properties["id"], m.properties["state"]) for m in messages] == [
        (request_id, "in_progress"),
        (request_id, "failed"),
    ]
    now = listed(client, request_id)
    properties = {"batch": now["batch"], "id": request_id, "state": "failed", "user": ALICE}
    assert check_envelope(messages[1], properties) == now
