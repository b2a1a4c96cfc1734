"""iiblib, the real IIB client, against the running API (uvicorn via the ``iib-status-api`` script)."""

from __future__ import annotations

import json
import re
import threading
from typing import Any

import pytest
import requests
from iiblib.iib_authentication import IIBAuth
from iiblib.iib_client import IIBClient
from iiblib.iib_session import IIBSession

from tests.status_api.server import running_api

TOKEN, WORKER_TOKEN = "release-pipeline-token", "worker-token"


class BearerAuth(IIBAuth):
    """iiblib's auth plug-in point, used the way IIBKrbAuth uses it: one header on the session."""

    def __init__(self, token: str) -> None:
        self.token = token

    def make_auth(self, iib_session: IIBSession) -> None:
        iib_session.session.headers["Authorization"] = f"Bearer {self.token}"


@pytest.fixture
def api(db_url: str) -> Any:
    env = {
        "SQLALCHEMY_DATABASE_URI": db_url,
        "IIB_API_TOKENS": json.dumps({TOKEN: "release@EXAMPLE.COM", WORKER_TOKEN: "worker@EXAMPLE.COM"}),
        "IIB_WORKER_USERNAMES": '["worker@EXAMPLE.COM"]',
        "IIB_BINARY_IMAGE_CONFIG": '{"prod": {"v4.17": "registry.example.com/opm:v4.17"}}',
        "LOGIN_DISABLED": "false",
    }
    with running_api(env) as base:
        yield base


@pytest.fixture
def iib(api: str, monkeypatch: pytest.MonkeyPatch) -> IIBClient:
    # iiblib hard-codes https://<host>/api/v1/; the test server speaks plain HTTP on loopback.
    monkeypatch.setattr(IIBSession, "_api_url", lambda self, endpoint: f"{api}/api/v1/{endpoint}")
    return IIBClient("127.0.0.1", auth=BearerAuth(TOKEN), poll_interval=0.1, wait_for_build_timeout=30)


def test_iiblib_submits_reads_lists_and_waits(iib: IIBClient, api: str) -> None:
    index = "registry.example.com/redhat/index:v4.17"
    add = iib.add_bundles(
        index,
        ["quay.io/ns/etcd-bundle:0.9.4"],
        ["amd64"],
        binary_image="registry.example.com/opm:1",
        build_tags=["extra"],
        check_related_images=True,
    )
    rm = iib.remove_operators(index, ["etcd"], ["amd64"])
    regen = iib.regenerate_bundle("quay.io/ns/etcd-bundle:0.9.4", organization="acme")
    empty = iib.create_empty_index(index, labels={"version": "v1"})
    deprecations = iib.add_deprecations(
        index_image=index,
        deprecation_schema=json.dumps({"schema": "olm.deprecations", "package": "etcd", "entries": []}),
        operator_package="etcd",
    )
    submitted = [add, rm, regen, empty, deprecations]
    assert [b.request_type for b in submitted] == [
        "add",
        "rm",
        "regenerate-bundle",
        "create-empty-index",
        "add-deprecations",
    ]
    assert all(b.user == "release@EXAMPLE.COM" and b.state == "in_progress" for b in submitted)
    assert add.bundles == ["quay.io/ns/etcd-bundle:0.9.4"] and add.build_tags == ["extra"]
    assert rm.removed_operators == ["etcd"]
    for build in submitted:
        fetched = iib.get_build(build.id)
        assert fetched.id == build.id and fetched.request_type == build.request_type
    pager = iib.get_builds()
    assert sorted(item.id for item in pager.items()) == sorted(b.id for b in submitted)

    # A worker finishes the add request while iiblib polls for it.
    def finish() -> None:
        requests.patch(
            f"{api}/api/v1/builds/{add.id}",
            json={
                "state": "complete",
                "state_reason": "The operator bundle(s) were successfully added",
                "index_image": "quay.io/iib/iib-build:1",
            },
            headers={"Authorization": f"Bearer {WORKER_TOKEN}"},
            timeout=10,
        ).raise_for_status()

    threading.Timer(0.3, finish).start()
    done = iib.wait_for_build(add)
    assert done.state == "complete"
    assert done.index_image == "quay.io/iib/iib-build:1"


def test_iiblib_sees_iib_errors(iib: IIBClient) -> None:
    from iiblib.iib_client import IIBException

    with pytest.raises(
        IIBException, match=re.escape("Image no-tag should have a tag or a digest specified.")
    ):
        iib.remove_operators("no-tag", ["etcd"], ["amd64"])
    anonymous = IIBClient("127.0.0.1", retries=0)
    with pytest.raises(IIBException, match="The server could not verify"):
        anonymous.regenerate_bundle("quay.io/ns/b:1")
