"""A thin client for the OCI distribution API (registry v2) on ``requests``.

It speaks exactly what index builds need: manifests by tag or digest, blob existence, streamed
download, monolithic or chunked upload, cross-repository mount, and tag listing. Authentication
answers the registry's ``WWW-Authenticate`` challenge (Basic, or Bearer tokens per scope) with
credentials from :mod:`iib_steps.images.auth`; secrets go only into request headers, never into
messages or logs. 5xx answers and dropped connections are retried (:mod:`iib_steps.images.retry`).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

import requests
import urllib3

from iib_steps.errors import StepError
from iib_steps.images.auth import AuthStore, Credentials
from iib_steps.images.manifests import ACCEPT_ALL, RawManifest, sniff_media_type
from iib_steps.images.retry import RetryPolicy, TransientError, with_retries

log = logging.getLogger(__name__)

CHUNK_SIZE = 32 * 1024 * 1024  # blobs larger than this are uploaded in PATCH chunks of this size
_READ_SIZE = 1024 * 1024
_TIMEOUT = (10, 300)  # (connect, read) seconds
_CHALLENGE_PARAM = re.compile(r'(\w+)\s*=\s*(?:"([^"]*)"|([^\s,]*))')


class RegistryError(StepError):
    """A registry answered with an error; ``status`` is the HTTP status."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def insecure_registries_from_env() -> set[str]:
    """Hosts from ``IIB_INSECURE_REGISTRIES`` (comma-separated) that skip TLS verification."""
    return {h.strip() for h in os.environ.get("IIB_INSECURE_REGISTRIES", "").split(",") if h.strip()}


@dataclass
class _HostState:
    base: str  # scheme://host
    scheme_checked: bool = False
    auth_kind: str | None = None  # None (anonymous so far), "basic" or "bearer"
    realm: str | None = None
    service: str | None = None


def _parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    kind, _, rest = header.strip().partition(" ")
    params = {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
        for m in _CHALLENGE_PARAM.finditer(rest)
    }
    return kind.lower(), params


def _error_text(resp: requests.Response) -> str:
    """``404 MANIFEST_UNKNOWN: manifest unknown`` from a registry error body, else the status line."""
    text = f"{resp.status_code} {resp.reason or ''}".strip()
    try:
        errors = resp.json().get("errors") or []
    except (ValueError, AttributeError):
        return text
    parts = []
    for err in errors[:3]:
        if isinstance(err, dict):
            parts.append(f"{err.get('code', '')}: {err.get('message', '')}".strip(": "))
    return f"{resp.status_code} " + "; ".join(parts) if parts else text


