"""Send AMQP 1.0 messages with qpid-proton: one connection per delivery, failover across URLs, TLS.

Only ``status_api.messaging`` uses this. Everything here blocks (up to the timeout per operation), so
it runs on the messenger's background thread, never on a request. proton is imported on first use:
with messaging off (the default) the API never loads it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Envelope:
    """One message and where it goes. ``body`` is the JSON text; ``correlation_id`` is fixed at creation,
    so that a message retried after a lost connection keeps its identity."""

    address: str
    body: str
    properties: dict[str, Any]
    correlation_id: str
    durable: bool = True


@dataclass(frozen=True)
class TlsFiles:
    """The client certificate, its key and the CA that signed the broker's certificate."""

    cert: str
    key: str
    ca: str

    def domain(self) -> Any:
        from proton import SSLDomain

        domain = SSLDomain(SSLDomain.MODE_CLIENT)
        domain.set_credentials(self.cert, self.key, None)
        domain.set_trusted_ca_db(self.ca)
        domain.set_peer_authentication(SSLDomain.VERIFY_PEER)
        return domain


def tls_files(cert: str | None, key: str | None, ca: str | None) -> TlsFiles | None:
    """The TLS files when all three are set and exist (as IIB decides), else None."""
    if cert and key and ca and all(os.path.exists(p) for p in (cert, key, ca)):
        return TlsFiles(cert, key, ca)
    return None


def to_message(envelope: Envelope) -> Any:
    from proton import Message

    message = Message(body=envelope.body, properties=dict(envelope.properties))
    message.correlation_id = envelope.correlation_id
    message.content_type = "application/json"
    message.durable = envelope.durable
    return message


@dataclass
class AmqpSender:
    """Delivers envelopes in order over one connection, trying ``urls`` in turn until one opens."""

    urls: Sequence[str]
    timeout: float = 30.0
    tls: TlsFiles | None = None
    connect: Callable[..., Any] | None = field(default=None, repr=False)

    def _open(self) -> Any:
        if self.connect is None:
            from proton.utils import BlockingConnection

            self.connect = BlockingConnection
        errors = []
        for url in self.urls:
            try:
                return self.connect(
                    url,
                    timeout=self.timeout,
                    ssl_domain=self.tls.domain() if self.tls else None,
                    reconnect=False,
                )
            except Exception as exc:
                errors.append(f"{url}: {exc}")
                log.warning("Could not connect to the message broker %s: %s", url, exc)
        raise ConnectionError("no message broker could be reached (" + "; ".join(errors) + ")")

    def send(self, envelopes: Sequence[Envelope], on_sent: Callable[[Envelope], None]) -> None:
        """Send every envelope, each settled by the broker before the next; ``on_sent`` after each.

        Raises on the first failure; the envelopes already reported through ``on_sent`` were delivered.
        """
        connection = self._open()
        try:
            log.info("Connected to the message broker %s", connection.url)
            senders: dict[str, Any] = {}
            for envelope in envelopes:
                if envelope.address not in senders:
                    senders[envelope.address] = connection.create_sender(envelope.address)
                log.info(
                    "Sending message %s (correlation-id) to %s", envelope.correlation_id, envelope.address
                )
                senders[envelope.address].send(to_message(envelope), timeout=self.timeout)
                on_sent(envelope)
        finally:
            try:
                connection.close()
            except Exception:  # the connection may already be gone
                log.debug("Closing the broker connection failed", exc_info=True)
