"""The status page's HTML through the app (no browser): filters, escaping, reloading, graphs' sources,
the stylesheet and the docs page's local assets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from status_api.app import create_app
from status_api.executors import RecordingExecutor
from status_api.ui.graphs import graph_source
from tests.status_api.conftest import base_settings, user, worker

BODY = {"from_index": "quay.io/ns/index:v4.19", "operators": ["etcd"], "binary_image": "quay.io/ns/opm:1"}


@pytest.fixture
def client(sqlite_url: str, tmp_path: Any) -> Iterator[TestClient]:
    settings = base_settings(sqlite_url, IIB_REQUEST_LOGS_DIR=str(tmp_path / "logs"))
    with TestClient(create_app(settings, executor=RecordingExecutor())) as test_client:
        yield test_client


def _rm(client: TestClient, name: str = "alice@EXAMPLE.COM") -> int:
    answer = client.post("/api/v1/builds/rm", json=BODY, headers=user(name))
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def _finish(client: TestClient, build_id: int, reason: str = "done") -> None:
    client.patch(
        f"/api/v1/builds/{build_id}", json={"state": "complete", "state_reason": reason}, headers=worker()
    )


def test_list_is_newest_first_and_reloads_while_in_progress(client: TestClient) -> None:
    first, second = _rm(client), _rm(client, "bob@EXAMPLE.COM")
    page = client.get("/").text
    assert page.index(f'data-build-id="{second}"') < page.index(f'data-build-id="{first}"')
    assert '<meta http-equiv="refresh"' in page
    _finish(client, first)
    _finish(client, second)
    assert '<meta http-equiv="refresh"' not in client.get("/").text


def test_filters(client: TestClient) -> None:
    first, second = _rm(client), _rm(client, "bob@EXAMPLE.COM")
    _finish(client, first)
    by_state = client.get("/", params={"state": "complete"}).text
    assert f'data-build-id="{first}"' in by_state and f'data-build-id="{second}"' not in by_state
    by_user = client.get("/", params={"user": "bob@EXAMPLE.COM"}).text
    assert f'data-build-id="{second}"' in by_user and f'data-build-id="{first}"' not in by_user
    assert "No builds match." in client.get("/", params={"request_type": "add"}).text
    bad = client.get("/", params={"state": "nope"})
    assert bad.status_code == 400 and "nope is not a valid build request state" in bad.text


def test_values_are_escaped(client: TestClient) -> None:
    build_id = _rm(client)
    _finish(client, build_id, reason="<script>alert(1)</script>")
    for page in (client.get("/").text, client.get(f"/builds/{build_id}").text):
        assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page


def test_build_page_has_fields_history_and_log(client: TestClient) -> None:
    build_id = _rm(client)
    put = client.put(
        f"/api/v1/builds/{build_id}/logs",
        content=b"step output\n",
        headers={**worker(), "Content-Type": "text/plain"},
    )
    assert put.status_code == 201, put.text
    _finish(client, build_id)
    page = client.get(f"/builds/{build_id}").text
    assert '<pre class="log" id="log">step output' in page
    assert "<th>from_index</th><td>quay.io/ns/index:v4.19</td>" in page
    assert page.count('class="state state-') >= 3  # the badge and two history rows
    assert client.get("/builds/999").status_code == 404


def test_graph_of_a_build_that_changed_no_such_package(client: TestClient) -> None:
    build_id = _rm(client)
    assert client.get(f"/builds/{build_id}/graph/etcd.svg").status_code == 404  # not finished


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (
            {
                "state": "complete",
                "request_type": "add",
                "index_image_resolved": "r/i@sha256:1",
                "bundle_mapping": {"b": [], "a": []},
            },
            ("r/i@sha256:1", ["a", "b"]),
        ),
        (
            {
                "state": "complete",
                "request_type": "rm",
                "from_index_resolved": "r/f@sha256:2",
                "removed_operators": ["x"],
            },
            ("r/f@sha256:2", ["x"]),
        ),
        (
            {
                "state": "complete",
                "request_type": "add-deprecations",
                "index_image": "r/i:1",
                "operator_package": "p",
            },
            ("r/i:1", ["p"]),
        ),
        (
            {"state": "failed", "request_type": "add", "index_image": "r/i:1", "bundle_mapping": {"a": []}},
            None,
        ),
        ({"state": "complete", "request_type": "merge-index-image", "index_image": "r/i:1"}, None),
    ],
)
def test_graph_source(build: dict[str, Any], expected: Any) -> None:
    source = graph_source(build)
    assert (None if source is None else (source.image, source.packages)) == expected


def test_stylesheet_and_local_docs_assets(client: TestClient) -> None:
    assert client.get("/ui/page.css").headers["content-type"].startswith("text/css")
    docs = client.get("/schema/swagger").text
    assert "/ui/swagger/swagger-ui-bundle.js" in docs and "https://" not in docs.split("<body")[0]
    bundle = client.get("/ui/swagger/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.content) > 100_000
