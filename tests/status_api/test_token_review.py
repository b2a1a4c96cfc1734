"""ServiceAccount tokens checked with a Kubernetes TokenReview, by the real client against a loopback API."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from kubernetes import client as k8s

from status_api.auth import Authenticator, KubernetesTokenReviewer
from status_api.errors import Forbidden
from status_api.settings import load_settings

SA = "system:serviceaccount:iib:iib-pipeline"


@pytest.fixture
def kubernetes_api() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    reviews: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            assert self.path.startswith("/apis/authentication.k8s.io/v1/tokenreviews"), self.path
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            reviews.append(body)
            token = body["spec"]["token"]
            status = (
                {"authenticated": True, "user": {"username": SA, "groups": ["system:serviceaccounts"]}}
                if token == "sa-token"
                else {"authenticated": False, "error": "invalid bearer token"}
            )
            answer = json.dumps(
                {
                    "apiVersion": "authentication.k8s.io/v1",
                    "kind": "TokenReview",
                    "spec": body["spec"],
                    "status": status,
                }
            ).encode()
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", reviews
    server.shutdown()
    server.server_close()


def test_service_account_token_is_a_worker(kubernetes_api: tuple[str, list[dict[str, Any]]]) -> None:
    url, reviews = kubernetes_api
    configuration = k8s.Configuration()
    configuration.host = url
    reviewer = KubernetesTokenReviewer(k8s.ApiClient(configuration))
    settings = load_settings({}, IIB_WORKER_USERNAMES=[SA], IIB_API_TOKENS={"static": "someone"})
    auth = Authenticator(settings, reviewer)
    assert auth.require_worker({"authorization": "Bearer sa-token"}) == SA
    assert auth.identify({"authorization": "Bearer forged"}) is None
    assert auth.identify({"authorization": "Bearer static"}) == "someone"  # static tokens need no review
    assert [r["spec"]["token"] for r in reviews] == ["sa-token", "forged"]
    with pytest.raises(Forbidden):
        auth.require_worker({"authorization": "Bearer static"})
