"""Reporter PATCHes a real HTTP server on loopback: IIB's contract, retries on 5xx only."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from iib_steps.config import Secret
from iib_steps.errors import StepError
from iib_steps.report import Reporter


class StatusServer:
    """A tiny status API: records PATCHes, answers from a queue of (status, body) then 200."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict, str | None]] = []
        self.answers: list[tuple[int, dict]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_PATCH(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.calls.append((self.path, body, self.headers.get("Authorization")))
                status, answer = server.answers.pop(0) if server.answers else (200, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/api/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    srv = StatusServer()
    yield srv
    srv.close()


def test_progress_and_final_state(server):
    reporter = Reporter(server.url, 12, token=Secret("tok"), delay=0)
    reporter.progress("Resolving the container images")
    reporter.update(arches=["amd64"], index_image="reg/iib-build:12", binary_image=None)
    reporter.complete("The operator bundle(s) were successfully added to the index image")
    paths = [c[0] for c in server.calls]
    assert paths == ["/api/v1/builds/12"] * 3
    assert server.calls[0][1] == {"state": "in_progress", "state_reason": "Resolving the container images"}
    assert server.calls[1][1] == {"arches": ["amd64"], "index_image": "reg/iib-build:12"}  # None is dropped
    assert server.calls[2][1]["state"] == "complete"
    assert server.calls[0][2] == "Bearer tok"


def test_retries_5xx_then_succeeds(server):
    server.answers = [(503, {"error": "busy"}), (500, {"error": "oops"})]
    Reporter(server.url, 1, delay=0).progress("x")
    assert len(server.calls) == 3


def test_gives_up_after_attempts(server):
    server.answers = [(502, {"error": "bad gateway"})] * 3
    with pytest.raises(StepError, match=r"answered 502: bad gateway \(after 3 attempts\)"):
        Reporter(server.url, 1, attempts=3, delay=0).progress("x")
    assert len(server.calls) == 3


def test_4xx_is_not_retried(server):
    server.answers = [(403, {"error": "This API endpoint is restricted to IIB workers"})]
    with pytest.raises(
        StepError, match="refused the update of request 1 \\(403\\): This API endpoint is restricted"
    ):
        Reporter(server.url, 1, delay=0).progress("x")
    assert len(server.calls) == 1


def test_final_state_overwrite_is_ignored(server):
    server.answers = [(400, {"error": "A complete request cannot change states"})]
    Reporter(server.url, 1, delay=0).failed("boom")
    assert len(server.calls) == 1


def test_env_configuration(server, monkeypatch):
    monkeypatch.setenv("IIB_STATUS_API_URL", server.url + "/")
    monkeypatch.setenv("IIB_REQUEST_ID", "33")
    Reporter(delay=0).progress("from env")
    assert server.calls[0][0] == "/api/v1/builds/33"


def test_unreachable_api_is_one_clear_error():
    with pytest.raises(StepError, match="cannot reach the status API"):
        Reporter("http://127.0.0.1:9/api/v1", 1, attempts=2, delay=0, timeout=2).progress("x")


def test_without_url_it_only_logs(monkeypatch, capsys):
    monkeypatch.delenv("IIB_STATUS_API_URL", raising=False)
    reporter = Reporter(None, None)
    reporter.progress("Resolving the container images")
    assert not reporter.enabled and reporter.sent
    assert "Resolving the container images" in capsys.readouterr().err


def test_an_unknown_status_api_host_fails_at_once() -> None:
    reporter = Reporter("http://nosuch-status-api.invalid/api/v1", 1, attempts=5, delay=30)
    with pytest.raises(StepError, match="its host name does not exist"):
        reporter.progress("x")  # with five attempts 30 s apart, a retry would show as a hung test
