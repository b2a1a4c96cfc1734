"""Concurrent writers on a real PostgreSQL: PATCH races, many POSTs at once, get-or-create of rows."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from status_api import builds
from status_api.db import connect, upgrade
from status_api.errors import ValidationError
from status_api.models import images, operators, request_states, requests, users
from status_api.settings import load_settings
from status_api.validation import Context, validate_add, validate_rm

THREADS = 16


@pytest.fixture
def pg(postgres_server: Any) -> Any:
    url = postgres_server.new_database("race")
    upgrade(url)
    db = connect(url, pool_size=THREADS)
    yield db
    db.dispose()


def _all_at_once(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run the jobs in threads released together; returns each result or the exception raised."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = jobs[index]()
        except Exception as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def _rm(index: str = "quay.io/race/index:1") -> Any:
    settings = load_settings({}, IIB_BINARY_IMAGE_CONFIG={"prod": {"v4": "b:1"}})
    return validate_rm(Context(settings, authenticated=True), {"from_index": index, "operators": ["etcd"]})


def test_many_posts_share_one_user_and_one_image(pg: Any) -> None:
    results = _all_at_once([lambda: builds.create_requests(pg, [_rm()], "carol") for _ in range(THREADS)])
    assert all(isinstance(r, list) for r in results), results
    with pg.read() as conn:
        assert conn.execute(select(func.count()).select_from(requests)).scalar() == THREADS
        assert conn.execute(select(func.count()).select_from(users)).scalar() == 1
        assert conn.execute(select(func.count()).select_from(images)).scalar() == 1
        batches = conn.execute(select(func.count(func.distinct(requests.c.batch_id)))).scalar()
    assert batches == THREADS


def test_two_final_patches_of_one_request(pg: Any) -> None:
    for _ in range(5):
        (request_id,) = builds.create_requests(pg, [_rm()], "carol")
        results = _all_at_once(
            [
                lambda i=request_id: builds.patch_request(
                    pg, i, {"state": "complete", "state_reason": "done"}
                ),
                lambda i=request_id: builds.patch_request(
                    pg, i, {"state": "failed", "state_reason": "broke"}
                ),
            ]
        )
        errors = [r for r in results if isinstance(r, Exception)]
        assert len(errors) == 1 and isinstance(errors[0], ValidationError), results
        assert errors[0].message in (
            "A complete request cannot change states",
            "A failed request cannot change states",
        )
        with pg.read() as conn:
            history = conn.execute(
                select(func.count())
                .select_from(request_states)
                .where(request_states.c.request_id == request_id)
            ).scalar()
        assert history == 2  # initiated + exactly one final state


def test_concurrent_patches_lose_no_update(pg: Any) -> None:
    (request_id,) = builds.create_requests(pg, [_rm()], "carol")
    arches = [f"arch{i}" for i in range(THREADS)]
    results = _all_at_once(
        [lambda arch=arch: builds.patch_request(pg, request_id, {"arches": [arch]}) for arch in arches]
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    body = builds.get_request(pg, request_id, load_settings({}), "http://x")
    assert body["arches"] == sorted(arches)


def test_concurrent_patches_get_or_create_images_and_operators(pg: Any) -> None:
    settings = load_settings({}, IIB_BINARY_IMAGE_CONFIG={"prod": {"v4": "b:1"}})
    add = validate_add(
        Context(settings, authenticated=True),
        {"bundles": ["quay.io/race/etcd-bundle:1"], "add_arches": ["amd64"]},
    )
    ids = [builds.create_requests(pg, [add], f"user{i}")[0] for i in range(THREADS)]
    patch = {
        "index_image": "quay.io/race/out:1",
        "bundle_mapping": {"etcd": ["quay.io/race/etcd-bundle:1", "quay.io/race/etcd-bundle:2"]},
    }
    results = _all_at_once([lambda i=i: builds.patch_request(pg, i, patch) for i in ids])
    assert not [r for r in results if isinstance(r, Exception)], results
    with pg.read() as conn:
        specs = [row[0] for row in conn.execute(select(images.c.pull_specification).order_by(images.c.id))]
        assert sorted(specs) == sorted(
            {"quay.io/race/out:1", "quay.io/race/etcd-bundle:1", "quay.io/race/etcd-bundle:2"}
        )
        assert conn.execute(select(func.count()).select_from(operators)).scalar() == 1
        assert conn.execute(select(func.count()).select_from(users)).scalar() == THREADS


def test_many_http_posts_at_once_on_two_server_processes(postgres_server: Any) -> None:
    import requests as http

    from tests.status_api.server import running_api

    url = postgres_server.new_database("http")
    env = {"SQLALCHEMY_DATABASE_URI": url, "LOGIN_DISABLED": "true", "IIB_BINARY_IMAGE_CONFIG": '{"p": {}}'}
    with running_api(env, workers=2) as base:
        body = {"from_index": "quay.io/race/http-index:1", "operators": ["etcd"]}
        results = _all_at_once(
            [lambda: http.post(f"{base}/api/v1/builds/rm", json=body, timeout=30) for _ in range(THREADS)]
        )
        assert [r.status_code for r in results] == [201] * THREADS, [getattr(r, "text", r) for r in results]
        ids = sorted(r.json()["id"] for r in results)
        assert ids == list(range(1, THREADS + 1))
        listed = http.get(
            f"{base}/api/v1/builds", params={"from_index": body["from_index"]}, timeout=30
        ).json()
        assert listed["meta"]["total"] == THREADS
