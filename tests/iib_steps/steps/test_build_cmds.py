"""Every build subcommand end to end: a real registry and OCI layouts, real bundles, skopeo reading
the result for every architecture; bad input gives one line, exit 1, and nothing under the tags."""

from __future__ import annotations

import base64
import gzip
import json

import pytest

from iib_steps.images.inspect import get_layers
from tests.fixtures.registry import skopeo
from tests.iib_steps.images.conftest import ARCHES
from tests.iib_steps.steps.conftest import OCP, World, channel_entries

pytestmark = pytest.mark.slow


def skopeo_ref(image: str) -> str:
    return image if image.startswith("oci:") else f"docker://{image}"


def assert_readable_for_every_arch(world: World, image: str) -> None:
    raw = json.loads(skopeo("inspect", "--raw", "--tls-verify=false", skopeo_ref(image)))
    expected = (
        "application/vnd.oci.image.index.v1+json"
        if image.startswith("oci:")
        else ("application/vnd.docker.distribution.manifest.list.v2+json")
    )
    assert raw["mediaType"] == expected
    assert sorted(m["platform"]["architecture"] for m in raw["manifests"]) == sorted(ARCHES)
    for arch in ARCHES:
        info = json.loads(
            skopeo("inspect", "--tls-verify=false", "--override-arch", arch, "--config", skopeo_ref(image))
        )
        assert info["architecture"] == arch
        labels = info["config"]["Labels"]
        assert labels["operators.operatorframework.io.index.configs.v1"] == "/configs"
        assert labels["com.redhat.index.delivery.version"] == OCP


def one_line_failure(proc, needle: str) -> None:
    assert proc.returncode == 1, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and needle in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.fixture(params=["registry", "oci"])
def world(request) -> World:
    return request.getfixturevalue("reg_world" if request.param == "registry" else "oci_world")


def test_add_bundles(world: World, tmp_path):
    pytest.importorskip("catalog.render", reason="the bundle renderer (catalog.render) has not landed yet")
    base = world.next_id()
    world.run("rm", "--request-id", base, "--from-index", world.index, "--operators", "kube-green")
    rid = world.next_id()
    results = tmp_path / "results"
    proc = world.run(
        "add",
        "--request-id",
        rid,
        "--from-index",
        world.output(base),
        "--bundles",
        world.bundles["kube-green-0.3.0"],
        "--bundles",
        json.dumps([world.bundles["dbaas-operator-0.5.0"]]),
        "--build-tags",
        "extra-tag",
        "--results-dir",
        str(results),
        "--request-json",
        str(tmp_path / "request.json"),
    )
    out = world.output(rid)
    assert proc.stdout.strip() == out
    cfg = world.catalog_of(out, tmp_path / "catalog")
    assert channel_entries(cfg, "kube-green", "alpha") == ["kube-green.v0.3.0"]
    assert channel_entries(cfg, "dbaas-operator", "stable") == ["dbaas-operator.v0.5.0"]
    assert len(cfg.package_names()) == 9
    assert_readable_for_every_arch(world, out)
    assert world.exists(world.output("extra-tag"))
    request = json.loads((tmp_path / "request.json").read_text())
    assert request["request_type"] == "add" and request["state"] == "complete"
    assert request["index_image"] == out and request["arches"] == sorted(ARCHES)
    assert request["bundle_mapping"] == {
        "kube-green": [world.bundles["kube-green-0.3.0"]],
        "dbaas-operator": [world.bundles["dbaas-operator-0.5.0"]],
    }
    assert request["from_index_resolved"].split("@")[1].startswith("sha256:")
    assert (results / "IMAGE_URL").read_text() == out
    assert (results / "IMAGE_DIGEST").read_text() == request["index_image_resolved"].split("@")[1]
    build_info = json.loads(gzip.decompress(base64.b64decode((results / "jsonBuildInfo").read_text())))
    # The request JSON plus ``updated``, the completion time Konflux reads from it.
    assert {k: v for k, v in build_info.items() if k != "updated"} == request
    assert build_info["updated"].endswith("Z")
    assert json.loads((results / "buildState").read_text()) == {
        "state": "complete",
        "state_reason": "The operator bundle(s) were successfully added to the index image",
    }

    # The next version replaces it in its channel; the one already present (by digest) is skipped,
    # and only the layer group holding kube-green is packed again.
    rid2 = world.next_id()
    proc = world.run(
        "add",
        "--request-id",
        rid2,
        "--from-index",
        out,
        "--bundles",
        world.bundles["kube-green-0.3.1"],
        "--bundles",
        world.bundles["kube-green-0.3.0"],
    )
    assert "is already present in the index image" in proc.stderr
    cfg2 = world.catalog_of(world.output(rid2), tmp_path / "catalog2")
    assert channel_entries(cfg2, "kube-green", "alpha") == ["kube-green.v0.3.0", "kube-green.v0.3.1"]
    before = [layer.descriptor.digest for layer in get_layers(out, client=world.client)]
    after = [layer.descriptor.digest for layer in get_layers(world.output(rid2), client=world.client)]
    assert len(before) == len(after) and sum(a != b for a, b in zip(before, after, strict=True)) == 1


