"""overwrite_from_index with its token on a registry with auth, and the PATCHes a command sends to
the status API (a real HTTP server on loopback)."""

from __future__ import annotations

import json

import pytest
import yaml

from iib_steps.images.copy import copy_image
from iib_steps.images.inspect import resolve_image
from tests.iib_steps.images.conftest import client_for
from tests.iib_steps.steps.conftest import World
from tests.iib_steps.steps.test_report import StatusServer

pytestmark = pytest.mark.slow


@pytest.fixture
def status_server():
    server = StatusServer()
    yield server
    server.close()


@pytest.fixture
def guarded_index(reg_world: World, auth_registry, tmp_path):
    """The world's index copied into a registry that needs credentials, and settings that can read it."""
    from iib_steps.images.auth import AuthStore

    auth = AuthStore.from_file(auth_registry.auth_file)
    client = client_for(reg_world.base, auth_registry.host, auth=auth)
    index = auth_registry.ref(f"guarded/index:{reg_world.next_id()}")
    copy_image(reg_world.index, [index], client=client)
    settings = yaml.safe_load(reg_world.settings.read_text())
    settings["registry_auth_file"] = str(auth_registry.auth_file)
    path = tmp_path / "settings.yaml"
    path.write_text(yaml.safe_dump(settings))
    env = {**reg_world.env, "IIB_INSECURE_REGISTRIES": f"{reg_world.base},{auth_registry.host}"}
    return index, path, env, client, auth_registry


def run_with(world: World, env, *args, check=True):
    saved = world.env
    world.env = env
    try:
        return world.run(*args, check=check)
    finally:
        world.env = saved


def test_wrong_token_fails_before_anything_is_pushed(reg_world: World, guarded_index, tmp_path):
    index, settings, env, client, reg = guarded_index
    before = resolve_image(index, client).digest
    (tmp_path / "token").write_text(f"{reg.username}:not-the-password\n")
    rid = reg_world.next_id()
    proc = run_with(
        reg_world,
        env,
        "rm",
        "--config",
        str(settings),
        "--request-id",
        rid,
        "--from-index",
        index,
        "--operators",
        "kube-green",
        "--overwrite-from-index",
        "--overwrite-from-index-token-file",
        str(tmp_path / "token"),
        check=False,
    )
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "the overwrite token cannot access" in errors[0]
    assert "not-the-password" not in proc.stderr
    assert not reg_world.exists(reg_world.output(rid))
    assert resolve_image(index, client).digest == before


def test_right_token_overwrites_from_index(reg_world: World, guarded_index, tmp_path):
    index, settings, env, client, reg = guarded_index
    (tmp_path / "token").write_text(f"{reg.username}:{reg.password}")
    rid = reg_world.next_id()
    run_with(
        reg_world,
        env,
        "rm",
        "--config",
        str(settings),
        "--request-id",
        rid,
        "--from-index",
        index,
        "--operators",
        "kube-green",
        "--overwrite-from-index",
        "--overwrite-from-index-token-file",
        str(tmp_path / "token"),
        "--request-json",
        str(tmp_path / "r.json"),
    )
    request = json.loads((tmp_path / "r.json").read_text())
    assert request["index_image"] == index  # the overwrite succeeded
    assert request["internal_index_image_copy"] == reg_world.output(rid)
    built = resolve_image(reg_world.output(rid), client).digest
    assert resolve_image(index, client).digest == built
    assert request["index_image_resolved"] == f"{index.rsplit(':', 1)[0]}@{built}"


def test_progress_and_final_state_are_patched(reg_world: World, status_server, tmp_path):
    rid = reg_world.next_id()
    reg_world.run(
        "rm",
        "--request-id",
        rid,
        "--status-api-url",
        status_server.url,
        "--from-index",
        reg_world.index,
        "--operators",
        "kube-green",
    )
    bodies = [body for path, body, _ in status_server.calls]
    assert {path for path, _, _ in status_server.calls} == {f"/api/v1/builds/{rid}"}
    reasons = [b.get("state_reason") for b in bodies if "state_reason" in b]
    assert reasons[0] == "Resolving the container images"
    assert reasons[1] == "Building the index image for the following arches: amd64, arm64, ppc64le, s390x"
    assert reasons[-1] == "The operator(s) were successfully removed from the index image"
    assert bodies[-1]["state"] == "complete"
    assert bodies[1]["binary_image_resolved"].startswith(reg_world.ref("opm@sha256:"))
    final_fields = {k for b in bodies for k in b}
    assert {"arches", "index_image", "index_image_resolved", "internal_index_image_copy"} <= final_fields


