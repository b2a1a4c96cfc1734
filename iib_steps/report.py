"""Report progress and the final state to the status API with IIB's PATCH contract (spec/iib.md §2.6).

A step is given the API's URL (``--status-api-url`` / ``IIB_STATUS_API_URL``, e.g.
``http://host/api/v1``) and the request id (``--request-id`` / ``IIB_REQUEST_ID``). Without both,
:class:`Reporter` only logs to stderr, so that every step also runs alone.

Retries: a 5xx answer or a broken connection is retried (``attempts`` times, exponential delay);
any 4xx is final. ``400 A complete request cannot change states`` means the request is already final
(IIB's ``FinalStateOverwriteError``): it is logged and ignored.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import requests

from iib_steps import tracing
from iib_steps.config import Secret, Settings
from iib_steps.errors import StepError
from iib_steps.transient import unknown_host

URL_ENV = "IIB_STATUS_API_URL"
REQUEST_ID_ENV = "IIB_REQUEST_ID"
FINAL_STATES = ("complete", "failed")


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Reporter:
    """PATCHes ``<url>/builds/<request_id>``; a no-op (stderr only) without a URL or request id."""

    def __init__(
        self,
        url: str | None = None,
        request_id: str | int | None = None,
        *,
        token: Secret | None = None,
        attempts: int = 5,
        delay: float = 1.0,
        multiplier: float = 2.0,
        timeout: float = 120.0,
    ) -> None:
        url = url if url is not None else os.environ.get(URL_ENV)
        request_id = request_id if request_id is not None else os.environ.get(REQUEST_ID_ENV)
        self.url = url.rstrip("/") if url else None
        self.request_id = str(request_id) if request_id not in (None, "") else None
        self._token = token
        self.attempts = max(1, attempts)
        self.delay = delay
        self.multiplier = multiplier
        self.timeout = timeout
        self._session: requests.Session | None = None
        self.sent: list[dict[str, Any]] = []  # every body sent (tests, and the request JSON file)

    @classmethod
    def for_settings(cls, url: str | None, request_id: str | int | None, settings: Settings) -> Reporter:
        """The client for ``request_id`` with the worker token, timeout and retries of ``settings``."""
        return cls(
            url,
            request_id,
            token=settings.status_api_token(),
            attempts=settings.total_attempts,
            delay=settings.retry_delay,
            multiplier=settings.retry_multiplier,
            timeout=settings.api_timeout,
        )

    @property
    def enabled(self) -> bool:
        return bool(self.url and self.request_id)

    def progress(self, reason: str, **fields: Any) -> None:
        """PATCH ``state: in_progress`` with ``reason`` (plus any other mutable fields)."""
        self.patch({"state": "in_progress", "state_reason": reason, **fields})

    def update(self, **fields: Any) -> None:
        """PATCH fields without a state change (e.g. the resolved images, arches, bundle_mapping)."""
        if fields:
            self.patch(fields)

    def complete(self, reason: str, **fields: Any) -> None:
        self.patch({**fields, "state": "complete", "state_reason": reason})

    def failed(self, reason: str) -> None:
        """PATCH ``failed``; never raises (it runs while another error is already on its way)."""
        try:
            self.patch({"state": "failed", "state_reason": reason})
        except StepError as exc:
            _log(f"could not report the failure to the status API: {exc}")

    def patch(self, body: dict[str, Any]) -> None:
        body = {k: v for k, v in body.items() if v is not None}
        if not body:
            return
        self.sent.append(body)
        if "state_reason" in body:
            _log(f"[{body.get('state', '')}] {body['state_reason']}")
        if not self.enabled:
            return
        self._send("PATCH", "", data=json.dumps(body).encode(), what="the update")

    def upload(self, artifact: str, data: bytes) -> None:
        """PUT a file of the request (``related_bundles``, ``nested-bundles``) to the status API."""
        if self.enabled:
            self._send("PUT", f"/{artifact}", data=data, what=f"the {artifact} upload")

    def _send(self, method: str, path: str, *, data: bytes, what: str) -> None:
        """One call to ``<url>/builds/<id><path>``: 5xx and dropped connections retried, 4xx final."""
        target = f"{self.url}/builds/{self.request_id}{path}"
        headers = {"Content-Type": "application/json"}
        if tracing.enabled():
            headers.update(tracing.current_headers())  # the step's span is the parent of the API's
        if self._token:
            headers["Authorization"] = f"Bearer {self._token.reveal()}"
        wait = self.delay
        last = ""
        for attempt in range(1, self.attempts + 1):
            try:
                response = self._http().request(
                    method, target, data=data, headers=headers, timeout=self.timeout
                )
            except requests.RequestException as exc:
                if unknown_host(exc):  # not transient: retrying cannot help
                    raise StepError(
                        f"cannot reach the status API at {self.url}: its host name does not exist"
                    ) from None
                last = f"cannot reach the status API at {self.url}: {type(exc).__name__}"
            else:
                if response.status_code < 400:
                    return
                message = _error_text(response)
                if response.status_code < 500:
                    if response.status_code == 400 and "cannot change states" in message:
                        _log(f"the request {self.request_id} is already final; ignoring: {message}")
                        return
                    raise StepError(
                        f"the status API refused {what} of request {self.request_id} "
                        f"({response.status_code}): {message}"
                    )
                last = f"the status API answered {response.status_code}: {message}"
            if attempt < self.attempts:
                time.sleep(wait)
                wait *= self.multiplier
        raise StepError(f"{last} (after {self.attempts} attempts)")

    def _http(self) -> requests.Session:
        if self._session is None:
            self._session = requests.Session()
        return self._session


def _error_text(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text.strip().splitlines()[0] if response.text.strip() else response.reason
    if isinstance(data, dict) and "error" in data:
        return str(data["error"])
    return str(data)
