"""More of the repository's Pipelines end to end on the embedded runner (host runtime), against OCI
layouts on disk: iib-fbc-operations, iib-merge-index-image and iib-add-deprecations, each on indexes
built by the iib-add Pipeline from the shared test bundles.

Skips with the reason where the Pipelines, the shared test bundles, or the step options the Tasks
use are not there yet.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from iib_steps.tekton.runner import run_pipeline
from iib_steps.tekton.runner.sources import REPO_ROOT
from tests.iib_steps.tekton.e2e_inputs import bundle_layouts

BUNDLES = ("kube-green-0.3.0", "kube-green-0.3.1", "dbaas-operator-0.5.0", "bpfman-operator-0.5.6")
PIPELINES = ("iib-add", "iib-fbc-operations", "iib-merge-index-image", "iib-add-deprecations")


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, testdata: Path) -> dict:
    root = tmp_path_factory.mktemp("e2e-more")
    images, refs = bundle_layouts(root, testdata, BUNDLES)
    config = root / "steps-config"
    config.mkdir()
    # Binaryless builds for v4.5, IIB's OCP version for an index built from nothing; bundles without
    # a com.redhat.openshift.versions label allowed for these images when a merge request says
    # ignore-bundle-ocp-version (see tests/iib_steps/steps/test_merge.py).
    settings = {
        "registry": f"oci:{images}",
        "oci_layout_root": str(images),
        "binary_image_config": {"prod": {"v4.5": "scratch"}},
        "no_ocp_label_allow_list": [f"oci:{images}"],
    }
    (config / "config.yaml").write_text(yaml.safe_dump(settings))
    return {"root": root, "images": images, "bundles": refs, "config": config, "ids": iter(range(100, 10**6))}


def _run(
    name: str, setup: dict, validate_object=None, binary_image: str | None = "scratch", **params
) -> dict:
    """Runs Pipeline ``name`` with the host runtime; asserts it Succeeded and, given
    ``validate_object``, that its PipelineRun and TaskRuns are valid; returns its results."""
    if binary_image is not None:
        params["binary-image"] = binary_image
    result = run_pipeline(
        name,
        params={"request-id": str(next(setup["ids"])), **params},
        workspaces={"steps-config": setup["config"]},
        runs_dir=setup["root"] / "runs",
    )
    assert result.succeeded, f"{name}: {result.reason}: {result.message}"
    if validate_object is not None:
        for obj in (result.pipelinerun, *result.taskruns.values()):
            validate_object(obj)
        assert result.results["IMAGE_DIGEST"].startswith("sha256:"), result.results
        assert result.results["IMAGE_URL"], result.results
        assert result.results["IMAGE_REF"].endswith("@" + result.results["IMAGE_DIGEST"]), result.results
    return result.results


def _index(setup: dict, *names: str) -> str:
    bundles = [setup["bundles"][n] for n in names]
    return _run("iib-add", setup, bundles=bundles, **{"add-arches": ["amd64"]})["IMAGE_URL"]


def _catalog(setup: dict, image: str, name: str) -> Path:
    from iib_steps.images.extract import extract_index_catalog

    return extract_index_catalog(image, setup["root"] / name)


def _documents(catalog: Path) -> list[dict]:
    """Every FBC document (schema blob) of an extracted catalog, JSON or YAML."""
    docs: list[dict] = []
    for path in sorted(p for p in catalog.rglob("*") if p.is_file()):
        if path.suffix == ".json":
            text = path.read_text()
            decoder = json.JSONDecoder()
            i = 0
            while i < len(text):
                while i < len(text) and text[i].isspace():
                    i += 1
                if i >= len(text):
                    break
                obj, i = decoder.raw_decode(text, i)
                docs.append(obj)
        elif path.suffix in (".yaml", ".yml"):
            docs.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    return docs


def _packages(catalog: Path) -> set[str]:
    return {d["name"] for d in _documents(catalog) if d.get("schema") == "olm.package"}


def _bundles(catalog: Path) -> set[str]:
    return {d["name"] for d in _documents(catalog) if d.get("schema") == "olm.bundle"}


def test_fbc_operations_pipeline_replaces_the_fragments_packages(setup: dict, validate_object) -> None:
    # The fragment's kube-green package has one bundle more (v0.3.1 replaces v0.3.0).
    fragment = _index(setup, "kube-green-0.3.0", "kube-green-0.3.1")
    from_index = _index(setup, "kube-green-0.3.0", "dbaas-operator-0.5.0")
    assert _bundles(_catalog(setup, from_index, "fbc-from")) == {"dbaas-operator.v0.5.0", "kube-green.v0.3.0"}
    results = _run(
        "iib-fbc-operations",
        setup,
        validate_object,
        **{"from-index": from_index, "fbc-fragments": [fragment]},
    )
    assert results["from_index_resolved"].split("@")[1].startswith("sha256:")
    catalog = _catalog(setup, results["IMAGE_URL"], "fbc-out")
    # The fragment's kube-green package replaces the index's; dbaas-operator is left alone.
    assert _packages(catalog) == {"dbaas-operator", "kube-green"}
    assert _bundles(catalog) == {"dbaas-operator.v0.5.0", "kube-green.v0.3.0", "kube-green.v0.3.1"}


def test_merge_index_image_pipeline_merges_in_what_the_source_lacks(setup: dict, validate_object) -> None:
    source = _index(setup, "kube-green-0.3.0")
    target = _index(setup, "kube-green-0.3.0", "bpfman-operator-0.5.6")
    results = _run(
        "iib-merge-index-image",
        setup,
        validate_object,
        **{"source-from-index": source, "target-index": target, "ignore-bundle-ocp-version": "true"},
    )
    assert results["source_from_index_resolved"].split("@")[1].startswith("sha256:")
    assert results["target_index_resolved"].split("@")[1].startswith("sha256:")
    # The target's extra package (bpfman-operator, unlabelled but allowed here) is merged in.
    catalog = _catalog(setup, results["IMAGE_URL"], "merge-out")
    assert _packages(catalog) == {"kube-green", "bpfman-operator"}


def test_add_deprecations_pipeline_adds_the_deprecations_blob(setup: dict, validate_object) -> None:
    from_index = _index(setup, "kube-green-0.3.0")
    schema = {
        "schema": "olm.deprecations",
        "package": "kube-green",
        "entries": [{"reference": {"schema": "olm.bundle", "name": "kube-green.v0.3.0"}, "message": "old"}],
    }
    results = _run(
        "iib-add-deprecations",
        setup,
        validate_object,
        **{
            "from-index": from_index,
            "operator-package": "kube-green",
            "deprecation-schema": json.dumps(schema),
        },
    )
    assert results["from_index_resolved"].split("@")[1].startswith("sha256:")
    catalog = _catalog(setup, results["IMAGE_URL"], "deprecations-out")
    deprecations = [d for d in _documents(catalog) if d.get("schema") == "olm.deprecations"]
    assert len(deprecations) == 1, deprecations
    assert deprecations[0]["package"] == "kube-green"
    assert deprecations[0]["entries"] == schema["entries"]
    assert _packages(catalog) == {"kube-green"}


@pytest.fixture(scope="module")
def related(registry, testdata: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """In the loopback registry: a parent bundle (kube-green) whose CSV names a child bundle
    (pelorus), whose CSV names an operand image; and a steps-config for that registry.
    As tests/iib_steps/steps/test_regenerate_cmds.py builds it, so nothing needs the internet."""
    for name in ("iib-regenerate-bundle", "iib-recursive-related-bundles"):
        if not (REPO_ROOT / "pipelines" / name / "0.1" / f"{name}.yaml").is_file():
            pytest.skip(f"pipelines/{name} is not in this checkout yet")
    from iib_steps.images.build import build_bundle_image
    from iib_steps.images.registry import RegistryClient

    root = tmp_path_factory.mktemp("e2e-related")
    client = RegistryClient(insecure={registry.host})
    ns = "e2e-more"

    def bundle_copy(name: str, old: str, new: str) -> Path:
        dest = root / name
        shutil.copytree(testdata / "bundles" / name, dest)
        for csv in (dest / "manifests").glob("*.clusterserviceversion.yaml"):
            csv.write_text(csv.read_text().replace(old, new))
        return dest

    # Any image serves as the operand: it is only resolved to its digest.
    operand = registry.ref(f"{ns}/pelorus-operator:0.0.9")
    build_bundle_image(testdata / "bundles" / "kube-green-0.3.0", [operand], client=client)
    child = registry.ref(f"{ns}/pelorus-bundle:child")
    child_dir = bundle_copy("pelorus-operator-0.0.9", "quay.io/pelorus/pelorus-operator:0.0.9", operand)
    labels = {"com.redhat.delivery.operator.bundle": "true"}
    build_bundle_image(child_dir, [child], labels=labels, client=client)
    parent = registry.ref(f"{ns}/kube-green-bundle:parent")
    parent_dir = bundle_copy("kube-green-0.7.1", "docker.io/kubegreen/kube-green:0.7.1", child)
    build_bundle_image(parent_dir, [parent], client=client)
    config = root / "steps-config"
    config.mkdir()
    (config / "config.yaml").write_text(
        yaml.safe_dump(
            {
                "registry": registry.ref(ns),
                "insecure_registries": [registry.host],
                "total_attempts": 3,
                "retry_delay": 0.5,
            }
        )
    )
    return {
        "root": root,
        "config": config,
        "client": client,
        "registry": registry,
        "ns": ns,
        "parent": parent,
        "child": child,
        "ids": iter(range(500, 10**6)),
    }


def test_regenerate_bundle_pipeline_pins_the_related_images(related: dict, validate_object) -> None:
    from iib_steps.images.extract import extract_bundle
    from iib_steps.images.inspect import get_labels

    results = _run(
        "iib-regenerate-bundle",
        related,
        validate_object,
        binary_image=None,
        **{"from-bundle-image": related["parent"]},
    )
    registry, ns = related["registry"], related["ns"]
    out = results["IMAGE_URL"]
    assert results["bundle_image"] == out
    assert results["package_name"] == "kube-green"
    assert results["from_bundle_image_resolved"].startswith(registry.ref(f"{ns}/kube-green-bundle@sha256:"))
    labels = get_labels(out, client=related["client"])
    assert labels["com.redhat.iib.pinned"] == "true"
    assert labels["operators.operatorframework.io.bundle.package.v1"] == "kube-green"
    bundle = extract_bundle(out, related["root"] / "regenerated", client=related["client"])
    (csv,) = (bundle / "manifests").glob("*.clusterserviceversion.yaml")
    images = {i["image"] for i in yaml.safe_load(csv.read_text())["spec"]["relatedImages"]}
    (image,) = images
    assert image.startswith(registry.ref(f"{ns}/pelorus-bundle@sha256:"))  # the child, pinned


def test_recursive_related_bundles_pipeline_finds_the_nested_bundle(related: dict, validate_object) -> None:
    result = run_pipeline(
        "iib-recursive-related-bundles",
        params={"parent-bundle-image": related["parent"], "request-id": "600"},
        workspaces={"steps-config": related["config"]},
        runs_dir=related["root"] / "runs",
    )
    assert result.succeeded, f"{result.reason}: {result.message}"
    for obj in (result.pipelinerun, *result.taskruns.values()):
        validate_object(obj)
    registry, ns = related["registry"], related["ns"]
    resolved = result.results["parent_bundle_image_resolved"]
    assert resolved.startswith(registry.ref(f"{ns}/kube-green-bundle@sha256:"))
    # The parent names the child bundle; both count, as the step's own test shows.
    assert result.results["nested_bundles_count"] == "2"