def test_failure_is_patched(reg_world: World, status_server):
    rid = reg_world.next_id()
    proc = reg_world.run(
        "rm",
        "--request-id",
        rid,
        "--status-api-url",
        status_server.url,
        "--from-index",
        reg_world.index,
        "--operators",
        "no-such-operator",
        check=False,
    )
    assert proc.returncode == 1
    last = status_server.calls[-1][1]
    assert last["state"] == "failed" and "no-such-operator" in last["state_reason"]


def test_regenerate_with_registry_auths(reg_world: World, auth_registry, tmp_path):
    from iib_steps.images.auth import AuthStore
    from iib_steps.images.build import build_bundle_image
    from tests.conftest import TESTDATA

    w = reg_world
    client = client_for(w.base, auth_registry.host, auth=AuthStore.from_file(auth_registry.auth_file))
    bundle = auth_registry.ref("private/bundle:v1")
    build_bundle_image(
        TESTDATA / "bundles" / "kube-green-0.7.1",
        [bundle],
        labels={"com.redhat.iib.pinned": "true"},
        client=client,
    )
    env = {**w.env, "IIB_INSECURE_REGISTRIES": f"{w.base},{auth_registry.host}"}
    settings = yaml.safe_load(w.settings.read_text())
    settings["organization_customizations"] = {"o": [{"type": "package_name_suffix", "suffix": "-o"}]}
    path = tmp_path / "settings.yaml"
    path.write_text(yaml.safe_dump(settings))

    rid = w.next_id()
    denied = run_with(
        w,
        env,
        "regenerate-bundle",
        "--config",
        str(path),
        "--request-id",
        rid,
        "--from-bundle-image",
        bundle,
        "--organization",
        "o",
        check=False,
    )
    assert denied.returncode == 1 and "error: cannot read the image" in denied.stderr

    (tmp_path / "bad.json").write_text('{"auths": {}, "extra": 1}')
    bad = run_with(
        w,
        env,
        "regenerate-bundle",
        "--config",
        str(path),
        "--from-bundle-image",
        bundle,
        "--registry-auths-file",
        str(tmp_path / "bad.json"),
        check=False,
    )
    assert bad.stderr.strip().splitlines()[-1] == 'error: "registry_auths" must contain single key "auths"'

    run_with(
        w,
        env,
        "regenerate-bundle",
        "--config",
        str(path),
        "--request-id",
        rid,
        "--from-bundle-image",
        bundle,
        "--organization",
        "o",
        "--registry-auths-file",
        str(auth_registry.auth_file),
    )
    from iib_steps.images.inspect import get_labels

    assert get_labels(w.output(rid), client=client)["operators.operatorframework.io.bundle.package.v1"] == (
        "kube-green-o"
    )


def test_from_index_moved_during_the_request_is_not_overwritten(reg_world: World, tmp_path):
    """IIB's optimistic check: re-resolve from_index just before overwriting it."""
    from iib_steps.config import load_settings
    from iib_steps.errors import StepError
    from iib_steps.operations.common import Context, overwrite_from_index
    from iib_steps.operations.imaging import BuiltImage, ImageIO
    from iib_steps.report import Reporter

    w = reg_world
    index = w.ref(f"moving/index:{w.next_id()}")
    copy_image(w.index, [index], client=w.client)
    resolved_before = f"{index.rsplit(':', 1)[0]}@{resolve_image(index, w.client).digest}"
    copy_image(w.binary, [index], client=w.client)  # someone else moves the tag meanwhile
    moved = resolve_image(index, w.client).digest
    settings = load_settings(w.settings)
    ctx = Context.create(
        settings, Reporter(None, None), request_id="x", workdir=tmp_path, images=ImageIO(settings, w.client)
    )
    built = BuiltImage(w.index, resolve_image(w.index, w.client).digest, {}, [w.index])
    with pytest.raises(StepError, match="The supplied from_index image changed during the IIB request"):
        overwrite_from_index(ctx, index, resolved_before, built, None)
    assert resolve_image(index, w.client).digest == moved