def test_rm_operator(world: World, tmp_path):
    rid = world.next_id()
    world.run(
        "rm",
        "--request-id",
        rid,
        "--from-index",
        world.index,
        "--operators",
        "kube-green",
        "--result",
        f"IMAGE_URL={tmp_path / 'url'}",
        "--result",
        f"removed_operators={tmp_path / 'none'}",
    )
    assert (tmp_path / "url").read_text() == world.output(rid) and (tmp_path / "none").read_text() == ""
    cfg = world.catalog_of(world.output(rid), tmp_path / "catalog")
    assert "kube-green" not in cfg.package_names() and len(cfg.package_names()) == 7
    assert_readable_for_every_arch(world, world.output(rid))


def test_create_empty_index(world: World, tmp_path):
    rid = world.next_id()
    world.run(
        "create-empty-index", "--request-id", rid, "--from-index", world.index, "--labels", '{"team": "iib"}'
    )
    out = world.output(rid)
    cfg = world.catalog_of(out, tmp_path / "catalog")
    assert cfg.package_names() == set()
    labels = json.loads(skopeo("inspect", "--tls-verify=false", "--config", skopeo_ref(out)))["config"][
        "Labels"
    ]
    assert labels["team"] == "iib"


def test_add_deprecations(world: World, tmp_path):
    rid = world.next_id()
    schema = {
        "schema": "olm.deprecations",
        "package": "kube-green",
        "entries": [{"reference": {"schema": "olm.bundle", "name": "kube-green.v0.3.0"}, "message": "old"}],
    }
    world.run(
        "add-deprecations",
        "--request-id",
        rid,
        "--from-index",
        world.index,
        "--operator-package",
        "kube-green",
        "--deprecation-schema",
        json.dumps(schema),
    )
    cfg = world.catalog_of(world.output(rid), tmp_path / "catalog")
    deps = [d for d in cfg.deprecations if d.package == "kube-green"]
    assert len(deps) == 1 and deps[0].entries[0].message == "old"


def test_fbc_operations(world: World, tmp_path):
    # A fragment: an index image holding just the kube-green package, one bundle less.
    rid = world.next_id()
    world.run(
        "rm",
        "--request-id",
        rid,
        "--from-index",
        world.index,
        "--operators",
        json.dumps(
            [
                "ecr-secret-operator",
                "kairos-operator",
                "libredb-studio-operator",
                "multicluster-global-hub-operator",
                "odf-node-recovery-operator",
                "openstack-lightspeed-operator",
                "shipwright-operator",
            ]
        ),
    )
    fragment = world.output(rid)
    rid2 = world.next_id()
    world.run("rm", "--request-id", rid2, "--from-index", world.index, "--operators", "kube-green")
    rid3 = world.next_id()
    world.run(
        "fbc-operations",
        "--request-id",
        rid3,
        "--from-index",
        world.output(rid2),
        "--fbc-fragments",
        fragment,
        "--request-json",
        str(tmp_path / "r.json"),
    )
    cfg = world.catalog_of(world.output(rid3), tmp_path / "catalog")
    assert "kube-green" in cfg.package_names() and len(cfg.package_names()) == 8
    request = json.loads((tmp_path / "r.json").read_text())
    assert request["fbc_fragments"] == [fragment] and request["fbc_fragments_resolved"][0].split("@")[1]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["add", "--bundles", "{base}/nope-bundle:v1"], "cannot read the image"),
        (
            ["add", "--add-arches", "riscv64"],
            "The binary image is not available for the following arches: riscv64",
        ),
        (["rm", "--operators", "no-such-operator"], "no-such-operator"),
        (["add", "--distribution-scope", "qa"], 'The "distribution_scope" value must be one of'),
        (
            ["add-deprecations", "--operator-package", "nope", "--deprecation-schema", "{}"],
            "Cannot add deprecations for nope",
        ),
        (["fbc-operations"], 'Either "fbc_fragment" or "fbc_fragments" must be provided'),
        (["rm", "--operators", "kube-green", "--result", "NOPE=/tmp/x"], "unknown result name(s) NOPE"),
    ],
)
def test_bad_input_fails_with_one_line_and_pushes_nothing(reg_world: World, args, needle):
    rid = reg_world.next_id()
    args = [a.replace("{base}", reg_world.base) for a in args]
    proc = reg_world.run(
        *args, "--request-id", rid, "--from-index", reg_world.index, "--build-tags", "t" + rid, check=False
    )
    one_line_failure(proc, needle)
    assert not reg_world.exists(reg_world.output(rid))
    assert not reg_world.exists(reg_world.output("t" + rid))


