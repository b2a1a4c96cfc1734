"""Bounded retries with exponential backoff, for transient registry failures only.

Retried: connection errors (refused, reset, dropped mid-body, timeouts), a temporary DNS failure and
HTTP 5xx answers. Never retried: 4xx answers (bad request, auth, not found) and a host name that does
not exist — those are the caller's to report, at once.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import requests

from iib_steps.errors import StepError
from iib_steps.transient import unknown_host

log = logging.getLogger(__name__)
T = TypeVar("T")


class TransientError(Exception):
    """A failure worth retrying (5xx or a dropped connection); ``str()`` says what happened."""


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` tries in all, waiting ``base_delay * 2**n`` (at most ``max_delay``) between them."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 8.0

    @classmethod
    def from_env(cls) -> RetryPolicy:
        """Defaults, overridable by ``IIB_REGISTRY_RETRIES`` and ``IIB_REGISTRY_RETRY_DELAY``."""
        attempts = int(os.environ.get("IIB_REGISTRY_RETRIES", cls.attempts))
        base = float(os.environ.get("IIB_REGISTRY_RETRY_DELAY", cls.base_delay))
        return cls(max(1, attempts), max(0.0, base), max(base, cls.max_delay))

    def delay(self, attempt: int) -> float:
        return min(self.max_delay, self.base_delay * (2**attempt))


TRANSIENT_EXCEPTIONS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    ConnectionError,
    TransientError,
)


def with_retries(policy: RetryPolicy, what: str, func: Callable[[], T]) -> T:
    """Call ``func`` until it succeeds or ``policy.attempts`` transient failures have happened.

    ``func`` raises ``TransientError`` (or a connection error) to ask for another try; anything else
    propagates at once. After the last attempt one ``StepError`` names ``what`` and the last cause.
    """
    last = ""
    for attempt in range(policy.attempts):
        try:
            return func()
        except requests.exceptions.SSLError as exc:
            reason = str(exc.args[0]) if exc.args else "TLS error"
            reason = reason.split("(Caused by ")[-1].rstrip(")") if "Caused by" in reason else reason
            raise StepError(
                f"{what} failed: TLS verification failed ({reason}); for a local registry without a "
                "trusted certificate, list its host in the insecure_registries setting or in "
                "IIB_INSECURE_REGISTRIES"
            ) from None
        except (
            requests.exceptions.InvalidURL,
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema,
        ) as exc:
            raise StepError(f"{what} failed: invalid URL: {exc}") from None
        except TRANSIENT_EXCEPTIONS as exc:
            if isinstance(exc, requests.ConnectionError) and unknown_host(exc):
                raise StepError(
                    f"{what} failed: the registry's host name does not exist; check the image reference"
                ) from None
            last = _describe(exc)
            if attempt + 1 < policy.attempts:
                wait = policy.delay(attempt)
                log.warning("%s failed (%s); retrying in %.1f s", what, last, wait)
                time.sleep(wait)
    raise StepError(f"{what} failed after {policy.attempts} attempts: {last}")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TransientError):
        return str(exc)
    if isinstance(exc, requests.ConnectionError):
        text = str(exc)
        if (
            "NameResolutionError" in text
            or "Name or service not known" in text
            or "Failed to resolve" in text
        ):
            return "cannot resolve the registry's host name"
        if "Connection refused" in text:
            return "connection refused"
        return "connection failed or dropped"
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError):
        return "connection dropped while reading the response"
    return type(exc).__name__
