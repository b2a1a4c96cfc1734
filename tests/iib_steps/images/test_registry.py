"""The registry client against real registries: htpasswd auth, Bearer tokens, and injected faults."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest

from iib_steps.errors import StepError
from iib_steps.images import AuthStore, Credentials, build_index_image, copy_image, resolve_image
from iib_steps.images import manifests as mt
from iib_steps.images.manifests import RawManifest
from iib_steps.images.registry import RegistryClient, RegistryError
from iib_steps.images.retry import RetryPolicy
from tests.fixtures.registry import PASSWORD, USER, skopeo
from tests.iib_steps.images.conftest import client_for, make_binary_image, make_catalog


def test_htpasswd_registry_with_auth_file(auth_registry, tmp_path, monkeypatch):
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(auth_registry.auth_file))
    client = client_for(auth_registry.host, auth=AuthStore.from_env())
    binary = auth_registry.ref("ns/opm:v1")
    make_binary_image(binary, tmp_path / "bin", client, arches=("amd64", "arm64"))
    dest = auth_registry.ref("ns/index:v4.19")
    result = build_index_image(binary, make_catalog(tmp_path / "c"), [dest], client=client)
    raw = skopeo(
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--authfile",
        str(auth_registry.auth_file),
        f"docker://{dest}",
    )
    assert RawManifest(raw.encode(), "").digest == result.digest
    assert result.blobs["mounted"] == 3  # base + two opm layers, from ns/opm into ns/index


def test_htpasswd_registry_without_credentials_is_one_clear_error(auth_registry):
    client = client_for(auth_registry.host)
    with pytest.raises(RegistryError) as info:
        resolve_image(auth_registry.ref("ns/opm:v1"), client=client)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"reading the manifest of {auth_registry.host}/ns/opm:v1: access denied by")
    assert "no credentials configured" in message
    assert info.value.status == 401


def test_wrong_password_never_shows_the_secret(auth_registry, caplog):
    caplog.set_level(logging.DEBUG)
    client = client_for(
        auth_registry.host, auth=AuthStore({auth_registry.host: Credentials(USER, "wrong-pass-xyz")})
    )
    with pytest.raises(RegistryError) as info:
        resolve_image(auth_registry.ref("ns/opm:v1"), client=client)
    assert "wrong-pass-xyz" not in str(info.value)
    assert "wrong-pass-xyz" not in caplog.text
    assert "wrong-pass-xyz" not in repr(client.auth.for_repository(auth_registry.host, "ns/opm"))


def test_per_repository_credentials_win_over_registry_wide(auth_registry, tmp_path):
    store = AuthStore({auth_registry.host: Credentials(USER, "wrong")})
    store.add(f"{auth_registry.host}/ns/opm", Credentials(USER, PASSWORD))
    client = client_for(auth_registry.host, auth=store)
    assert resolve_image(auth_registry.ref("ns/opm:v1"), client=client).digest.startswith("sha256:")


def test_bearer_token_challenge(fault_proxy, registry, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    plain = client_for(registry.host)
    make_binary_image(registry.ref("bearer/opm:v1"), tmp_path / "bin", plain, arches=("amd64",))
    fault_proxy.require_bearer()
    client = client_for(fault_proxy.host, auth=AuthStore({fault_proxy.host: Credentials(USER, PASSWORD)}))
    result = build_index_image(
        f"{fault_proxy.host}/bearer/opm:v1",
        make_catalog(tmp_path / "c"),
        [f"{fault_proxy.host}/bearer/index:1"],
        client=client,
    )
    assert resolve_image(registry.ref("bearer/index:1"), client=plain).digest == result.digest
    scopes = " ".join(fault_proxy.state.token_requests)
    assert "scope=repository%3Abearer%2Findex%3Apull%2Cpush" in scopes
    assert "scope=repository%3Abearer%2Fopm%3Apull" in scopes  # the mount asked to read the source
    assert fault_proxy.state.tokens_issued <= 4  # tokens are cached per scope, not fetched per request
    assert PASSWORD not in caplog.text

    # an expired token is replaced once, transparently
    fault_proxy.expire_tokens()
    issued = fault_proxy.state.tokens_issued
    assert resolve_image(f"{fault_proxy.host}/bearer/index:1", client=client).digest == result.digest
    assert fault_proxy.state.tokens_issued == issued + 1

    anonymous = client_for(fault_proxy.host)
    with pytest.raises(RegistryError, match="token service answered 401"):
        resolve_image(f"{fault_proxy.host}/bearer/index:1", client=anonymous)


# -- faults -------------------------------------------------------------------------------------


def _push_sample(registry, tmp_path, name="faulty/opm:v1", arches=("amd64", "arm64")):
    make_binary_image(registry.ref(name), tmp_path / "bin", client_for(registry.host), arches=arches)


def test_5xx_is_retried_then_succeeds(fault_proxy, registry, tmp_path):
    _push_sample(registry, tmp_path)
    fault_proxy.fail("GET", r"/v2/faulty/opm/manifests/v1$", 503, times=2)
    client = client_for(fault_proxy.host, attempts=3)
    resolved = resolve_image(f"{fault_proxy.host}/faulty/opm:v1", client=client)
    gets = [entry for entry in fault_proxy.log if entry[0] == "GET" and entry[1].endswith("/manifests/v1")]
    assert [outcome for _, _, outcome in gets] == [503, 503, 200]
    assert (
        resolved.digest
        == resolve_image(registry.ref("faulty/opm:v1"), client=client_for(registry.host)).digest
    )


def test_5xx_and_drops_are_bounded_then_one_clear_error(fault_proxy, registry, tmp_path):
    _push_sample(registry, tmp_path)
    client = client_for(fault_proxy.host, attempts=3)
    fault_proxy.fail("GET", r"/manifests/v1$", 502)
    with pytest.raises(StepError) as info:
        resolve_image(f"{fault_proxy.host}/faulty/opm:v1", client=client)
    assert re.fullmatch(
        rf"reading the manifest of {re.escape(fault_proxy.host)}/faulty/opm:v1 failed after 3 attempts: "
        rf"GET http://{re.escape(fault_proxy.host)}/v2/faulty/opm/manifests/v1: 502 INJECTED: injected 502",
        str(info.value),
    )
    assert len([e for e in fault_proxy.log if e[1].endswith("/manifests/v1")]) == 3
    fault_proxy.reset()
    fault_proxy.fail("GET", r"/manifests/v1$", "drop")
    with pytest.raises(StepError, match=r"failed after 3 attempts: connection failed or dropped$"):
        resolve_image(f"{fault_proxy.host}/faulty/opm:v1", client=client)
    assert len([e for e in fault_proxy.log if e[1].endswith("/manifests/v1")]) == 3


def test_4xx_is_not_retried(fault_proxy, registry, tmp_path):
    _push_sample(registry, tmp_path)
    client = client_for(fault_proxy.host, attempts=5)
    fault_proxy.fail("GET", r"/manifests/v1$", 400)
    with pytest.raises(RegistryError, match=r"400 INJECTED: injected 400$"):
        resolve_image(f"{fault_proxy.host}/faulty/opm:v1", client=client)
    assert len([e for e in fault_proxy.log if e[1].endswith("/manifests/v1")]) == 1
    with pytest.raises(RegistryError, match="404 MANIFEST_UNKNOWN"):
        resolve_image(f"{fault_proxy.host}/faulty/opm:nope", client=client)
    assert len([e for e in fault_proxy.log if e[1].endswith("/manifests/nope")]) == 1


def test_upload_survives_dropped_connections_and_5xx(fault_proxy, registry, tmp_path):
    _push_sample(registry, tmp_path)
    client = client_for(fault_proxy.host, attempts=4)
    fault_proxy.fail("PUT", r"/blobs/uploads/", "drop", times=1)
    fault_proxy.fail("POST", r"/blobs/uploads/$", 500, times=1)
    fault_proxy.fail("HEAD", r"/blobs/", 503, times=1)
    result = build_index_image(
        f"{fault_proxy.host}/faulty/opm:v1",
        make_catalog(tmp_path / "c"),
        [f"{fault_proxy.host}/faulty/index:1"],
        client=client,
    )
    outcomes = {o for _, _, o in fault_proxy.log}
    assert {"drop", 500, 503} <= outcomes
    assert (
        resolve_image(registry.ref("faulty/index:1"), client=client_for(registry.host)).digest
        == result.digest
    )


def test_no_tag_moves_before_every_manifest_is_pushed(fault_proxy, registry, tmp_path):
    _push_sample(registry, tmp_path, arches=("amd64", "arm64", "s390x"))
    direct = client_for(registry.host)
    client = client_for(fault_proxy.host, attempts=2)
    binary = f"{fault_proxy.host}/faulty/opm:v1"
    old = build_index_image(
        binary, make_catalog(tmp_path / "old"), [f"{fault_proxy.host}/faulty/idx:v4.19"], client=client
    )
    # order of a successful push: all manifests by digest, then the tags
    puts = [path for method, path, _ in fault_proxy.log if method == "PUT" and "/manifests/" in path]
    refs = [p.rsplit("/", 1)[1] for p in puts]
    assert refs[-1] == "v4.19" and all(r.startswith("sha256:") for r in refs[:-1]) and len(refs) == 5

    # now the arm64 manifest cannot be stored: the build fails and the tag still shows the old image
    fault_proxy.reset()
    new_catalog = make_catalog(tmp_path / "new", ("delta",))
    expected_new = build_index_image(binary, new_catalog, [f"oci:{tmp_path / 'probe'}:x"], client=client)
    fault_proxy.fail("PUT", re.escape(expected_new.arch_digests["arm64"]), 503)
    with pytest.raises(StepError, match="failed after 2 attempts"):
        build_index_image(
            binary,
            new_catalog,
            [f"{fault_proxy.host}/faulty/idx:v4.19", f"{fault_proxy.host}/faulty/idx:42"],
            client=client,
        )
    assert resolve_image(registry.ref("faulty/idx:v4.19"), client=direct).digest == old.digest
    assert "42" not in direct.list_tags(registry.host, "faulty/idx")
    assert not [
        p for m, p, _ in fault_proxy.log if m == "PUT" and p.endswith(("/manifests/v4.19", "/manifests/42"))
    ]


def test_copy_keeps_digests_and_mounts(registry, tmp_path):
    client = client_for(registry.host)
    _push_sample(registry, tmp_path, name="copy/src:v1", arches=("amd64", "arm64", "ppc64le"))
    src = resolve_image(registry.ref("copy/src:v1"), client=client)
    result = copy_image(
        registry.ref("copy/src:v1"), [registry.ref("copy/dst:a"), registry.ref("copy/dst:b")], client=client
    )
    assert result.digest == src.digest
    assert result.blobs == {"mounted": 1 + 3 + 3}  # base layer, three opm layers, three configs
    skopeo(
        "copy",
        "--all",
        "--src-tls-verify=false",
        f"docker://{registry.ref('copy/dst:b')}",
        f"oci:{tmp_path / 'sk'}:x",
    )
    for arch in ("amd64", "arm64", "ppc64le"):
        assert (
            json.loads(skopeo("inspect", "--override-arch", arch, f"oci:{tmp_path / 'sk'}:x"))["Architecture"]
            == arch
        )
        info = json.loads(
            skopeo(
                "inspect",
                "--tls-verify=false",
                "--override-arch",
                arch,
                f"docker://{registry.ref('copy/dst:b')}",
            )
        )
        assert info["Architecture"] == arch and info["Digest"] == src.digest
    # to an OCI layout (OCI media types, as skopeo writes them) and back into another repository
    layout = f"oci:{tmp_path / 'copy-layout'}:v1"
    to_layout = copy_image(registry.ref("copy/dst:a"), [layout], client=client)
    layout_digest = to_layout.pull_specs[0].rsplit("@", 1)[1]
    raw = json.loads(skopeo("inspect", "--raw", layout))
    assert raw["mediaType"] == "application/vnd.oci.image.index.v1+json"
    assert [m["platform"]["architecture"] for m in raw["manifests"]] == ["amd64", "arm64", "ppc64le"]
    for arch in ("amd64", "arm64", "ppc64le"):
        assert json.loads(skopeo("inspect", "--override-arch", arch, layout))["Architecture"] == arch
    back = copy_image(layout, [registry.ref("copy/back:v1")], client=client)
    assert back.digest == layout_digest
    assert back.blobs == {"copied": 7}


def test_chunked_upload_restarts_after_a_dropped_chunk(fault_proxy, registry, tmp_path, monkeypatch):
    from iib_steps.images import registry as registry_module

    monkeypatch.setattr(registry_module, "CHUNK_SIZE", 4096)
    client = client_for(fault_proxy.host, attempts=3)
    data = bytes(range(256)) * 100  # 25600 bytes: seven PATCH chunks
    digest = mt.sha256_digest(data)
    fault_proxy.fail("PATCH", r"/blobs/uploads/", "drop", times=1)
    client.upload_blob(fault_proxy.host, "chunked/blob", digest, len(data), lambda: io.BytesIO(data))
    patches = [outcome for method, _, outcome in fault_proxy.log if method == "PATCH"]
    assert patches[0] == "drop" and patches[1:] == [202] * 7
    assert client_for(registry.host).get_blob_bytes(registry.host, "chunked/blob", digest) == data
    assert client.bytes_uploaded == len(data)


def test_build_across_registries_copies_the_binary_layers(registry, auth_registry, tmp_path):
    auth = AuthStore({auth_registry.host: Credentials(USER, PASSWORD)})
    client = client_for(registry.host, auth_registry.host, auth=auth)
    _push_sample(registry, tmp_path, name="cross/opm:v1", arches=("amd64", "arm64"))
    dest = auth_registry.ref("cross/index:1")
    result = build_index_image(
        registry.ref("cross/opm:v1"), make_catalog(tmp_path / "c"), [dest], client=client
    )
    assert result.blobs == {"copied": 3, "uploaded": 4}  # base + 2 opm layers; whiteout, catalog, 2 configs
    for arch in ("amd64", "arm64"):
        info = json.loads(
            skopeo(
                "inspect",
                "--tls-verify=false",
                "--creds",
                f"{USER}:{PASSWORD}",
                "--override-arch",
                arch,
                f"docker://{dest}",
            )
        )
        assert info["Architecture"] == arch


def test_tls_failure_is_not_retried_and_says_what_to_do(tmp_path):
    import shutil
    import socket
    import ssl
    import subprocess
    import threading

    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a self-signed certificate")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-keyout", str(tmp_path / "k.pem"), "-out", str(tmp_path / "c.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "c.pem", tmp_path / "k.pem")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted = []

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            accepted.append(1)
            try:
                context.wrap_socket(conn, server_side=True).close()
            except (ssl.SSLError, OSError):
                conn.close()

    threading.Thread(target=serve, daemon=True).start()
    host = f"127.0.0.1:{server.getsockname()[1]}"
    client = RegistryClient(auth=AuthStore(), insecure=(), retry=RetryPolicy(4, 0.01, 0.01))
    try:
        with pytest.raises(StepError) as info:
            resolve_image(f"{host}/a/b:1", client=client)
    finally:
        server.close()
    assert "TLS verification failed" in str(info.value) and "IIB_INSECURE_REGISTRIES" in str(info.value)
    assert len(accepted) == 1
