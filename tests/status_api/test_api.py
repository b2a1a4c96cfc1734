"""IIB API v1 end to end through the app, on SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from iiblib.iib_build_details_model import IIBBuildDetailsModel
from sqlalchemy import text

from tests.status_api.conftest import WORKER_TOKEN, user, worker

BIN = "registry.example.com/opm:v4.17"
INDEX = "registry.example.com/redhat/index:v4.17"

PAYLOADS: dict[str, dict[str, Any]] = {
    "add": {
        "from_index": INDEX,
        "bundles": ["quay.io/ns/b:1", "quay.io/ns/b:1"],
        "binary_image": BIN,
        "add_arches": ["amd64"],
    },
    "rm": {"from_index": INDEX, "operators": ["etcd"], "binary_image": BIN},
    "regenerate-bundle": {"from_bundle_image": "quay.io/ns/bundle:1", "organization": "acme"},
    "merge-index-image": {
        "source_from_index": INDEX,
        "target_index": "quay.io/ns/target:1",
        "binary_image": BIN,
    },
    "create-empty-index": {"from_index": INDEX, "binary_image": BIN, "labels": {"version": "v1"}},
    "recursive-related-bundles": {"parent_bundle_image": "quay.io/ns/parent:1"},
    "fbc-operations": {"from_index": INDEX, "fbc_fragments": ["quay.io/ns/frag:1"], "binary_image": BIN},
    "add-deprecations": {
        "from_index": INDEX,
        "operator_package": "etcd",
        "binary_image": BIN,
        "deprecation_schema": '{"schema": "olm.deprecations", "package": "etcd"}',
    },
}


@pytest.mark.parametrize("request_type", sorted(PAYLOADS))
def test_post_every_type_returns_what_iiblib_parses(client: Any, request_type: str) -> None:
    response = client.post(f"/api/v1/builds/{request_type}", json=PAYLOADS[request_type], headers=user())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["request_type"] == request_type
    assert body["state"] == "in_progress"
    assert body["state_reason"] == "The request was initiated"
    assert body["user"] == "alice@EXAMPLE.COM"
    assert body["updated"].endswith("Z")
    assert [h["state"] for h in body["state_history"]] == ["in_progress"]
    model = IIBBuildDetailsModel.from_dict(body)  # iiblib's strict parser: every per-type key present
    assert model.id == body["id"]
    fetched = client.get(f"/api/v1/builds/{body['id']}").json()
    assert fetched == body


def test_add_response_fields(client: Any) -> None:
    body = client.post("/api/v1/builds/add", json=PAYLOADS["add"], headers=user()).json()
    assert body["bundles"] == ["quay.io/ns/b:1"]  # duplicates removed
    assert body["from_index"] == INDEX
    assert body["binary_image"] == BIN
    assert body["omps_operator_version"] == {}
    assert body["check_related_images"] is None
    assert body["removed_operators"] == []
    assert body["arches"] == []
    assert body["batch_annotations"] is None
    assert "logs" not in body  # no log storage configured


def test_type_specific_shapes(client: Any) -> None:
    rm = client.post("/api/v1/builds/rm", json=PAYLOADS["rm"], headers=user()).json()
    assert rm["removed_operators"] == ["etcd"]
    assert "omps_operator_version" not in rm and "check_related_images" not in rm
    legacy = client.post(
        "/api/v1/builds/fbc-operations",
        json={"from_index": INDEX, "fbc_fragment": "quay.io/ns/frag:2", "binary_image": BIN},
        headers=user(),
    ).json()
    assert (legacy["fbc_fragment"], legacy["fbc_fragments"]) == ("quay.io/ns/frag:2", [])
    new = client.post("/api/v1/builds/fbc-operations", json=PAYLOADS["fbc-operations"], headers=user()).json()
    assert (new["fbc_fragment"], new["fbc_fragments"]) == (None, ["quay.io/ns/frag:1"])
    deprecations = client.post(
        "/api/v1/builds/add-deprecations", json=PAYLOADS["add-deprecations"], headers=user()
    ).json()
    url = deprecations["deprecation_schema_url"]
    assert url == f"http://iib.example.com/api/v1/builds/{deprecations['id']}/deprecation-schema"
    schema = client.get(url.removeprefix("http://iib.example.com"))
    assert schema.json() == {"schema": "olm.deprecations", "package": "etcd"}
    recursive = client.post(
        "/api/v1/builds/recursive-related-bundles", json=PAYLOADS["recursive-related-bundles"], headers=user()
    ).json()
    assert recursive["nested_bundles"]["url"].endswith(f"/builds/{recursive['id']}/nested-bundles")
    empty = client.post(
        "/api/v1/builds/create-empty-index", json=PAYLOADS["create-empty-index"], headers=user()
    ).json()
    assert empty["labels"] == {"version": "v1"}
    assert "build_tags" not in empty and "internal_index_image_copy" not in empty


def test_secrets_are_neither_echoed_nor_stored(make_client: Any, db_url: str) -> None:
    from status_api.executors import RecordingExecutor

    executor = RecordingExecutor()
    client = make_client(executor=executor)
    payload = {
        **PAYLOADS["add"],
        "overwrite_from_index": True,
        "overwrite_from_index_token": "user:hunter2",
        "cnr_token": "cnr-hunter3",
    }
    response = client.post("/api/v1/builds/add", json=payload, headers=user())
    assert response.status_code == 201, response.text
    regen = client.post(
        "/api/v1/builds/regenerate-bundle",
        json={
            "from_bundle_image": "quay.io/a/b:1",
            "registry_auths": {"auths": {"quay.io": {"auth": "aHVudGVyNA=="}}},
        },
        headers=user(),
    )
    assert regen.status_code == 201, regen.text
    for text_seen in (response.text, regen.text, client.get("/api/v1/builds?verbose=true").text):
        assert "hunter2" not in text_seen and "hunter3" not in text_seen and "aHVudGVyNA" not in text_seen
    db = client.app.state.ctx.db
    with db.read() as conn:
        dumped = " ".join(str(row) for row in conn.execute(text("SELECT * FROM requests")))
    assert "hunter" not in dumped and "aHVudGVyNA" not in dumped
    # ...but the executor got them, to hand to the build.
    assert executor.submissions[0].secrets == {
        "overwrite_from_index_token": "user:hunter2",
        "cnr_token": "cnr-hunter3",
    }
    assert executor.submissions[1].secrets["registry_auths"]["auths"]["quay.io"]["auth"] == "aHVudGVyNA=="
    assert "hunter2" not in repr(executor.submissions[0])


def test_errors_are_iib_json(client: Any) -> None:
    cases = [
        (
            client.post(
                "/api/v1/builds/add",
                content=b"{not json",
                headers={**user(), "Content-Type": "application/json"},
            ),
            400,
            "Failed to decode JSON object: ",
        ),
        (
            client.post("/api/v1/builds/add", json=[1], headers=user()),
            400,
            "The input data must be a JSON object",
        ),
        (
            client.post("/api/v1/builds/rm", json={"from_index": INDEX}, headers=user()),
            400,
            '"operators" should be a non-empty array of strings',
        ),
        (client.get("/api/v1/builds/12345"), 404, "The requested resource was not found"),
        (client.get("/api/v1/builds/99999999999999"), 404, "The requested resource was not found"),
        (client.get("/api/v1/nowhere"), 404, "The requested resource was not found"),
        (client.delete("/api/v1/builds/1"), 405, "The method is not allowed for the requested URL."),
        (client.post("/api/v1/builds/add", json=PAYLOADS["add"]), 401, "The server could not verify"),
    ]
    for response, status, start in cases:
        assert response.status_code == status, response.text
        assert response.json()["error"].startswith(start), response.json()


def test_overwrite_needs_token_when_logged_in(client: Any) -> None:
    response = client.post(
        "/api/v1/builds/rm", json={**PAYLOADS["rm"], "overwrite_from_index": True}, headers=user()
    )
    assert response.status_code == 403
    assert response.json() == {
        "error": 'You must set "overwrite_from_index_token" to use "overwrite_from_index"'
    }


def test_login_disabled_allows_anonymous(make_client: Any) -> None:
    client = make_client(LOGIN_DISABLED=True)
    body = client.post("/api/v1/builds/rm", json={**PAYLOADS["rm"], "overwrite_from_index": True}).json()
    assert body["user"] is None
    assert client.patch(f"/api/v1/builds/{body['id']}", json={"arches": ["s390x"]}).status_code == 200


def _new(client: Any, request_type: str = "add", **extra: Any) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/builds/{request_type}", json={**PAYLOADS[request_type], **extra}, headers=user()
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_patch_contract(client: Any) -> None:
    request_id = _new(client)["id"]
    url = f"/api/v1/builds/{request_id}"
    assert client.patch(url, json={"state": "failed", "state_reason": "x"}, headers=user()).status_code == 403
    assert client.patch(url, json={"state": "failed", "state_reason": "x"}).status_code == 401
    errors = {
        "{}": "At least one key must be specified to update the request",
        '{"from_index": "a:b"}': "The following keys are not allowed: from_index",
        '{"state": "complete"}': 'The "state_reason" key is required when "state" is supplied',
        '{"state_reason": "x"}': 'The "state" key is required when "state_reason" is supplied',
        '{"state": "done", "state_reason": "x"}': "done is not a valid build request state. "
        "Valid states are: complete, failed, in_progress",
        '{"index_image": ""}': 'The value for "index_image" must be a non-empty string',
        '{"index_image": "no-tag"}': "Image no-tag should have a tag or a digest specified.",
        '{"arches": "amd64"}': "Architectures should be specified as a non-empty array of strings",
        '{"bundle_mapping": {"etcd": "x"}}': 'The "bundle_mapping" key must be an object'
        " with the values as lists of strings",
        "[]": "The input data must be a JSON object",
    }
    for body, message in errors.items():
        response = client.patch(
            url, content=body.encode(), headers={**worker(), "Content-Type": "application/json"}
        )
        assert response.status_code == 400, body
        assert response.json() == {"error": message}
    progress = {"state": "in_progress", "state_reason": "Resolving the bundles", "arches": ["amd64"]}
    body = client.patch(url, json=progress, headers=worker()).json()
    assert body["state_reason"] == "Resolving the bundles" and body["arches"] == ["amd64"]
    # An identical repeat (Celery redelivery, a retried step) adds no history.
    assert len(client.patch(url, json=progress, headers=worker()).json()["state_history"]) == 2
    done = {
        "state": "complete",
        "state_reason": "The operator bundle(s) were successfully added to the index image",
        "index_image": "quay.io/iib/iib-build:1",
        "index_image_resolved": "quay.io/iib/iib-build@sha256:" + "a" * 64,
        "arches": ["s390x"],
        "bundle_mapping": {"etcd": ["quay.io/ns/b:1"]},
        "omps_operator_version": '{"etcd": "0.1"}',
    }
    body = client.patch(url, json=done, headers=worker()).json()
    assert body["state"] == "complete"
    assert body["arches"] == ["amd64", "s390x"]
    assert body["bundle_mapping"] == {"etcd": ["quay.io/ns/b:1"]}
    assert body["omps_operator_version"] == {"etcd": "0.1"}
    assert [h["state"] for h in body["state_history"]] == ["complete", "in_progress", "in_progress"]
    terminal = client.patch(url, json={"state": "failed", "state_reason": "late"}, headers=worker())
    assert terminal.status_code == 400
    assert terminal.json() == {"error": "A complete request cannot change states"}
    # The reason of a final state may still be set.
    again = client.patch(url, json={"state": "complete", "state_reason": "Done, really"}, headers=worker())
    assert again.json()["state_reason"] == "Done, really"
    rm_id = _new(client, "rm")["id"]
    omps = client.patch(f"/api/v1/builds/{rm_id}", json={"omps_operator_version": "{}"}, headers=worker())
    # IIB checks the keys the type allows before anything else.
    assert (omps.status_code, omps.json()) == (
        400,
        {"error": "The following keys are not allowed: omps_operator_version"},
    )
    assert client.patch("/api/v1/builds/999", json={"arches": ["x"]}, headers=worker()).status_code == 404


def test_list_pagination_and_filters(client: Any) -> None:
    ids = [_new(client)["id"] for _ in range(3)]
    rm_id = _new(client, "rm", from_index="quay.io/other/index:1")["id"]
    merge_id = _new(client, "merge-index-image")["id"]
    client.patch(
        f"/api/v1/builds/{ids[0]}",
        json={"state": "failed", "state_reason": "boom", "index_image": "quay.io/out/x:1"},
        headers=worker(),
    )
    client.patch(f"/api/v1/builds/{merge_id}", json={"index_image": "quay.io/out/x:1"}, headers=worker())
    page = client.get("/api/v1/builds", params={"per_page": 2}).json()
    assert [item["id"] for item in page["items"]] == [merge_id, rm_id]
    meta = page["meta"]
    assert (meta["page"], meta["pages"], meta["per_page"], meta["total"]) == (1, 3, 2, 5)
    assert meta["next"] == "http://iib.example.com/api/v1/builds?page=2&per_page=2"
    assert meta["previous"] is None
    assert meta["last"] == "http://iib.example.com/api/v1/builds?page=3&per_page=2"
    assert "state_history" not in page["items"][0]
    last = client.get("/api/v1/builds", params={"per_page": 2, "page": 3}).json()
    assert [item["id"] for item in last["items"]] == [ids[0]]
    assert client.get("/api/v1/builds", params={"page": 4, "per_page": 2}).status_code == 404
    assert client.get("/api/v1/builds", params={"per_page": 500}).json()["meta"]["per_page"] == 20

    def found(**params: Any) -> list[int]:
        response = client.get("/api/v1/builds", params=params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert found(state="failed") == [ids[0]]

    def total(**params: Any) -> int:
        return client.get("/api/v1/builds", params=params).json()["meta"]["total"]

    # Totals come from counters kept by every write; they must match what the filters find.
    assert (total(state="failed"), total(state="in_progress"), total(state="complete")) == (1, 4, 0)
    assert (total(request_type="add"), total(request_type="add", state="failed")) == (3, 1)
    assert total(user="alice@EXAMPLE.COM", state="in_progress") == 4
    assert found(request_type="rm") == [rm_id]
    assert found(user="alice@EXAMPLE.COM") == [merge_id, rm_id, *reversed(ids)]
    assert found(user="nobody") == []
    assert found(from_index="quay.io/other/index:1") == [rm_id]
    assert found(from_index_startswith="quay.io/other/") == [rm_id]
    assert found(index_image="quay.io/out/x:1") == [merge_id, ids[0]]
    assert found(batch=str(page["items"][1]["batch"])) == [rm_id]
    filtered = client.get("/api/v1/builds", params={"state": "failed", "verbose": "true"}).json()
    assert (
        filtered["meta"]["first"]
        == "http://iib.example.com/api/v1/builds?page=1&per_page=20&state=failed&verbose=true"
    )
    assert filtered["items"][0]["state_history"][0]["state_reason"] == "boom"
    empty = client.get("/api/v1/builds", params={"state": "complete"}).json()
    assert empty["meta"]["pages"] == 0 and empty["meta"]["last"].startswith(
        "http://iib.example.com/api/v1/builds?page=1&"
    )
    errors = {
        (
            ("state", "bogus"),
        ): "bogus is not a valid build request state. Valid states are: complete, failed, in_progress",
        (("batch", "0"),): "The batch must be a positive integer",
        (("batch", "x"),): "The batch must be a positive integer",
        (
            ("request_type", "wrong-type"),
        ): "wrong-type is not a valid build request type. Valid request_types are: "
        "generic, add, rm, regenerate-bundle, merge-index-image, create-empty-index, "
        "recursive-related-bundles, "
        "fbc-operations, add-deprecations",
        (("index_image", "nope:1"),): "nope:1 is not a valid index image",
        (("from_index", "nope:1"),): "from_index nope:1 is not a valid index image",
        (("from_index_startswith", "zzz"),): "Can't find any from_index starting with zzz",
    }
    for params, message in errors.items():
        response = client.get("/api/v1/builds", params=dict(params))
        assert (response.status_code, response.json()) == (400, {"error": message})


def test_batches(client: Any) -> None:
    payload = {
        "annotations": {"release": "RHBA-1"},
        "build_requests": [
            {"from_index": INDEX, "bundles": ["quay.io/ns/b:2"], "binary_image": BIN},
            {"from_index": INDEX, "operators": ["etcd"], "binary_image": BIN},
        ],
    }
    response = client.post("/api/v1/builds/add-rm-batch", json=payload, headers=user())
    assert response.status_code == 201, response.text
    add, rm = response.json()
    assert (add["request_type"], rm["request_type"]) == ("add", "rm")
    assert add["batch"] == rm["batch"]
    assert add["batch_annotations"] == {"release": "RHBA-1"}
    bad = client.post(
        "/api/v1/builds/add-rm-batch",
        json={"build_requests": [payload["build_requests"][0], {"from_index": INDEX}]},
        headers=user(),
    )
    assert bad.json() == {
        "error": "Build request is not a valid Add/Rm request. This occurred on the build request in index 1."
    }
    listed = client.get("/api/v1/builds", params={"batch": add["batch"]}).json()["items"]
    assert {item["id"] for item in listed} == {add["id"], rm["id"]}
    regen = client.post(
        "/api/v1/builds/regenerate-bundle-batch",
        json={
            "build_requests": [{"from_bundle_image": "quay.io/a/b:1"}, {"from_bundle_image": "quay.io/a/c:1"}]
        },
        headers=user(),
    )
    assert regen.status_code == 201 and len(regen.json()) == 2
    batch = client.get(f"/api/v1/batches/{add['batch']}").json()
    assert batch == {
        "batch": add["batch"],
        "annotations": {"release": "RHBA-1"},
        "requests": [
            {"id": add["id"], "organization": None, "request_type": "add"},
            {"id": rm["id"], "organization": None, "request_type": "rm"},
        ],
        "state": "in_progress",
        "user": "alice@EXAMPLE.COM",
    }
    client.patch(
        f"/api/v1/builds/{add['id']}", json={"state": "complete", "state_reason": "ok"}, headers=worker()
    )
    assert client.get(f"/api/v1/batches/{add['batch']}").json()["state"] == "in_progress"
    client.patch(
        f"/api/v1/builds/{rm['id']}", json={"state": "failed", "state_reason": "no"}, headers=worker()
    )
    assert client.get(f"/api/v1/batches/{add['batch']}").json()["state"] == "failed"
    assert client.get("/api/v1/batches/999").status_code == 404
    empty = client.post("/api/v1/builds/regenerate-bundle-batch", json={"build_requests": []}, headers=user())
    assert empty.json()["error"].endswith('the "build_requests" value must be a non-empty array')


def test_failed_scheduling_marks_the_request_failed(make_client: Any) -> None:
    class Broken:
        def submit(self, submission: Any) -> None:
            raise ConnectionError("cluster down")

    client = make_client(executor=Broken())
    response = client.post("/api/v1/builds/rm", json=PAYLOADS["rm"], headers=user())
    assert response.status_code == 500
    assert response.json() == {"error": "The scheduling of the build request with ID 1 failed"}
    stored = client.get("/api/v1/builds/1").json()
    assert (stored["state"], stored["state_reason"]) == ("failed", "The scheduling of the request failed")


def test_healthcheck_metrics_and_docs(client: Any) -> None:
    assert client.get("/api/v1/healthcheck").json() == {"status": "Health check OK"}
    request_id = _new(client, "rm")["id"]
    client.patch(
        f"/api/v1/builds/{request_id}", json={"state": "complete", "state_reason": "ok"}, headers=worker()
    )
    metrics = client.get("/metrics").text
    assert 'iib_requests{request_type="rm",state="complete"} 1.0' in metrics
    assert 'iib_build_duration_seconds_count{request_type="rm",state="complete"} 1.0' in metrics
    assert 'iib_requests_created_total{request_type="rm"} 1.0' in metrics
    schema = client.get("/schema/openapi.json").json()
    assert "/api/v1/builds/add" in schema["paths"] and "/api/v1/builds/{request_id}" in schema["paths"]
    assert '<table class="builds">' in client.get("/").text
    docs = client.get("/schema/swagger")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_bearer_token_identifies_a_user(make_client: Any) -> None:
    client = make_client(IIB_API_TOKENS={"tok-alice": "alice", WORKER_TOKEN: "worker@EXAMPLE.COM"})
    body = client.post(
        "/api/v1/builds/rm", json=PAYLOADS["rm"], headers={"Authorization": "Bearer tok-alice"}
    ).json()
    assert body["user"] == "alice"
    wrong = client.post("/api/v1/builds/rm", json=PAYLOADS["rm"], headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


def test_token_review_for_service_accounts(make_client: Any) -> None:
    class Reviewer:
        def review(self, token: str) -> str | None:
            return "system:serviceaccount:iib:pipeline" if token == "sa-token" else None

    from status_api.app import create_app
    from tests.status_api.conftest import base_settings

    settings = base_settings(
        make_client().app.state.ctx.settings.SQLALCHEMY_DATABASE_URI,
        IIB_WORKER_USERNAMES=["system:serviceaccount:iib:pipeline"],
    )
    from litestar.testing import TestClient

    with TestClient(create_app(settings, reviewer=Reviewer())) as sa_client:
        request_id = sa_client.post("/api/v1/builds/rm", json=PAYLOADS["rm"], headers=user()).json()["id"]
        ok = sa_client.patch(
            f"/api/v1/builds/{request_id}",
            json={"arches": ["amd64"]},
            headers={"Authorization": "Bearer sa-token"},
        )
        assert ok.status_code == 200
        denied = sa_client.patch(
            f"/api/v1/builds/{request_id}",
            json={"arches": ["amd64"]},
            headers={"Authorization": "Bearer other"},
        )
        assert denied.status_code == 401
        sa_client.app.state.ctx.db.dispose()


def test_lists_show_changes_without_a_state_change(client: Any) -> None:
    request_id = _new(client, "rm")["id"]
    assert client.get("/api/v1/builds").json()["items"][0]["index_image"] is None
    client.patch(f"/api/v1/builds/{request_id}", json={"index_image": "quay.io/out/y:1"}, headers=worker())
    assert client.get("/api/v1/builds").json()["items"][0]["index_image"] == "quay.io/out/y:1"


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        (["complete", "in_progress", "failed"], "in_progress"),
        (["complete", "failed"], "failed"),
        (["complete", "complete"], "complete"),
    ],
)
def test_batch_state_is_derived(states: list[str], expected: str) -> None:
    from status_api.builds import batch_state

    assert batch_state(states) == expected
