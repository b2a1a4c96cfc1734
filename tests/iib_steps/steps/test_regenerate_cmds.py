"""regenerate-bundle, regenerate-bundle-batch and recursive-related-bundles end to end, on bundle
images built from real bundle directories whose CSV pull specs point at the loopback registry."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from ruamel.yaml import YAML

from iib_steps.images.build import build_bundle_image
from iib_steps.images.copy import copy_image
from iib_steps.images.extract import extract_bundle
from iib_steps.images.inspect import get_labels
from tests.conftest import TESTDATA
from tests.iib_steps.steps.conftest import World

pytestmark = pytest.mark.slow


def bundle_copy(tmp: Path, name: str, old: str, new: str) -> Path:
    """A real bundle directory with one pull spec of its CSV pointed elsewhere."""
    dest = tmp / f"{name}-{abs(hash(new)) % 10_000}"
    shutil.copytree(TESTDATA / "bundles" / name, dest)
    for csv in (dest / "manifests").glob("*.clusterserviceversion.yaml"):
        csv.write_text(csv.read_text().replace(old, new))
    return dest


def _make_related(w: World, tmp: Path, pull_spec) -> dict[str, str]:
    """parent bundle (kube-green) → child bundle (pelorus) → operand image, stored at ``w.ref(name)``
    and named in the CSVs by ``pull_spec(name)``."""
    copy_image(w.binary, [w.ref("pelorus-operator:0.0.9")], client=w.client)
    operand = pull_spec("pelorus-operator:0.0.9")
    child_dir = bundle_copy(tmp, "pelorus-operator-0.0.9", "quay.io/pelorus/pelorus-operator:0.0.9", operand)
    labels = {"com.redhat.delivery.operator.bundle": "true"}
    build_bundle_image(child_dir, [w.ref("pelorus-bundle:child")], labels=labels, client=w.client)
    child = pull_spec("pelorus-bundle:child")
    parent_dir = bundle_copy(tmp, "kube-green-0.7.1", "docker.io/kubegreen/kube-green:0.7.1", child)
    build_bundle_image(parent_dir, [w.ref("kube-green-bundle:parent")], client=w.client)
    return {"operand": operand, "child": child, "parent": w.ref("kube-green-bundle:parent")}


@pytest.fixture(scope="module")
def related(reg_world: World, tmp_path_factory):
    """The chain in the registry, named by registry pull specs."""
    return _make_related(reg_world, tmp_path_factory.mktemp("related"), reg_world.ref)


@pytest.fixture(scope="module")
def oci_related(oci_world: World, tmp_path_factory):
    """The chain in OCI layouts, named in the CSVs by the pull specs that map back to them."""
    return _make_related(
        oci_world, tmp_path_factory.mktemp("oci-related"), lambda n: f"localhost/oci-layout/{n}"
    )


def csv_of(bundle_dir: Path):
    (csv,) = (bundle_dir / "manifests").glob("*.clusterserviceversion.yaml")
    return YAML().load(csv.read_text())


def test_regenerate_bundle_pins_and_writes_related_bundles(reg_world: World, related, tmp_path):
    rid = reg_world.next_id()
    proc = reg_world.run(
        "regenerate-bundle",
        "--request-id",
        rid,
        "--from-bundle-image",
        related["parent"],
        "--related-bundles-file",
        str(tmp_path / "related.json"),
        "--results-dir",
        str(tmp_path / "results"),
        "--request-json",
        str(tmp_path / "request.json"),
    )
    out = reg_world.output(rid)
    assert proc.stdout.strip() == out
    labels = get_labels(out, client=reg_world.client)
    assert labels["com.redhat.iib.pinned"] == "true"
    assert labels["operators.operatorframework.io.bundle.package.v1"] == "kube-green"
    bundle = extract_bundle(out, tmp_path / "out", client=reg_world.client)
    csv = csv_of(bundle)
    images = {i["image"] for i in csv["spec"]["relatedImages"]}
    assert len(images) == 1 and images.pop().startswith(reg_world.ref("pelorus-bundle@sha256:"))
    related_bundles = json.loads((tmp_path / "related.json").read_text())
    assert len(related_bundles) == 1 and related_bundles[0].startswith(
        reg_world.ref("pelorus-bundle@sha256:")
    )
    request = json.loads((tmp_path / "request.json").read_text())
    assert request["request_type"] == "regenerate-bundle" and request["bundle_image"] == out
    assert request["from_bundle_image_resolved"].startswith(reg_world.ref("kube-green-bundle@sha256:"))
    assert (tmp_path / "results" / "IMAGE_URL").read_text() == out


def test_regenerate_with_organization_customizations(reg_world: World, related, tmp_path):
    settings = yaml.safe_load(reg_world.settings.read_text())
    settings["organization_customizations"] = {
        "acme": [
            {"type": "package_name_suffix", "suffix": "-acme"},
            {"type": "csv_annotations", "annotations": {"acme.com/pkg": "{package_name}"}},
            {"type": "enclose_repo", "namespace": "acme", "enclosure_glue": "----"},
        ]
    }
    path = tmp_path / "settings.yaml"
    path.write_text(yaml.safe_dump(settings))
    rid = reg_world.next_id()
    reg_world.run(
        "regenerate-bundle",
        "--config",
        str(path),
        "--request-id",
        rid,
        "--from-bundle-image",
        related["child"],
        "--organization",
        "acme",
    )
    out = reg_world.output(rid)
    assert get_labels(out, client=reg_world.client)["operators.operatorframework.io.bundle.package.v1"] == (
        "pelorus-operator-acme"
    )
    csv = csv_of(extract_bundle(out, tmp_path / "out", client=reg_world.client))
    assert csv["metadata"]["annotations"]["acme.com/pkg"] == "pelorus-operator-acme"
    assert {i["image"] for i in csv["spec"]["relatedImages"]} == {
        reg_world.ref("acme/pelorus-operator:0.0.9")
    }


def test_regenerate_bundle_batch(reg_world: World, related, tmp_path):
    rid = reg_world.next_id()
    requests = {
        "build_requests": [{"from_bundle_image": related["parent"]}, {"from_bundle_image": related["child"]}]
    }
    proc = reg_world.run(
        "regenerate-bundle-batch", "--request-id", rid, "--build-requests", json.dumps(requests)
    )
    assert proc.stdout.split() == [reg_world.output(f"{rid}-0"), reg_world.output(f"{rid}-1")]
    bad = reg_world.run(
        "regenerate-bundle-batch",
        "--request-id",
        rid,
        "--build-requests",
        json.dumps({"build_requests": [{"from_bundle_image": related["child"]}, {"x": 1}]}),
        check=False,
    )
    assert bad.returncode == 1
    assert (
        "The following parameters are invalid: x. This occurred on the build request in index 1."
        in bad.stderr
    )


def test_recursive_related_bundles(reg_world: World, related, tmp_path):
    rid = reg_world.next_id()
    reg_world.run(
        "recursive-related-bundles",
        "--request-id",
        rid,
        "--parent-bundle-image",
        related["parent"],
        "--output-file",
        str(tmp_path / "nested.json"),
    )
    nested = json.loads((tmp_path / "nested.json").read_text())
    assert nested[0] == related["child"]
    assert nested[1].startswith(reg_world.ref("kube-green-bundle@sha256:")) and len(nested) == 2

    settings = yaml.safe_load(reg_world.settings.read_text())
    settings["max_recursive_related_bundles"] = 1
    path = tmp_path / "settings.yaml"
    path.write_text(yaml.safe_dump(settings))
    proc = reg_world.run(
        "recursive-related-bundles",
        "--config",
        str(path),
        "--parent-bundle-image",
        related["parent"],
        check=False,
    )
    assert proc.returncode == 1
    assert (
        proc.stderr.strip().splitlines()[-1]
        == "error: Max number of related bundles exceeded. Potential DOS attack!"
    )


def test_regenerate_in_oci_layouts(oci_world: World, tmp_path):
    """No registry at all: a pinned bundle (nothing to resolve) gets the organization's customizations."""
    w = oci_world
    src = w.ref("pinned-bundle:v1")
    build_bundle_image(
        TESTDATA / "bundles" / "kube-green-0.7.1",
        [src],
        labels={"com.redhat.iib.pinned": "true"},
        client=w.client,
    )
    settings = yaml.safe_load(w.settings.read_text())
    settings["organization_customizations"] = {"o": [{"type": "package_name_suffix", "suffix": "-o"}]}
    path = tmp_path / "settings.yaml"
    path.write_text(yaml.safe_dump(settings))
    rid = w.next_id()
    w.run(
        "regenerate-bundle",
        "--config",
        str(path),
        "--request-id",
        rid,
        "--from-bundle-image",
        src,
        "--organization",
        "o",
    )
    labels = get_labels(w.output(rid), client=w.client)
    assert labels["operators.operatorframework.io.bundle.package.v1"] == "kube-green-o"
    assert labels["com.redhat.iib.pinned"] == "true"


