"""Logs and related-bundles files: a local folder and S3 (moto's server over HTTP); IIB's 404/410 rules."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import boto3
import pytest
from sqlalchemy import update

from status_api.builds import utcnow
from status_api.models import requests
from tests.status_api.conftest import user, worker

RM = {
    "from_index": "registry.example.com/index:v4.17",
    "operators": ["etcd"],
    "binary_image": "registry.example.com/opm:v4.17",
}


@pytest.fixture(params=["local", "s3"])
def storage_client(request: pytest.FixtureRequest, make_client: Any, tmp_path: Any) -> Any:
    if request.param == "local":
        return make_client(
            IIB_REQUEST_LOGS_DIR=str(tmp_path / "logs"),
            IIB_REQUEST_RELATED_BUNDLES_DIR=str(tmp_path / "related"),
            IIB_REQUEST_RECURSIVE_RELATED_BUNDLES_DIR=str(tmp_path / "nested"),
        )
    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = f"iib-{tmp_path.name.lower().replace('_', '-')}"[:60]
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
    client = make_client(IIB_AWS_S3_BUCKET_NAME=bucket, IIB_AWS_S3_ENDPOINT_URL=endpoint)
    client.bucket = bucket
    client.endpoint = endpoint
    return client


def _finish(client: Any, request_id: int) -> None:
    response = client.patch(
        f"/api/v1/builds/{request_id}", json={"state": "complete", "state_reason": "ok"}, headers=worker()
    )
    assert response.status_code == 200


def _age(client: Any, request_id: int, days: int) -> None:
    with client.app.state.ctx.db.write() as conn:
        conn.execute(
            update(requests)
            .where(requests.c.id == request_id)
            .values(updated=utcnow() - timedelta(days=days))
        )


def test_logs_lifecycle(storage_client: Any) -> None:
    client = storage_client
    created = client.post("/api/v1/builds/rm", json=RM, headers=user()).json()
    request_id = created["id"]
    assert created["logs"]["url"] == f"http://iib.example.com/api/v1/builds/{request_id}/logs"
    url = f"/api/v1/builds/{request_id}/logs"
    early = client.get(url)
    assert (early.status_code, early.json()) == (
        400,
        {
            "error": f"The request {request_id} is not complete yet."
            " logs will be available once the request is complete."
        },
    )
    assert client.put(url, content=b"step 1\nstep 2\n", headers=user()).status_code == 403
    assert client.put(url, content=b"step 1\n", headers=worker()).status_code == 201
    so_far = client.get(url)  # a running request's log is served as far as it goes
    assert (so_far.status_code, so_far.text) == (200, "step 1\n")
    assert client.put(url, content=b"step 1\nstep 2\n", headers=worker()).status_code == 201
    _finish(client, request_id)
    served = client.get(url)
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("text/plain")
    assert served.text == "step 1\nstep 2\n"
    if hasattr(client, "bucket"):  # the object is where IIB's tools look for it
        s3 = boto3.client("s3", endpoint_url=client.endpoint)
        assert s3.get_object(Bucket=client.bucket, Key=f"request_logs/{request_id}.log")["Body"].read() == (
            b"step 1\nstep 2\n"
        )


def test_missing_then_expired(storage_client: Any) -> None:
    client = storage_client
    request_id = client.post("/api/v1/builds/rm", json=RM, headers=user()).json()["id"]
    _finish(client, request_id)
    missing = client.get(f"/api/v1/builds/{request_id}/logs")
    if hasattr(client, "bucket"):
        assert missing.status_code == 404
    else:  # IIB's answer when the folder lacks the file of a finished request
        assert (missing.status_code, missing.json()) == (
            500,
            {"error": "IIB is done processing the request and could not find logs."},
        )
    _age(client, request_id, 4)
    gone = client.get(f"/api/v1/builds/{request_id}/logs")
    assert gone.status_code == 410
    expected = (
        f"The data for the build request {request_id} no longer exist"
        if hasattr(client, "bucket")
        else f"The logs for the build request {request_id} no longer exist"
    )
    assert gone.json() == {"error": expected}


def test_related_and_nested_bundles(storage_client: Any) -> None:
    client = storage_client
    regen = client.post(
        "/api/v1/builds/regenerate-bundle", json={"from_bundle_image": "quay.io/a/b:1"}, headers=user()
    ).json()
    assert regen["related_bundles"]["url"].endswith(f"/builds/{regen['id']}/related_bundles")
    url = f"/api/v1/builds/{regen['id']}/related_bundles"
    bad = client.put(url, content=b'{"not": "a list"}', headers=worker())
    assert bad.status_code == 400
    assert client.put(url, content=b'["quay.io/a/related:1"]', headers=worker()).status_code == 201
    _finish(client, regen["id"])
    served = client.get(url)
    assert (served.status_code, served.json()) == (200, ["quay.io/a/related:1"])
    assert served.headers["content-type"] == "application/json"
    rm_id = client.post("/api/v1/builds/rm", json=RM, headers=user()).json()["id"]
    wrong = client.get(f"/api/v1/builds/{rm_id}/related_bundles")
    assert wrong.json() == {
        "error": f"The request {rm_id} is of type rm. This endpoint is only valid for requests of"
        " type regenerate-bundle."
    }
    nested = client.post(
        "/api/v1/builds/recursive-related-bundles",
        json={"parent_bundle_image": "quay.io/a/p:1"},
        headers=user(),
    ).json()
    nested_url = f"/api/v1/builds/{nested['id']}/nested-bundles"
    assert client.put(nested_url, content=b'["quay.io/a/n:1"]', headers=worker()).status_code == 201
    _finish(client, nested["id"])
    assert client.get(nested_url).json() == ["quay.io/a/n:1"]


def test_no_storage_means_404_and_no_links(client: Any) -> None:
    created = client.post("/api/v1/builds/rm", json=RM, headers=user()).json()
    assert "logs" not in created
    _finish(client, created["id"])
    assert client.get(f"/api/v1/builds/{created['id']}/logs").status_code == 404


def _missing(client: Any, path: str, payload: dict[str, Any], suffix: str) -> Any:
    request_id = client.post(f"/api/v1/builds/{path}", json=payload, headers=user()).json()["id"]
    _finish(client, request_id)
    return client.get(f"/api/v1/builds/{request_id}/{suffix}")


@pytest.mark.parametrize(
    ("path", "payload", "suffix", "message"),
    [
        (
            "regenerate-bundle",
            {"from_bundle_image": "quay.io/a/b:1"},
            "related_bundles",
            "IIB is done processing the request and could not find related_bundles.",
        ),
        (
            "regenerate-bundle",
            {"from_bundle_image": "quay.io/a/b:1", "organization": "acme"},
            "related_bundles",
            "IIB is done processing the request and cannot find related_bundles. Please make sure the"
            " iib_organization_customizations for organization acme has related_bundles customization"
            " type set",
        ),
        (
            "recursive-related-bundles",
            {"parent_bundle_image": "quay.io/a/p:1", "organization": "acme"},
            "nested-bundles",
            "IIB is done processing the request and could not find nested_bundles.",
        ),
    ],
)
def test_missing_file_of_a_finished_request_is_iibs_500(
    make_client: Any, tmp_path: Any, path: str, payload: dict[str, Any], suffix: str, message: str
) -> None:
    client = make_client(
        IIB_REQUEST_RELATED_BUNDLES_DIR=str(tmp_path / "related"),
        IIB_REQUEST_RECURSIVE_RELATED_BUNDLES_DIR=str(tmp_path / "nested"),
    )
    missing = _missing(client, path, payload, suffix)
    assert (missing.status_code, missing.json()) == (500, {"error": message})