def test_invalid_catalog_in_from_index(reg_world: World, tmp_path):
    pytest.importorskip("catalog.render", reason="the bundle renderer (catalog.render) has not landed yet")
    from iib_steps.images.build import build_index_image
    from iib_steps.images.layers import LayerSpec

    bad = tmp_path / "bad"
    (bad / "broken").mkdir(parents=True)
    (bad / "broken" / "catalog.json").write_text(
        '{"schema":"olm.package","name":"broken","defaultChannel":"missing"}\n'
    )
    index = reg_world.ref("bad-index:v1")
    build_index_image(
        reg_world.binary,
        [LayerSpec.directory(bad, "/configs")],
        [index],
        labels={"com.redhat.index.delivery.version": OCP},
        client=reg_world.client,
        work_dir=tmp_path,
    )
    rid = reg_world.next_id()
    proc = reg_world.run(
        "add",
        "--request-id",
        rid,
        "--from-index",
        index,
        "--bundles",
        reg_world.bundles["bpfman-operator-0.5.6"],
        check=False,
    )
    one_line_failure(proc, "invalid")
    assert not reg_world.exists(reg_world.output(rid))


def test_merge_index_image(world: World, tmp_path):
    empty = world.next_id()
    world.run("create-empty-index", "--request-id", empty, "--from-index", world.index)
    source = world.next_id()
    dbaas = world.bundles["dbaas-operator-0.5.0"]
    world.run("add", "--request-id", source, "--from-index", world.output(empty), "--bundles", dbaas)
    target = world.next_id()
    names = ("dbaas-operator-0.5.0", "kairos-operator-2.0.1", "bpfman-operator-0.5.6")
    bundles = json.dumps([world.bundles[b] for b in names])
    world.run("add", "--request-id", target, "--from-index", world.output(empty), "--bundles", bundles)
    rid = world.next_id()
    world.run(
        "merge-index-image",
        "--request-id",
        rid,
        "--source-from-index",
        world.output(source),
        "--target-index",
        world.output(target),
        "--request-json",
        str(tmp_path / "r.json"),
    )
    cfg = world.catalog_of(world.output(rid), tmp_path / "catalog")
    # kairos (v4.12 and later) is added; bpfman has no com.redhat.openshift.versions label, so it is
    # deprecated away; dbaas was already there.
    assert cfg.package_names() == {"dbaas-operator", "kairos-operator"}
    assert channel_entries(cfg, "kairos-operator", "stable") == ["kairos-operator.v2.0.1"]
    assert_readable_for_every_arch(world, world.output(rid))
    request = json.loads((tmp_path / "r.json").read_text())
    assert request["request_type"] == "merge-index-image"
    assert request["target_index"] == world.output(target) and request["index_image"] == world.output(rid)
    assert request["source_from_index_resolved"].split("@")[1].startswith("sha256:")


def test_semver_mode_and_deprecation_list(reg_world: World, tmp_path):
    w = reg_world
    empty = w.next_id()
    w.run("create-empty-index", "--request-id", empty, "--from-index", w.index)
    first, second = w.bundles["kube-green-0.3.0"], w.bundles["kube-green-0.3.1"]
    rid = w.next_id()
    w.run(
        "add",
        "--request-id",
        rid,
        "--from-index",
        w.output(empty),
        "--bundles",
        first,
        "--bundles",
        second,
        "--graph-update-mode",
        "semver",
    )
    cfg = w.catalog_of(w.output(rid), tmp_path / "c1")
    assert channel_entries(cfg, "kube-green", "alpha") == ["kube-green.v0.3.0", "kube-green.v0.3.1"]
    rid2 = w.next_id()
    w.run("add", "--request-id", rid2, "--from-index", w.output(rid), "--deprecation-list", first)
    cfg2 = w.catalog_of(w.output(rid2), tmp_path / "c2")
    assert channel_entries(cfg2, "kube-green", "alpha") == ["kube-green.v0.3.1"]


