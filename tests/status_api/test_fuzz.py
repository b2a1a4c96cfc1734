"""Fuzz every operation of the app's own OpenAPI document with schemathesis: no 5xx, errors are IIB JSON.

Login is disabled so that generated bodies reach the validation code of POST and PATCH. Examples per
operation are bounded (and derandomized) to keep the suite fast and repeatable.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from litestar.testing import TestClient

from status_api.app import create_app
from status_api.executors import RecordingExecutor
from tests.status_api.conftest import base_settings

EXAMPLES = 15


def _seed(app: Any) -> None:
    """One request of a few kinds, so that small generated ids hit real rows."""
    with TestClient(app) as client:
        client.post(
            "/api/v1/builds/rm", json={"from_index": "q/i:1", "operators": ["a"], "binary_image": "b:1"}
        )
        client.post("/api/v1/builds/regenerate-bundle", json={"from_bundle_image": "q/b:1"})
        client.post(
            "/api/v1/builds/add-deprecations",
            json={
                "from_index": "q/i:1",
                "operator_package": "a",
                "deprecation_schema": "{}",
                "binary_image": "b:1",
            },
        )
        client.patch("/api/v1/builds/1", json={"state": "complete", "state_reason": "done"})


def _check(case: Any) -> None:
    response = case.call()
    where = f"{case.method} {case.formatted_path} {case.query} {case.body!r}"
    assert response.status_code < 500, f"{where} -> {response.status_code}: {response.text}"
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"} and isinstance(body["error"], str), (where, body)


def test_no_server_errors_on_any_operation(db_url: str, tmp_path: Any) -> None:
    app = create_app(
        base_settings(db_url, LOGIN_DISABLED=True, IIB_REQUEST_LOGS_DIR=str(tmp_path / "logs")),
        executor=RecordingExecutor(),
    )
    _seed(app)
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: Any) -> None:
            _check(case)

        fuzz()
    app.state.ctx.db.dispose()
