"""What the AMQP messaging tests share (tests/status_api/test_messaging.py against our loopback broker,
test_messaging_rabbitmq.py against RabbitMQ): request bodies, waiting for the background sender,
reading a request back, PATCHing its state, checking a message's envelope, and TLS material."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

from litestar.testing import TestClient
from proton import SSLDomain

from tests.status_api.conftest import worker

ADD = {
    "from_index": "registry.example.com/index:v4.17",
    "bundles": ["quay.io/ns/etcd-bundle:0.9.4"],
    "binary_image": "registry.example.com/opm:v4.17",
}
RM = {
    "from_index": "registry.example.com/index:v4.17",
    "operators": ["etcd"],
    "binary_image": "registry.example.com/opm:v4.17",
}
WAIT = 60  # seconds a background send may take at most on a loaded machine; never asserted on


def messenger(client: TestClient) -> Any:
    """The app's :class:`status_api.messaging.Messenger`."""
    return client.app.state.ctx.messenger


def drained(client: TestClient) -> None:
    """Wait until the app's sender has sent (or given up on) every queued message."""
    assert messenger(client).wait_idle(WAIT), "the messages were not sent"


def listed(client: TestClient, request_id: int) -> dict[str, Any]:
    """The request's non-verbose JSON, as ``GET /builds`` shows it."""
    items = client.get("/api/v1/builds", params={"per_page": 20}).json()["items"]
    return next(item for item in items if item["id"] == request_id)


def patch(client: TestClient, request_id: int, state: str, reason: str) -> None:
    """PATCH the request's state as the worker."""
    response = client.patch(
        f"/api/v1/builds/{request_id}", json={"state": state, "state_reason": reason}, headers=worker()
    )
    assert response.status_code == 200, response.text


def check_envelope(message: Any, properties: dict[str, Any]) -> dict[str, Any]:
    """Check the message's AMQP envelope is IIB's, with these application properties; its JSON body."""
    assert message.content_type == "application/json"
    assert message.durable is True
    assert str(uuid.UUID(message.correlation_id)) == message.correlation_id
    assert message.properties == properties
    assert isinstance(message.body, str)
    return json.loads(message.body)


def certificates(folder: Path) -> dict[str, str]:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl."""

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=folder)

    run(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca",
        "-keyout", "ca.key", "-out", "ca.crt",
    )  # fmt: skip
    (folder / "san.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name in ("server", "client"):
        run("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout", f"{name}.key",
            "-out", f"{name}.csr")  # fmt: skip
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "2", "-extfile", "san.cnf", "-out", f"{name}.crt")  # fmt: skip
    return {n: str(folder / n) for n in ("ca.crt", "server.crt", "server.key", "client.crt", "client.key")}


def client_domain(files: dict[str, str]) -> SSLDomain:
    """A consumer's TLS settings: the client certificate of :func:`certificates`, the server verified."""
    domain = SSLDomain(SSLDomain.MODE_CLIENT)
    domain.set_credentials(files["client.crt"], files["client.key"], None)
    domain.set_trusted_ca_db(files["ca.crt"])
    domain.set_peer_authentication(SSLDomain.VERIFY_PEER)
    return domain
