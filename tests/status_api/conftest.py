"""Fixtures for the status API: a migrated database (SQLite file and real PostgreSQL) and app clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from status_api.app import create_app
from status_api.db import upgrade
from status_api.executors import RecordingExecutor
from status_api.settings import load_settings

WORKER = "worker@EXAMPLE.COM"
WORKER_TOKEN = "s3cret-worker-token"
USER_HEADER = "X-Remote-User"


def user(name: str = "alice@EXAMPLE.COM") -> dict[str, str]:
    """Headers of a request authenticated by the fronting proxy as ``name``."""
    return {USER_HEADER: name}


def worker() -> dict[str, str]:
    return {"Authorization": f"Bearer {WORKER_TOKEN}"}


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """A freshly migrated database: a SQLite file, and a database on the session's PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/iib.db"
    else:
        url = request.getfixturevalue("postgres_server").new_database("api")
    upgrade(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Any) -> str:
    url = f"sqlite:///{tmp_path}/iib.db"
    upgrade(url)
    return url


def base_settings(url: str, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "SQLALCHEMY_DATABASE_URI": url,
        "IIB_REMOTE_USER_HEADER": USER_HEADER,
        "IIB_WORKER_USERNAMES": [WORKER],
        "IIB_API_TOKENS": {WORKER_TOKEN: WORKER},
        "IIB_EXECUTOR": "none",
    }
    values.update(overrides)
    return load_settings({}, **values)


def _client_factory(url: str) -> Iterator[Callable[..., TestClient]]:
    """Yield a builder of clients of apps on ``url`` (an executor and settings overridden as given);
    afterwards close every client built and its database."""
    clients: list[TestClient] = []

    def build(executor: Any = None, **overrides: Any) -> TestClient:
        app = create_app(base_settings(url, **overrides), executor=executor or RecordingExecutor())
        client = TestClient(app, base_url="http://iib.example.com")
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)
        client.app.state.ctx.db.dispose()


@pytest.fixture
def make_client(db_url: str) -> Iterator[Callable[..., TestClient]]:
    """Build a client of an app on ``db_url`` with settings overridden as given."""
    yield from _client_factory(db_url)


@pytest.fixture
def make_sqlite_client(sqlite_url: str) -> Iterator[Callable[..., TestClient]]:
    """Build a client of an app on a migrated SQLite file with settings overridden as given."""
    yield from _client_factory(sqlite_url)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()
