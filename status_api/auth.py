"""Who is calling: a trusted proxy header (IIB's REMOTE_USER), a bearer token, or a Kubernetes ServiceAccount.

Reads are open. POST needs a user; PATCH and recording need a worker (a user named in
``IIB_WORKER_USERNAMES``). With ``LOGIN_DISABLED`` nobody is asked and the user is null.
"""

from __future__ import annotations

import hmac
import logging
from typing import Protocol

from status_api.errors import UNAUTHORIZED_TEXT, Forbidden, Unauthorized, ValidationError
from status_api.settings import Settings

log = logging.getLogger(__name__)

MAX_USERNAME = 255  # users.username


def header_text(value: str) -> str:
    """A header value as the proxy meant it: ASGI hands over its bytes as Latin-1, proxies send UTF-8."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


class TokenReviewer(Protocol):
    """Answers who a bearer token belongs to, or None when it is not valid."""

    def review(self, token: str) -> str | None: ...


class KubernetesTokenReviewer:
    """Checks tokens with the Kubernetes TokenReview API (in-cluster or kubeconfig credentials)."""

    def __init__(self, api_client: object | None = None) -> None:
        from kubernetes import client, config

        if api_client is None:
            try:
                config.load_incluster_config()
            except config.ConfigException:
                config.load_kube_config()
        self._api = client.AuthenticationV1Api(api_client)
        self._client = client

    def review(self, token: str) -> str | None:
        body = self._client.V1TokenReview(spec=self._client.V1TokenReviewSpec(token=token))
        try:
            result = self._api.create_token_review(body)
        except Exception as exc:  # the cluster is unreachable: the caller is simply not authenticated
            log.warning("TokenReview failed: %s", exc)
            return None
        status = result.status
        if status and status.authenticated and status.user:
            return status.user.username
        return None


class Authenticator:
    """Resolves the user of a request from its headers."""

    def __init__(self, settings: Settings, reviewer: TokenReviewer | None = None) -> None:
        self.settings = settings
        self.reviewer = reviewer
        if reviewer is None and settings.IIB_KUBERNETES_TOKEN_REVIEW:
            self.reviewer = KubernetesTokenReviewer()

    def identify(self, headers: dict[str, str] | object) -> str | None:
        """The username, or None when the request carries no valid identity."""
        get = headers.get  # type: ignore[attr-defined]
        if self.settings.IIB_REMOTE_USER_HEADER:
            user = get(self.settings.IIB_REMOTE_USER_HEADER)
            if user:
                return header_text(user)
        authorization = get("authorization") or ""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        token = token.strip()
        for known, username in self.settings.IIB_API_TOKENS.items():
            if hmac.compare_digest(known.encode(), token.encode()):
                return username
        if self.reviewer is not None:
            return self.reviewer.review(token)
        return None

    def require_user(self, headers: object) -> str | None:
        """The user for a POST; None when login is disabled. Raises Unauthorized."""
        if self.settings.LOGIN_DISABLED:
            return None
        user = self.identify(headers)
        if not user:
            raise Unauthorized(UNAUTHORIZED_TEXT)
        if len(user) > MAX_USERNAME or "\x00" in user:  # what the users table can store
            raise ValidationError(
                f"The user name must be at most {MAX_USERNAME} characters long and must not contain NUL"
            )
        return user

    def require_worker(self, headers: object) -> str | None:
        """The worker for a PATCH or a recording; None when login is disabled."""
        if self.settings.LOGIN_DISABLED:
            return None
        user = self.require_user(headers)
        if user not in self.settings.IIB_WORKER_USERNAMES:
            raise Forbidden("This API endpoint is restricted to IIB workers")
        return user
