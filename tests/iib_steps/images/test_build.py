"""Index and bundle images built here are read back by skopeo, for every architecture."""

from __future__ import annotations

import json
import tarfile
import time
from pathlib import Path

import pytest

from iib_steps.errors import StepError
from iib_steps.images import (
    LayerSpec,
    build_bundle_image,
    build_index_image,
    extract_bundle,
    extract_index_catalog,
    get_architectures,
    get_labels,
    get_layers,
    resolve_image,
)
from iib_steps.images import manifests as mt
from iib_steps.images.build import PendingLayer
from iib_steps.images.layers import LayerBlob, write_layer
from iib_steps.images.stores import RegistryStore
from tests.fixtures.registry import skopeo
from tests.iib_steps.images.conftest import ARCHES, make_binary_image, make_catalog

DELIVERY = {
    "com.redhat.index.delivery.version": "v4.19",
    "com.redhat.index.delivery.distribution_scope": "prod",
}


def _configs_from_skopeo_copy(src: str, arch: str, tmp: Path, *flags: str) -> dict[str, bytes]:
    """Copy one architecture with skopeo into an OCI layout and read what the layers put at /configs."""
    out = tmp / f"copy-{arch}"
    skopeo("copy", *flags, "--override-arch", arch, src, f"oci:{out}:x")
    index = json.loads((out / "index.json").read_text())
    manifest = json.loads((out / "blobs" / "sha256" / index["manifests"][0]["digest"][7:]).read_text())
    files: dict[str, bytes] = {}
    for layer in manifest["layers"]:
        with tarfile.open(out / "blobs" / "sha256" / layer["digest"][7:]) as tar:
            for m in tar:
                name = m.name.lstrip("./")
                if name.startswith("configs/"):
                    if name.endswith(".wh..wh..opq"):
                        files = {k: v for k, v in files.items() if not k.startswith("configs/")}
                    elif m.isfile():
                        files[name] = tar.extractfile(m).read()
    return files