def test_regenerate_missing_bundle_is_one_line(reg_world: World):
    rid = reg_world.next_id()
    proc = reg_world.run(
        "regenerate-bundle",
        "--request-id",
        rid,
        "--from-bundle-image",
        reg_world.ref("absent-bundle:v1"),
        check=False,
    )
    assert proc.returncode == 1 and proc.stderr.strip().splitlines()[-1].startswith(
        "error: cannot read the image"
    )
    assert not reg_world.exists(reg_world.output(rid))


@pytest.mark.parametrize("reachable", [True, False])
def test_add_check_related_images(reg_world: World, related, tmp_path, reachable):
    w = reg_world
    operand = related["operand"] if reachable else w.ref("absent/operand:1")
    bundle_dir = bundle_copy(
        tmp_path, "kube-green-0.3.0", "gcr.io/kubebuilder/kube-rbac-proxy:v0.5.0", operand
    )
    for csv in (bundle_dir / "manifests").glob("*.clusterserviceversion.yaml"):
        csv.write_text(csv.read_text().replace("kubegreen/kube-green:0.3.0", related["operand"]))
    bundle = w.ref(f"checked-bundle:{reachable}")
    build_bundle_image(bundle_dir, [bundle], client=w.client)
    empty = w.next_id()
    w.run("create-empty-index", "--request-id", empty, "--from-index", w.index)
    rid = w.next_id()
    proc = w.run(
        "add",
        "--request-id",
        rid,
        "--from-index",
        w.output(empty),
        "--bundles",
        bundle,
        "--check-related-images",
        check=reachable,
    )
    if reachable:
        assert w.exists(w.output(rid))
    else:
        assert proc.returncode == 1
        assert proc.stderr.strip().splitlines()[-1] == (
            f"error: IIB cannot access the following related images ['{operand}']"
        )
        assert not w.exists(w.output(rid))


