"""Issue 12's differences from IIB's API, each on SQLite and PostgreSQL.

Sorted build tags, the PATCH allowed-keys check, 415 for bodies not sent as JSON, huge and negative
integers in query strings, UTF-8 user names from the proxy header, the 401 challenge and the
``/metrics`` content type.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.status_api.conftest import USER_HEADER, user, worker

INDEX = "registry.example.com/redhat/index:v4.17"
BIN = "registry.example.com/opm:v4.17"
RM = {"from_index": INDEX, "operators": ["etcd"], "binary_image": BIN}


def test_build_tags_come_back_sorted(client: Any) -> None:
    payload = {**RM, "build_tags": ["zeta", "Alpha", "beta-1", "alpha"]}
    created = client.post("/api/v1/builds/rm", json=payload, headers=user()).json()
    assert created["build_tags"] == ["Alpha", "alpha", "beta-1", "zeta"]
    assert client.get(f"/api/v1/builds/{created['id']}").json()["build_tags"] == created["build_tags"]
    listed = client.get("/api/v1/builds").json()["items"][0]
    assert listed["build_tags"] == created["build_tags"]


def test_patch_checks_the_allowed_keys_first(client: Any) -> None:
    rm_id = client.post("/api/v1/builds/rm", json=RM, headers=user()).json()["id"]
    response = client.patch(
        f"/api/v1/builds/{rm_id}",
        json={"omps_operator_version": "{}", "state": "complete"},
        headers=worker(),
    )
    assert (response.status_code, response.json()) == (
        400,
        {"error": "The following keys are not allowed: omps_operator_version"},
    )


NOT_JSON = "Did not attempt to load JSON data because the request Content-Type was not 'application/json'."


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_body_not_sent_as_json_is_415(client: Any, content_type: str | None) -> None:
    headers = user() if content_type is None else {**user(), "Content-Type": content_type}
    body = b'{"from_index": "a:1", "operators": ["etcd"], "binary_image": "b:1"}'
    response = client.post("/api/v1/builds/rm", content=body, headers=headers)
    assert (response.status_code, response.json()) == (415, {"error": NOT_JSON})
    batch = client.post("/api/v1/builds/add-rm-batch", content=b"{}", headers=headers)
    assert (batch.status_code, batch.json()) == (415, {"error": NOT_JSON})
    patched = client.patch(
        "/api/v1/builds/1",
        content=b"{}",
        headers={**worker(), **({} if content_type is None else {"Content-Type": content_type})},
    )
    assert (patched.status_code, patched.json()) == (415, {"error": NOT_JSON})


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/merge-patch+json"])
def test_json_media_types_are_read(client: Any, content_type: str) -> None:
    body = b'{"from_index": "a:1", "operators": ["etcd"], "binary_image": "b:1"}'
    response = client.post(
        "/api/v1/builds/rm", content=body, headers={**user(), "Content-Type": content_type}
    )
    assert response.status_code == 201, response.text


HUGE = ["99999999999999999999", "2147483648", "9223372036854775808", "1" + "0" * 40]
NEGATIVE = ["-1", "-2147483649", "-99999999999999999999", "0"]


def test_huge_and_negative_integers_in_the_query_string(client: Any) -> None:
    client.post("/api/v1/builds/rm", json=RM, headers=user())
    for value in HUGE:
        for name in ("page", "per_page", "batch"):
            response = client.get("/api/v1/builds", params={name: value})
            assert response.status_code < 500, (name, value, response.text)
            assert set(response.json()) in ({"error"}, {"items", "meta"})
        # A page beyond the last is IIB's 404; a batch beyond the database's integers holds nothing.
        assert client.get("/api/v1/builds", params={"page": value}).json() == {
            "error": "The requested resource was not found"
        }
        assert client.get("/api/v1/builds", params={"per_page": value}).json()["meta"]["per_page"] == 20
        empty = client.get("/api/v1/builds", params={"batch": value}).json()
        assert (empty["items"], empty["meta"]["total"]) == ([], 0)
    for value in NEGATIVE:
        for name, message in (
            ("page", "The page must be a positive integer"),
            ("per_page", "The per_page must be a positive integer"),
            ("batch", "The batch must be a positive integer"),
        ):
            response = client.get("/api/v1/builds", params={name: value})
            assert (response.status_code, response.json()) == (400, {"error": message}), (name, value)


def test_utf8_user_name_from_the_proxy_header(client: Any) -> None:
    name = "ünïcødé-用户@EXAMPLE.COM"
    # The proxy sends the name's UTF-8 bytes; the server must read them as UTF-8.
    created = client.post("/api/v1/builds/rm", json=RM, headers={USER_HEADER: name.encode()}).json()
    assert created["user"] == name
    found = client.get("/api/v1/builds", params={"user": name}).json()
    assert [item["id"] for item in found["items"]] == [created["id"]]


def test_401_carries_a_challenge(client: Any) -> None:
    response = client.post("/api/v1/builds/rm", json=RM)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="IIB"'


def test_metrics_content_type(client: Any) -> None:
    response = client.get("/metrics")
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"


def test_a_user_name_longer_than_the_database_stores_is_a_400(client: Any) -> None:
    response = client.post("/api/v1/builds/rm", json=RM, headers=user("u" * 256))
    assert (response.status_code, response.json()) == (
        400,
        {"error": "The user name must be at most 255 characters long and must not contain NUL"},
    )
    assert client.post("/api/v1/builds/rm", json=RM, headers=user("u" * 255)).status_code == 201
