"""Registry credentials: Docker ``config.json`` and per-request overrides, never logged.

Lookup follows containers/image: the most specific key wins among ``host/ns/repo``,
``host/ns``, ``host`` (keys may carry ``https://`` and, for Docker Hub, ``index.docker.io/v1/``).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from iib_steps.errors import StepError


@dataclass(frozen=True)
class Credentials:
    """A user name and a secret (password or token). ``repr`` never shows the secret."""

    username: str
    password: str = field(repr=False)
    identity_token: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, password=***)"


def default_auth_file() -> Path | None:
    """``REGISTRY_AUTH_FILE`` if set, else ``~/.docker/config.json`` when it exists."""
    env = os.environ.get("REGISTRY_AUTH_FILE")
    if env:
        return Path(env)
    # An empty DOCKER_CONFIG (an unbound optional Tekton workspace) counts as unset.
    home = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "config.json"
    return home if home.exists() else None


def _normalise_key(key: str) -> str:
    for prefix in ("https://", "http://"):
        if key.startswith(prefix):
            key = key[len(prefix) :]
    key = key.rstrip("/")
    if key in ("index.docker.io/v1", "index.docker.io", "registry-1.docker.io"):
        key = "docker.io"
    return key


def _decode(entry: Mapping[str, object], key: str) -> Credentials | None:
    token = entry.get("identitytoken")
    if entry.get("auth"):
        try:
            raw = base64.b64decode(str(entry["auth"])).decode()
        except (ValueError, UnicodeDecodeError):
            raise StepError(f"the auth entry for {key!r} in the registry auth file is not base64") from None
        user, sep, secret = raw.partition(":")
        if not sep:
            raise StepError(f"the auth entry for {key!r} in the registry auth file is not user:password")
        return Credentials(user, secret, str(token) if token else None)
    if entry.get("username"):
        return Credentials(
            str(entry["username"]), str(entry.get("password", "")), str(token) if token else None
        )
    if token:
        return Credentials("<token>", "", str(token))
    return None


class AuthStore:
    """Credentials by registry scope, from an auth file plus per-request overrides."""

    def __init__(self, entries: Mapping[str, Credentials] | None = None) -> None:
        self._entries: dict[str, Credentials] = {}
        for key, creds in (entries or {}).items():
            self.add(key, creds)

    @classmethod
    def from_file(cls, path: Path | None) -> AuthStore:
        """Read a Docker/containers ``config.json``; ``None`` gives an empty store."""
        store = cls()
        if path is None:
            return store
        try:
            doc = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise StepError(f"registry auth file {path} does not exist") from None
        except (OSError, ValueError) as exc:
            raise StepError(f"cannot read registry auth file {path}: {exc}") from None
        auths = doc.get("auths") if isinstance(doc, dict) else None
        for key, entry in (auths or {}).items():
            if isinstance(entry, dict):
                creds = _decode(entry, key)
                if creds is not None:
                    store.add(key, creds)
        return store

    @classmethod
    def from_env(cls) -> AuthStore:
        return cls.from_file(default_auth_file())

    def add(self, scope: str, creds: Credentials) -> None:
        """Use ``creds`` for ``scope`` (``host``, ``host/ns`` or ``host/ns/repo``), overriding the file."""
        self._entries[_normalise_key(scope)] = creds

    def for_repository(self, registry: str, repository: str) -> Credentials | None:
        """The most specific credentials for ``registry/repository``."""
        parts = repository.split("/")
        for n in range(len(parts), -1, -1):
            key = "/".join([registry, *parts[:n]])
            if key in self._entries:
                return self._entries[key]
        return None
