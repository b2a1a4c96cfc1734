"""The watcher, with the real ``kubernetes`` client against a scripted Kubernetes API on loopback.

The script replays a recorded sequence: a list, a watch that drops, a bookmark, a 410 Gone (relist),
a server error (reconnect with backoff), then a new run.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from kubernetes import client as k8s

from status_api.db import connect
from status_api.watcher import KubernetesSource, PipelineRunWatcher
from tests.status_api import samples


def _with_version(run: dict[str, Any], version: str) -> dict[str, Any]:
    run["metadata"]["resourceVersion"] = version
    return run


RUN1 = dict(uid="uid-1", request_type="rm", params=[{"name": "from_index", "value": "quay.io/i/index:1"}])
RUN2 = dict(uid="uid-2", request_type="add")
RUN3 = dict(uid="uid-3", request_type="create-empty-index")

SCRIPT: list[tuple[str, Any]] = [
    (
        "list",
        {
            "kind": "PipelineRunList",
            "apiVersion": "tekton.dev/v1",
            "metadata": {"resourceVersion": "100"},
            "items": [_with_version(samples.pipelinerun("run-1", **RUN1), "99")],
        },
    ),
    (
        "watch",
        [
            {"type": "MODIFIED", "object": _with_version(samples.succeeded(name="run-1", **RUN1), "101")},
            {"type": "ADDED", "object": _with_version(samples.pipelinerun("run-2", **RUN2), "102")},
            {
                "type": "BOOKMARK",
                "object": {
                    "kind": "PipelineRun",
                    "apiVersion": "tekton.dev/v1",
                    "metadata": {"resourceVersion": "105"},
                },
            },
        ],
    ),
    (
        "watch",
        [
            {
                "type": "ERROR",
                "object": {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "status": "Failure",
                    "code": 410,
                    "reason": "Expired",
                    "message": "too old resource version",
                },
            }
        ],
    ),
    (
        "list",
        {
            "kind": "PipelineRunList",
            "apiVersion": "tekton.dev/v1",
            "metadata": {"resourceVersion": "200"},
            "items": [_with_version(samples.failed(name="run-2", **RUN2), "150")],
        },
    ),
    ("error", 500),
    ("watch", [{"type": "ADDED", "object": _with_version(samples.pipelinerun("run-3", **RUN3), "201")}]),
]


class FakeKubernetes:
    """Answers list and watch calls for pipelineruns from SCRIPT and records what was asked."""

    def __init__(self) -> None:
        self.script = list(SCRIPT)
        self.calls: list[tuple[str, str | None]] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = parse_qs(url.query)
                assert url.path == "/apis/tekton.dev/v1/namespaces/iib/pipelineruns", url.path
                assert query["labelSelector"] == ["app.kubernetes.io/part-of=iib"]
                is_watch = query.get("watch") == ["True"] or query.get("watch") == ["true"]
                with outer.lock:
                    outer.calls.append(
                        ("watch" if is_watch else "list", (query.get("resourceVersion") or [None])[0])
                    )
                    step = outer.script.pop(0) if outer.script else ("watch", [])
                kind, body = step
                if kind == "error":
                    self.send_response(body)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(json.dumps({"kind": "Status", "code": body, "message": "boom"}).encode())
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                if kind == "list":
                    self.wfile.write(json.dumps(body).encode())
                else:
                    for event in body:
                        self.wfile.write(json.dumps(event).encode() + b"\n")
                        self.wfile.flush()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def fake_kubernetes() -> Iterator[FakeKubernetes]:
    fake = FakeKubernetes()
    fake.thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def test_watch_resumes_relists_and_reconnects(fake_kubernetes: FakeKubernetes, db_url: str) -> None:
    configuration = k8s.Configuration()
    configuration.host = fake_kubernetes.url
    source = KubernetesSource(
        "iib", "app.kubernetes.io/part-of=iib", api_client=k8s.ApiClient(configuration), timeout_seconds=5
    )
    db = connect(db_url)
    seen: list[Any] = []

    def on_recorded(recorded: Any) -> None:
        seen.append(recorded)
        if len(seen) == 5:  # run-1 twice, run-2 twice, then run-3
            watcher.stop()

    watcher = PipelineRunWatcher(db, source, backoff=0.01, on_recorded=on_recorded)
    watcher.run(max_cycles=8)
    assert fake_kubernetes.calls == [
        ("list", None),
        ("watch", "100"),
        ("watch", "105"),  # resumed after the bookmark
        ("list", None),  # 410 Gone: list again
        ("watch", "200"),  # a server error...
        ("watch", "200"),  # ...and a reconnect from the same version
    ]
    assert (watcher.relists, watcher.reconnects) == (2, 1)
    from sqlalchemy import select

    from status_api.models import requests

    with db.read() as conn:
        rows = {row.pipelinerun_uid: row for row in conn.execute(select(requests))}
    assert set(rows) == {"uid-1", "uid-2", "uid-3"}
    assert rows["uid-1"].state == 2 and rows["uid-1"].type == 2  # complete rm
    assert rows["uid-2"].state == 3  # failed
    assert rows["uid-3"].state == 1
    assert json.loads(rows["uid-1"].data)["from_index"] == "quay.io/i/index:1"
    db.dispose()