@pytest.mark.parametrize("fmt", [mt.FORMAT_DOCKER, mt.FORMAT_OCI])
def test_index_image_in_registry_is_read_by_skopeo_for_every_arch(registry, reg_client, tmp_path, fmt):
    binary = registry.ref(f"opm-{fmt}:v1")
    make_binary_image(binary, tmp_path / "bin", reg_client, fmt=fmt)
    catalog = make_catalog(tmp_path / "catalog")
    dests = [registry.ref(f"index-{fmt}:1"), registry.ref(f"index-{fmt}:v4.19")]

    result = build_index_image(binary, catalog, dests, labels=DELIVERY, fmt=fmt, client=reg_client)

    raw = json.loads(skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{dests[0]}"))
    assert raw["mediaType"] == (mt.DOCKER_LIST if fmt == mt.FORMAT_DOCKER else mt.OCI_INDEX)
    assert [m["platform"]["architecture"] for m in raw["manifests"]] == sorted(ARCHES)
    assert {m["mediaType"] for m in raw["manifests"]} == {
        mt.DOCKER_MANIFEST if fmt == mt.FORMAT_DOCKER else mt.OCI_MANIFEST
    }
    expected = {
        f"configs/{p}/catalog.json": (catalog / p / "catalog.json").read_bytes()
        for p in ("alpha", "beta", "gamma")
    }
    for arch in ARCHES:
        info = json.loads(
            skopeo("inspect", "--tls-verify=false", "--override-arch", arch, f"docker://{dests[1]}")
        )
        assert info["Architecture"] == arch
        assert info["Digest"] == result.digest  # skopeo reports the list digest
        assert info["Labels"]["operators.operatorframework.io.index.configs.v1"] == "/configs"
        assert info["Labels"]["com.redhat.index.delivery.version"] == "v4.19"
        assert info["Labels"]["base"] == "fake"  # the binary image's labels are kept
        config = json.loads(
            skopeo(
                "inspect", "--config", "--tls-verify=false", "--override-arch", arch, f"docker://{dests[0]}"
            )
        )
        assert config["config"]["Entrypoint"] == ["/bin/opm"]
        assert config["config"]["Cmd"] == ["serve", "/configs", "--cache-dir=/tmp/cache"]
        files = _configs_from_skopeo_copy(f"docker://{dests[0]}", arch, tmp_path, "--src-tls-verify=false")
        assert files == expected  # the binary's stale /configs is hidden by the opaque whiteout
    # the binary image's layers were mounted, never uploaded; the catalog layer went up once
    assert result.blobs.get("mounted", 0) == 1 + len(ARCHES)
    assert result.blobs["uploaded"] == 2 + len(ARCHES)  # whiteout layer + catalog + one config per arch
    assert result.digest == resolve_image(dests[1], client=reg_client).digest


def test_index_image_in_oci_layout_and_back(tmp_path, reg_client, registry):
    binary = f"oci:{tmp_path / 'opm-layout'}:v1"
    make_binary_image(binary, tmp_path / "bin", reg_client, arches=("amd64", "s390x"), fmt=mt.FORMAT_OCI)
    catalog = make_catalog(tmp_path / "catalog")
    out = f"oci:{tmp_path / 'index-layout'}:v4.19"
    result = build_index_image(binary, catalog, [out], labels=DELIVERY, fmt=mt.FORMAT_OCI, client=reg_client)

    assert get_architectures(out, client=reg_client) == ["amd64", "s390x"]
    for arch in ("amd64", "s390x"):
        info = json.loads(skopeo("inspect", "--override-arch", arch, out))
        assert info["Digest"] == result.digest  # skopeo reports the list digest
        files = _configs_from_skopeo_copy(out, arch, tmp_path)
        assert sorted(files) == [f"configs/{p}/catalog.json" for p in ("alpha", "beta", "gamma")]
    got = extract_index_catalog(out, tmp_path / "extracted", client=reg_client)
    assert sorted(p.relative_to(got).as_posix() for p in got.rglob("*.json")) == [
        "alpha/catalog.json",
        "beta/catalog.json",
        "gamma/catalog.json",
    ]
    # the same build from a layout into a registry
    dest = registry.ref("from-layout:1")
    pushed = build_index_image(binary, catalog, [dest], labels=DELIVERY, fmt=mt.FORMAT_OCI, client=reg_client)
    assert pushed.digest == result.digest  # same inputs, same digests, wherever they go


def test_same_inputs_give_same_digests(registry, reg_client, tmp_path):
    binary = registry.ref("opm-det:v1")
    make_binary_image(binary, tmp_path / "bin", reg_client)
    catalog = make_catalog(tmp_path / "catalog")
    first = build_index_image(binary, catalog, [registry.ref("det:a")], labels=DELIVERY, client=reg_client)
    # the same content in another directory, built again into another repository
    catalog2 = make_catalog(tmp_path / "other" / "catalog")
    second = build_index_image(binary, catalog2, [registry.ref("det2:b")], labels=DELIVERY, client=reg_client)
    assert first.digest == second.digest
    assert first.arch_digests == second.arch_digests
    # and once more into the first repository: every blob is found there, nothing is uploaded
    third = build_index_image(binary, catalog2, [registry.ref("det:c")], labels=DELIVERY, client=reg_client)
    assert third.digest == first.digest
    assert third.blobs == {"present": 3 + 2 * len(ARCHES)}  # whiteout, catalog, base, opm+config per arch
    changed = build_index_image(
        binary, catalog2, [registry.ref("det2:c")], labels={**DELIVERY, "extra": "1"}, client=reg_client
    )
    assert changed.digest != first.digest


def test_catalog_as_several_layers_reuses_unchanged_ones(registry, reg_client, tmp_path):
    binary = registry.ref("opm-multi:v1")
    make_binary_image(binary, tmp_path / "bin", reg_client, arches=("amd64", "arm64"))
    catalog = make_catalog(tmp_path / "catalog", ("a1", "a2", "b1", "b2"))
    layers = [
        LayerSpec.directory(catalog, "/configs", include=["a1", "a2"], annotations={"group": "0/2"}),
        LayerSpec.directory(catalog, "/configs", include=["b1", "b2"], annotations={"group": "1/2"}),
    ]
    first = build_index_image(binary, layers, [registry.ref("multi:1")], client=reg_client)
    raw = json.loads(skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{registry.ref('multi:1')}"))
    child = json.loads(
        skopeo(
            "inspect",
            "--raw",
            "--tls-verify=false",
            f"docker://{registry.host}/multi@{raw['manifests'][0]['digest']}",
        )
    )
    assert [layer.get("annotations") for layer in child["layers"][-2:]] == [
        {"group": "0/2"},
        {"group": "1/2"},
    ]

    # change package b2 only; reuse the a-layer from the previous image by reference
    (catalog / "b2" / "catalog.json").write_text('{"schema":"olm.package","name":"b2"}\n')
    previous = get_layers(registry.ref("multi:1"), arch="amd64", client=reg_client)
    second = build_index_image(
        binary, [previous[-2], layers[1]], [registry.ref("multi-next:2")], client=reg_client
    )
    assert second.blobs["uploaded"] == 1 + 2  # only the changed b-layer, plus one config per arch
    got = extract_index_catalog(registry.ref("multi-next:2"), tmp_path / "out", client=reg_client)
    assert (got / "b2" / "catalog.json").read_text() == '{"schema":"olm.package","name":"b2"}\n'
    assert (got / "a1" / "catalog.json").read_bytes() == (catalog / "a1" / "catalog.json").read_bytes()
    assert first.digest != second.digest


def test_binaryless_and_missing_arches(registry, reg_client, tmp_path):
    catalog = make_catalog(tmp_path / "catalog")
    result = build_index_image("scratch", catalog, [registry.ref("binaryless:1")], client=reg_client)
    assert list(result.arch_digests) == ["amd64"]
    config = json.loads(
        skopeo("inspect", "--config", "--tls-verify=false", f"docker://{registry.ref('binaryless:1')}")
    )
    assert "Entrypoint" not in config["config"]
    binary = registry.ref("opm-two:v1")
    make_binary_image(binary, tmp_path / "bin", reg_client, arches=("amd64", "arm64"))
    with pytest.raises(
        StepError, match=r"^The binary image is not available for the following arches: s390x$"
    ):
        build_index_image(
            binary, catalog, [registry.ref("nope:1")], arches=["amd64", "s390x"], client=reg_client
        )


@pytest.mark.parametrize("fmt", [mt.FORMAT_DOCKER, mt.FORMAT_OCI])
def test_bundle_image_roundtrip(registry, reg_client, tmp_path, testdata, fmt):
    bundle = next(
        p for p in sorted((testdata / "bundles").iterdir()) if (p / "metadata" / "annotations.yaml").is_file()
    )
    dest = registry.ref(f"bundle-{fmt}:v1")
    result = build_bundle_image(bundle, [dest], fmt=fmt, client=reg_client)
    info = json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{dest}"))
    assert info["Digest"] == result.digest
    assert info["Architecture"] == "amd64"
    skopeo("copy", "--src-tls-verify=false", f"docker://{dest}", f"oci:{tmp_path / 'skopeo-copy'}:b")
    copied = json.loads((tmp_path / "skopeo-copy" / "index.json").read_text())["manifests"][0]["digest"]
    manifest = json.loads((tmp_path / "skopeo-copy" / "blobs" / "sha256" / copied[7:]).read_text())
    with tarfile.open(
        tmp_path / "skopeo-copy" / "blobs" / "sha256" / manifest["layers"][0]["digest"][7:]
    ) as tar:
        names = {m.name for m in tar if m.isfile()}
    assert names == {
        p.relative_to(bundle).as_posix()
        for sub in ("manifests", "metadata")
        for p in (bundle / sub).rglob("*")
        if p.is_file()
    }
    assert info["Labels"]["operators.operatorframework.io.bundle.package.v1"]
    assert info["Labels"] == get_labels(dest, client=reg_client)
    out = extract_bundle(dest, tmp_path / "out", client=reg_client)
    for sub in ("manifests", "metadata"):
        want = sorted(p.relative_to(bundle).as_posix() for p in (bundle / sub).rglob("*") if p.is_file())
        got = sorted(p.relative_to(out).as_posix() for p in (out / sub).rglob("*") if p.is_file())
        assert got == want
        for rel in want:
            assert (out / rel).read_bytes() == (bundle / rel).read_bytes()


def test_layers_kept_in_work_dir_can_be_pushed_again(registry, reg_client, tmp_path):
    binary = registry.ref("opm-keep:v1")
    make_binary_image(binary, tmp_path / "bin", reg_client, arches=("amd64",))
    catalog = make_catalog(tmp_path / "catalog")
    first = build_index_image(
        binary, catalog, [registry.ref("keep:1")], client=reg_client, work_dir=tmp_path / "w"
    )
    assert all(layer.path.is_file() for layer in first.layers)
    layout = f"oci:{tmp_path / 'keep-layout'}:1"
    again = build_index_image(binary, first.layers, [layout], client=reg_client)
    assert again.arch_digests.keys() == first.arch_digests.keys()
    got = extract_index_catalog(layout, tmp_path / "out", client=reg_client)
    assert sorted(p.name for p in got.iterdir()) == ["alpha", "beta", "gamma"]


def test_a_pending_layer_is_pushed_while_the_others_are_still_packing(registry, reg_client, tmp_path):
    binary = registry.ref("opm-pending:v1")
    make_binary_image(binary, tmp_path / "bin", reg_client, arches=("amd64", "arm64"))
    catalog = make_catalog(tmp_path / "catalog", ("a1", "b1"))
    first = write_layer(LayerSpec.directory(catalog, "/configs", include=["a1"]), tmp_path / "w")
    second = write_layer(LayerSpec.directory(catalog, "/configs", include=["b1"]), tmp_path / "w")
    repo = RegistryStore(reg_client, registry.host, "pending")

    def second_when_first_is_up() -> LayerBlob:
        # "packing" ends only once the first layer is in the destination: the build must not wait
        # for every layer before pushing any (polls; gives up after ten seconds)
        for _ in range(100):
            if repo.has_blob(first.digest):
                return second
            time.sleep(0.1)
        raise AssertionError("the first layer was not pushed while the second was packing")

    seen: list[list[str]] = []

    def labels(layers):
        seen.append([layer.digest for layer in layers])
        return {"layers": str(len(layers))}

    built = build_index_image(
        binary,
        [PendingLayer(lambda: first), PendingLayer(second_when_first_is_up)],
        [registry.ref("pending:1")],
        labels=labels,
        client=reg_client,
    )
    assert seen == [[first.digest, second.digest]]
    assert get_labels(registry.ref("pending:1"), client=reg_client)["layers"] == "2"
    # the same image as from the layers themselves
    direct = build_index_image(
        binary, [first, second], [registry.ref("direct:1")], labels={"layers": "2"}, client=reg_client
    )
    assert built.digest == direct.digest


def test_a_layer_that_fails_to_pack_fails_the_build_and_tags_nothing(registry, reg_client, tmp_path):
    binary = registry.ref("opm-failpack:v1")
    make_binary_image(binary, tmp_path / "bin", reg_client, arches=("amd64",))
    catalog = make_catalog(tmp_path / "catalog", ("a1",))

    def broken() -> LayerBlob:
        raise StepError("packing a layer group failed: disk full")

    with pytest.raises(StepError, match="disk full"):
        build_index_image(
            binary,
            [LayerSpec.directory(catalog, "/configs"), PendingLayer(broken)],
            [registry.ref("failpack:1")],
            client=reg_client,
        )
    with pytest.raises(StepError):
        resolve_image(registry.ref("failpack:1"), client=reg_client)