def test_add_to_a_legacy_sqlite_index(reg_world: World, testdata, tmp_path):
    """A SQLite index (opm's index.db) is migrated to FBC as opm migrate does, then added to."""
    import shutil

    from iib_steps.images.build import build_index_image
    from iib_steps.images.layers import LayerSpec

    db_dir = tmp_path / "database"
    db_dir.mkdir()
    shutil.copy(testdata / "sqlite" / "bundles.db", db_dir / "index.db")
    index = reg_world.ref("sqlite-index:v1")
    labels = {
        "com.redhat.index.delivery.version": OCP,
        "operators.operatorframework.io.index.database.v1": "/database/index.db",
    }
    build_index_image(
        reg_world.binary,
        [LayerSpec.directory(db_dir, "/database")],
        [index],
        labels=labels,
        client=reg_world.client,
        work_dir=tmp_path,
    )
    rid = reg_world.next_id()
    reg_world.run(
        "add", "--request-id", rid, "--from-index", index, "--bundles", reg_world.bundles["kube-green-0.3.0"]
    )
    cfg = reg_world.catalog_of(reg_world.output(rid), tmp_path / "catalog")
    assert cfg.package_names() == {"etcd", "prometheus", "strimzi-kafka-operator", "kube-green"}
    # the migrated packages match opm migrate's output byte for byte
    for package in ("etcd", "prometheus", "strimzi-kafka-operator"):
        got = (tmp_path / "catalog" / package / "catalog.json").read_bytes()
        assert got == (testdata / "sqlite" / "migrated-expected" / package / "catalog.json").read_bytes()


def test_fbc_operations_legacy_single_fragment(reg_world: World, tmp_path):
    """The legacy ``fbc_fragment`` form: the singular fields are set, the arrays stay empty."""
    w = reg_world
    others = [
        "ecr-secret-operator",
        "kairos-operator",
        "libredb-studio-operator",
        "multicluster-global-hub-operator",
        "odf-node-recovery-operator",
        "openstack-lightspeed-operator",
        "shipwright-operator",
    ]
    fragment = w.next_id()
    w.run("rm", "--request-id", fragment, "--from-index", w.index, "--operators", json.dumps(others))
    rid = w.next_id()
    w.run(
        "fbc-operations",
        "--request-id",
        rid,
        "--from-index",
        w.index,
        "--fbc-fragment",
        w.output(fragment),
        "--request-json",
        str(tmp_path / "r.json"),
    )
    request = json.loads((tmp_path / "r.json").read_text())
    assert request["fbc_fragment"] == w.output(fragment) and request["fbc_fragments"] == []
    assert request["fbc_fragment_resolved"].startswith(w.ref("iib-build@sha256:"))
    assert request["state_reason"] == "The 1 FBC fragment(s) were successfully added in the index image"
    assert len(w.catalog_of(w.output(rid), tmp_path / "c").package_names()) == 8


def test_a_steps_own_temp_dir_is_removed_and_a_given_workdir_kept(oci_world: World, tmp_path):
    # The work dir holds extracted catalogs and packed layers: a step that made its own leaves
    # nothing behind in the temp directory (hosts running many steps would fill up); one given with
    # --workdir is the caller's and stays, as when the step fails.
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {"TMPDIR": str(temp)}
    args = ["rm", "--from-index", oci_world.index, "--operators", "kube-green"]
    oci_world.run(*args, "--request-id", oci_world.next_id(), env=env)
    assert list(temp.iterdir()) == []
    proc = oci_world.run("rm", "--request-id", oci_world.next_id(), "--from-index", "oci:/absent:1",
                         "--operators", "x", env=env, check=False)  # fmt: skip
    assert proc.returncode != 0 and list(temp.iterdir()) == []
    kept = tmp_path / "work"
    oci_world.run(*args, "--request-id", oci_world.next_id(), "--workdir", str(kept), env=env)
    assert (kept / "configs").is_dir()