class RegistryClient:
    """One client for any number of registries; safe to share between threads."""

    def __init__(
        self,
        auth: AuthStore | None = None,
        insecure: Iterable[str] | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.auth = auth if auth is not None else AuthStore.from_env()
        self.insecure = set(insecure) if insecure is not None else insecure_registries_from_env()
        self.retry = retry or RetryPolicy.from_env()
        self._hosts: dict[str, _HostState] = {}
        self._tokens: dict[tuple[str, str], str] = {}
        self._token_locks: dict[tuple[str, str], threading.Lock] = {}
        self._lock = threading.Lock()
        self._local = threading.local()
        self.bytes_uploaded = 0
        self.blobs_uploaded = 0
        self.blobs_mounted = 0

    # -- plumbing ---------------------------------------------------------------------------------

    @property
    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = "iib-tekton"
            self._local.session = session
        return session

    def _verify(self, host: str) -> bool:
        return host not in self.insecure

    def _host(self, host: str) -> _HostState:
        with self._lock:
            state = self._hosts.get(host)
            if state is None:
                # Docker Hub's API lives on registry-1.docker.io, not on docker.io.
                api_host = "registry-1.docker.io" if host == "docker.io" else host
                state = _HostState(base=f"https://{api_host}")
                self._hosts[host] = state
        if not state.scheme_checked:
            self._check_scheme(host, state)
        return state

    def _check_scheme(self, host: str, state: _HostState) -> None:
        """For insecure hosts, fall back from https to plain http when TLS is not spoken."""
        if host in self.insecure:
            try:
                if not self._verify(host):
                    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
                self._session.get(f"https://{host}/v2/", verify=False, timeout=(5, 30))
            except requests.exceptions.SSLError:
                state.base = f"http://{host}"
            except requests.ConnectionError:
                state.base = f"http://{host}"
        state.scheme_checked = True

    def _credentials(self, host: str, repository: str) -> Credentials | None:
        return self.auth.for_repository(host, repository)

    def _auth_header(
        self, host: str, state: _HostState, scopes: tuple[str, ...], creds: Credentials | None
    ) -> dict[str, str]:
        if state.auth_kind == "basic" and creds is not None:
            return {"Authorization": requests.auth._basic_auth_str(creds.username, creds.password)}
        if state.auth_kind == "bearer":
            key = (host, " ".join(scopes))
            token = self._tokens.get(key)
            if token is None:
                with self._lock:
                    lock = self._token_locks.setdefault(key, threading.Lock())
                with lock:  # one token request per scope, even when threads race for it
                    token = self._tokens.get(key) or self._fetch_token(host, state, scopes, creds)
            return {"Authorization": f"Bearer {token}"}
        return {}

    def _fetch_token(
        self, host: str, state: _HostState, scopes: tuple[str, ...], creds: Credentials | None
    ) -> str:
        if not state.realm:
            raise RegistryError(f"registry {host} asked for a bearer token without a realm")
        params: list[tuple[str, str]] = []
        if state.service:
            params.append(("service", state.service))
        params.extend(("scope", s) for s in scopes)
        auth = None
        if creds is not None and creds.identity_token:
            params += [("grant_type", "refresh_token"), ("refresh_token", creds.identity_token)]
        elif creds is not None:
            auth = (creds.username, creds.password)

        def get() -> requests.Response:
            resp = self._session.get(
                state.realm or "", params=params, auth=auth, timeout=_TIMEOUT, verify=self._verify(host)
            )
            if resp.status_code >= 500:
                raise TransientError(_error_text(resp))
            return resp

        resp = with_retries(self.retry, f"getting a token for {host}", get)
        if resp.status_code != 200:
            raise RegistryError(
                f"authentication to {host} failed: token service answered {_error_text(resp)}",
                resp.status_code,
            )
        try:
            body = resp.json()
            token = body.get("token") or body.get("access_token")
        except ValueError:
            token = None
        if not token:
            raise RegistryError(f"authentication to {host} failed: the token service returned no token")
        self._tokens[(host, " ".join(scopes))] = token
        return str(token)

    def request(
        self,
        method: str,
        host: str,
        path: str,
        *,
        repository: str,
        scopes: tuple[str, ...],
        ok: tuple[int, ...],
        what: str,
        headers: dict[str, str] | None = None,
        data: Callable[[], Any] | None = None,
        params: dict[str, str] | None = None,
        stream: bool = False,
        retry: bool = True,
        absolute_url: str | None = None,
    ) -> requests.Response:
        """Send one API request, answering auth challenges; return a response whose status is in ``ok``.

        ``data`` is a factory so that a retried request sends its body again from the start.
        404 is returned to the caller when listed in ``ok``; other 4xx raise ``RegistryError``;
        5xx and connection failures are retried (unless ``retry`` is false: then they raise
        ``TransientError`` for an outer retry loop).
        """
        state = self._host(host)
        creds = self._credentials(host, repository)

        def once() -> requests.Response:
            url = absolute_url or f"{state.base}{path}"
            if absolute_url and absolute_url.startswith("/"):
                url = f"{state.base}{absolute_url}"
            # Credentials go only to the registry itself, never to another host a Location names.
            same_host = urllib.parse.urlsplit(url).netloc == urllib.parse.urlsplit(state.base).netloc
            for _ in range(2):
                hdrs = dict(headers or {})
                if same_host:
                    hdrs.update(self._auth_header(host, state, scopes, creds))
                resp = self._session.request(
                    method,
                    url,
                    headers=hdrs,
                    data=data() if data is not None else None,
                    params=params,
                    stream=stream,
                    timeout=_TIMEOUT,
                    verify=self._verify(host),
                    allow_redirects=True,
                )
                sent = hdrs.get("Authorization")
                if resp.status_code == 401 and self._learn_challenge(host, state, resp, scopes, creds, sent):
                    resp.close()
                    continue
                break
            if resp.status_code >= 500:
                text = _error_text(resp)
                resp.close()
                raise TransientError(f"{method} {url}: {text}")
            if resp.status_code in ok:
                return resp
            text = _error_text(resp)
            resp.close()
            if resp.status_code in (401, 403):
                hint = "" if creds else " (no credentials configured for it)"
                raise RegistryError(f"{what}: access denied by {host}{hint}: {text}", resp.status_code)
            raise RegistryError(f"{what}: {text}", resp.status_code)

        if not retry:
            return once()
        return with_retries(self.retry, what, once)

    def _learn_challenge(
        self,
        host: str,
        state: _HostState,
        resp: requests.Response,
        scopes: tuple[str, ...],
        creds: Credentials | None,
        sent: str | None,
    ) -> bool:
        """Remember how ``host`` wants to be authenticated; True when a new attempt makes sense.

        ``sent`` is the Authorization header the refused request carried: a refused password is
        final, a refused token is dropped (expired) and fetched anew once. Another thread may have
        learnt the scheme meanwhile; a request sent without credentials then simply tries again.
        """
        kind, params = _parse_challenge(resp.headers.get("WWW-Authenticate", ""))
        key = (host, " ".join(scopes))
        if kind == "basic":
            if creds is None or (sent or "").startswith("Basic "):
                return False
            state.auth_kind = "basic"
            return True
        if kind == "bearer":
            with self._lock:
                state.auth_kind, state.realm, state.service = (
                    "bearer",
                    params.get("realm"),
                    params.get("service"),
                )
                if sent and sent.startswith("Bearer ") and self._tokens.get(key) == sent[len("Bearer ") :]:
                    self._tokens.pop(key, None)
            return True
        return False

    def _api(
        self, method: str, host: str, repository: str, tail: str, *, push: bool = False, **kwargs: Any
    ) -> requests.Response:
        """:meth:`request` of ``/v2/<repository>/<tail>`` with that repository's pull (or push) scope."""
        scope = f"repository:{repository}:{'pull,push' if push else 'pull'}"
        return self.request(
            method, host, f"/v2/{repository}/{tail}", repository=repository, scopes=(scope,), **kwargs
        )

    # -- manifests --------------------------------------------------------------------------------

    def get_manifest(self, host: str, repository: str, reference: str) -> RawManifest:
        """The manifest (or index) at ``reference`` (tag or digest), verified against a digest."""
        resp = self._api(
            "GET",
            host,
            repository,
            f"manifests/{reference}",
            ok=(200,),
            what=f"reading the manifest of {host}/{repository}:{reference}",
            headers={"Accept": ACCEPT_ALL},
        )
        data = resp.content
        media_type = sniff_media_type(data, resp.headers.get("Content-Type"))
        raw = RawManifest(data, media_type)
        if reference.startswith("sha256:") and raw.digest != reference:
            raise StepError(f"the manifest of {host}/{repository}@{reference} does not match its digest")
        return raw

    def manifest_exists(self, host: str, repository: str, reference: str) -> bool:
        resp = self._api(
            "HEAD",
            host,
            repository,
            f"manifests/{reference}",
            ok=(200, 404),
            what=f"checking the manifest {host}/{repository}:{reference}",
            headers={"Accept": ACCEPT_ALL},
        )
        return resp.status_code == 200

    def put_manifest(self, host: str, repository: str, reference: str, manifest: RawManifest) -> str:
        """Store ``manifest`` under ``reference`` (a tag, or its own digest); return its digest."""
        self._api(
            "PUT",
            host,
            repository,
            f"manifests/{reference}",
            push=True,
            ok=(200, 201, 202),
            what=f"pushing the manifest {host}/{repository}:{reference}",
            headers={"Content-Type": manifest.media_type},
            data=lambda: manifest.data,
        )
        return manifest.digest

    def list_tags(self, host: str, repository: str) -> list[str]:
        resp = self._api(
            "GET",
            host,
            repository,
            "tags/list",
            ok=(200, 404),
            what=f"listing the tags of {host}/{repository}",
        )
        if resp.status_code == 404:
            return []
        return sorted(resp.json().get("tags") or [])

    # -- blobs ------------------------------------------------------------------------------------

    def blob_exists(self, host: str, repository: str, digest: str) -> bool:
        resp = self._api(
            "HEAD",
            host,
            repository,
            f"blobs/{digest}",
            ok=(200, 404),
            what=f"checking the blob {digest} in {host}/{repository}",
        )
        return resp.status_code == 200

    def get_blob_bytes(self, host: str, repository: str, digest: str) -> bytes:
        """A small blob (a config) in memory, verified against its digest."""
        resp = self._api(
            "GET",
            host,
            repository,
            f"blobs/{digest}",
            ok=(200,),
            what=f"reading the blob {digest} of {host}/{repository}",
        )
        data = resp.content
        if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
            raise StepError(f"the blob {digest} of {host}/{repository} does not match its digest")
        return data

    def download_blob(self, host: str, repository: str, digest: str, out: BinaryIO) -> int:
        """Stream a blob into ``out`` (rewound on each retry), verifying its digest; return its size."""

        def once() -> int:
            out.seek(0)
            out.truncate()
            hasher = hashlib.sha256()
            size = 0
            resp = self._api(
                "GET",
                host,
                repository,
                f"blobs/{digest}",
                ok=(200,),
                what=f"downloading the blob {digest} of {host}/{repository}",
                stream=True,
                retry=False,
            )
            with resp:
                for chunk in resp.iter_content(_READ_SIZE):
                    hasher.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
            if "sha256:" + hasher.hexdigest() != digest:
                raise TransientError(f"the blob {digest} arrived corrupted or cut short")
            return size

        return with_retries(self.retry, f"downloading the blob {digest} of {host}/{repository}", once)

    def mount_blob(self, host: str, repository: str, digest: str, from_repository: str) -> bool:
        """Ask the registry to link ``digest`` from another repository; False if it would not."""
        resp = self.request(
            "POST",
            host,
            f"/v2/{repository}/blobs/uploads/",
            repository=repository,
            scopes=(f"repository:{repository}:pull,push", f"repository:{from_repository}:pull"),
            ok=(201, 202),
            what=f"mounting the blob {digest} into {host}/{repository}",
            params={"mount": digest, "from": from_repository},
        )
        if resp.status_code == 201:
            with self._lock:
                self.blobs_mounted += 1
            return True
        # 202: the registry opened an upload session instead; abandon it.
        location = resp.headers.get("Location")
        if location:
            with contextlib.suppress(StepError, TransientError, requests.RequestException):
                self.request(
                    "DELETE",
                    host,
                    "",
                    repository=repository,
                    scopes=(f"repository:{repository}:pull,push",),
                    ok=(200, 202, 204, 404),
                    what="cancelling an upload",
                    absolute_url=location,
                    retry=False,
                )
        return False

    def upload_blob(
        self, host: str, repository: str, digest: str, size: int, opener: Callable[[], IO[bytes]]
    ) -> None:
        """Upload a blob whose bytes ``opener()`` yields from the start; chunked when large.

        The whole upload restarts (a new session) on a transient failure, a bounded number of times.
        """
        scopes = (f"repository:{repository}:pull,push",)
        what = f"uploading the blob {digest} to {host}/{repository}"

        def once() -> None:
            resp = self.request(
                "POST", host, f"/v2/{repository}/blobs/uploads/", repository=repository, scopes=scopes,
                ok=(202,), what=what, retry=False,
            )  # fmt: skip
            location = resp.headers.get("Location") or ""
            with opener() as source:
                if size <= CHUNK_SIZE:
                    body = source.read()
                    self._finish_upload(host, repository, location, digest, body, scopes, what)
                    return
                offset = 0
                while offset < size:
                    chunk = source.read(CHUNK_SIZE)
                    if not chunk:
                        raise StepError(f"{what}: the local blob is shorter than {size} bytes")
                    end = offset + len(chunk) - 1
                    resp = self.request(
                        "PATCH", host, "", repository=repository, scopes=scopes, ok=(202,), what=what,
                        absolute_url=location, data=lambda c=chunk: c, retry=False,
                        headers={"Content-Type": "application/octet-stream",
                                 "Content-Range": f"{offset}-{end}", "Content-Length": str(len(chunk))},
                    )  # fmt: skip
                    location = resp.headers.get("Location") or location
                    offset = end + 1
                self._finish_upload(host, repository, location, digest, b"", scopes, what)

        with_retries(self.retry, what, once)
        with self._lock:
            self.bytes_uploaded += size
            self.blobs_uploaded += 1

    def _finish_upload(
        self,
        host: str,
        repository: str,
        location: str,
        digest: str,
        body: bytes,
        scopes: tuple[str, ...],
        what: str,
    ) -> None:
        parts = urllib.parse.urlsplit(location)
        query = [*urllib.parse.parse_qsl(parts.query, keep_blank_values=True), ("digest", digest)]
        url = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
        self.request(
            "PUT", host, "", repository=repository, scopes=scopes, ok=(201, 204), what=what,
            absolute_url=url, data=lambda: body, retry=False,
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(len(body))},
        )  # fmt: skip


def file_opener(path: Path) -> Callable[[], IO[bytes]]:
    return lambda: open(path, "rb")


def iter_file(path: Path, size: int = _READ_SIZE) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(size):
            yield chunk
