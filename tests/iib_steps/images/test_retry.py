"""iib_steps.images.retry: only transient failures are retried; an unknown host fails at once."""

from __future__ import annotations

import pytest
import requests

from iib_steps.errors import StepError
from iib_steps.images.retry import RetryPolicy, TransientError, with_retries

POLICY = RetryPolicy(attempts=3, base_delay=0.0, max_delay=0.0)


def _counting(exc: BaseException) -> tuple[list[int], object]:
    calls: list[int] = []

    def func() -> None:
        calls.append(1)
        raise exc

    return calls, func


def test_unknown_host_is_not_retried() -> None:
    calls, func = _counting(
        requests.ConnectionError("Failed to resolve 'nosuch.invalid' ([Errno -2] Name or service not known)")
    )
    with pytest.raises(StepError, match="host name does not exist"):
        with_retries(POLICY, "GET nosuch.invalid/v2/", func)
    assert len(calls) == 1


def test_real_unknown_host_fails_once() -> None:
    session = requests.Session()
    calls: list[int] = []

    def func() -> None:
        calls.append(1)
        session.get("http://nosuch-host-for-iib-tests.invalid/v2/", timeout=5)

    with pytest.raises(StepError):
        with_retries(POLICY, "GET", func)
    assert len(calls) == 1


@pytest.mark.parametrize(
    "exc",
    [
        requests.ConnectionError("Temporary failure in name resolution"),
        requests.ConnectionError("Connection refused"),
        TransientError("HTTP 503"),
    ],
)
def test_transient_failures_are_retried(exc: BaseException) -> None:
    calls, func = _counting(exc)
    with pytest.raises(StepError, match="after 3 attempts"):
        with_retries(POLICY, "GET", func)
    assert len(calls) == 3