def test_recursive_and_batch_in_oci_layouts(oci_world: World, oci_related, tmp_path):
    w = oci_world
    rid = w.next_id()
    w.run(
        "recursive-related-bundles",
        "--request-id",
        rid,
        "--parent-bundle-image",
        oci_related["parent"],
        "--output-file",
        str(tmp_path / "nested.json"),
    )
    nested = json.loads((tmp_path / "nested.json").read_text())
    assert nested[0] == oci_related["child"] and nested[1].startswith(w.ref("kube-green-bundle@sha256:"))
    rid = w.next_id()
    requests = [
        {"from_bundle_image": oci_related["parent"]},
        {"from_bundle_image": w.ref("pelorus-bundle:child")},
    ]
    proc = w.run(
        "regenerate-bundle-batch",
        "--request-id",
        rid,
        "--build-requests",
        json.dumps(requests),
        "--request-json",
        str(tmp_path / "batch.json"),
    )
    assert proc.stdout.split() == [w.output(f"{rid}-0"), w.output(f"{rid}-1")]
    csv = csv_of(extract_bundle(w.output(f"{rid}-0"), tmp_path / "out", client=w.client))
    (image,) = {i["image"] for i in csv["spec"]["relatedImages"]}
    assert image.startswith("localhost/oci-layout/pelorus-bundle@sha256:")  # pinned through the layout
    batch = json.loads((tmp_path / "batch.json").read_text())
    assert [b["bundle_image"] for b in batch] == [w.output(f"{rid}-0"), w.output(f"{rid}-1")]


def test_regenerate_keeps_every_arch_of_a_multi_arch_bundle(reg_world: World, related, tmp_path):
    from iib_steps.config import load_settings
    from iib_steps.operations.imaging import ImageIO
    from tests.fixtures.registry import skopeo

    w = reg_world
    images = ImageIO(load_settings(w.settings), w.client)
    source = w.ref("multi-arch-bundle:v1")
    bundle_dir = extract_bundle(related["parent"], tmp_path / "src", client=w.client)
    images.build_bundle(
        base_resolved=related["parent"],
        bundle_dir=bundle_dir,
        labels={},
        arches=["amd64", "s390x"],
        output=source,
    )
    rid = w.next_id()
    w.run("regenerate-bundle", "--request-id", rid, "--from-bundle-image", source)
    raw = json.loads(skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{w.output(rid)}"))
    assert raw["mediaType"] == "application/vnd.docker.distribution.manifest.list.v2+json"
    assert sorted(m["platform"]["architecture"] for m in raw["manifests"]) == ["amd64", "s390x"]
    labels = get_labels(w.output(rid), arch="s390x", client=w.client)
    assert labels["com.redhat.iib.pinned"] == "true"
