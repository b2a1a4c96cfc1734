"""One client shared by parallel uploads meeting a registry with auth for the first time.

Every thread's first request goes out before anyone knows the registry wants credentials, so each
gets a 401. A thread that looks at its 401 after another thread learnt the scheme must retry with
credentials, not take it as "access denied" (the race fixed in 3c45e10); only a refused password
or token is final.
"""

from __future__ import annotations

import hashlib
import io
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from iib_steps.images import AuthStore, Credentials, copy_image
from iib_steps.images.registry import RegistryClient, RegistryError
from iib_steps.images.retry import RetryPolicy
from tests.fixtures.registry import PASSWORD, USER
from tests.iib_steps.images.conftest import client_for, make_binary_image

THREADS = 6


class _LateLearner(RegistryClient):
    """A client that holds every 401 until all threads have one, then lets one thread learn the
    challenge before the others look at theirs: the worst interleaving, every time."""

    def __init__(self, auth: AuthStore, host: str) -> None:
        super().__init__(auth=auth, insecure={host}, retry=RetryPolicy(1, 0.01, 0.01))
        self.all_refused = threading.Barrier(THREADS, timeout=20)
        self.first = threading.Lock()
        self.learnt = threading.Event()
        self.challenges = 0

    def _learn_challenge(self, *args, **kwargs) -> bool:
        with self._lock:
            self.challenges += 1
            first_round = self.challenges <= THREADS
        if not first_round:
            return super()._learn_challenge(*args, **kwargs)
        self.all_refused.wait()
        if self.first.acquire(blocking=False):
            try:
                return super()._learn_challenge(*args, **kwargs)
            finally:
                self.learnt.set()
        assert self.learnt.wait(20)
        return super()._learn_challenge(*args, **kwargs)


def _blob(tag: str) -> tuple[bytes, str]:
    data = f"blob {tag}".encode()
    return data, "sha256:" + hashlib.sha256(data).hexdigest()


def _first_contact_work(client: RegistryClient, host: str, run: str) -> list[object]:
    """Uploads (POST, then PUT to the Location), existence checks and cross-repository mounts
    (two scopes), each thread on its own repository, all starting on a fresh client."""
    mounted, mounted_digest = _blob(f"{run} mount source")
    setup = client_for(host, auth=AuthStore({host: Credentials(USER, PASSWORD)}))
    setup.upload_blob(host, f"threads/{run}/src", mounted_digest, len(mounted), lambda: io.BytesIO(mounted))

    def work(n: int) -> object:
        data, digest = _blob(f"{run} {n}")
        repo = f"threads/{run}/r{n}"
        if n % 3 == 0:
            client.upload_blob(host, repo, digest, len(data), lambda: io.BytesIO(data))
            return client.blob_exists(host, repo, digest)
        if n % 3 == 1:
            return client.blob_exists(host, repo, digest)
        return client.mount_blob(host, repo, mounted_digest, f"threads/{run}/src")

    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(work, n) for n in range(THREADS)]
        results: list[object] = []
        for future in futures:
            try:
                results.append(future.result())
            except Exception as exc:  # collected for the assertion
                results.append(exc)
    return results


def test_threads_that_learn_the_challenge_late_still_authenticate(auth_registry):
    host = auth_registry.host
    client = _LateLearner(AuthStore({host: Credentials(USER, PASSWORD)}), host)
    results = _first_contact_work(client, host, "late")
    assert client.challenges == THREADS  # one 401 each, then every retry carried the password
    assert results == [True, False, True] * (THREADS // 3)
    assert client.blobs_uploaded == 2 and client.blobs_mounted == 2


def test_threads_that_learn_a_bearer_challenge_late_still_authenticate(fault_proxy):
    fault_proxy.require_bearer()
    host = fault_proxy.host
    client = _LateLearner(AuthStore({host: Credentials(USER, PASSWORD)}), host)
    results = _first_contact_work(client, host, "bearer")
    assert client.challenges == THREADS
    assert results == [True, False, True] * (THREADS // 3)


def test_a_refused_password_fails_every_thread_at_once(auth_registry):
    host = auth_registry.host
    client = _LateLearner(AuthStore({host: Credentials(USER, "not-the-password")}), host)
    results = _first_contact_work(client, host, "refused")
    assert client.challenges == 2 * THREADS  # no more than the password's one refusal per thread
    for result in results:
        assert isinstance(result, RegistryError) and result.status == 401
        assert f"access denied by {host}: 401" in str(result)
        assert "not-the-password" not in str(result)


def test_parallel_copy_into_a_basic_auth_registry_on_first_contact(registry, auth_registry, tmp_path):
    source = registry.ref("threads/opm:v1")
    make_binary_image(source, tmp_path / "bin", client_for(registry.host))
    for i in range(5):  # a fresh client each time: no challenge learnt yet
        auth = AuthStore({auth_registry.host: Credentials(USER, PASSWORD)})
        client = client_for(registry.host, auth_registry.host, auth=auth)
        result = copy_image(source, [auth_registry.ref(f"threads/copy{i}:v1")], client=client)
        assert result.blobs == {"copied": 9}  # base, 4 opm layers, 4 configs


class _Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[str | None]

    def log_message(self, *args: object) -> None:
        return

    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.seen.append(self.headers.get("Authorization"))
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def other_host():
    seen: list[str | None] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (_Recorder,), {"seen": seen}))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def test_an_upload_location_on_another_host_gets_no_credentials(auth_registry, other_host):
    host = auth_registry.host
    address, seen = other_host
    client = client_for(host, auth=AuthStore({host: Credentials(USER, PASSWORD)}))
    assert client.blob_exists(host, "threads/elsewhere", _blob("x")[1]) is False  # basic auth learnt
    client.request(
        "PUT", host, "", repository="threads/elsewhere", scopes=(), ok=(201,), what="finishing an upload",
        absolute_url=f"http://{address}/upload?digest=sha256:0", data=lambda: b"abc",
    )  # fmt: skip
    assert seen == [None]
