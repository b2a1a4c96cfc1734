"""The iib-add Pipeline, then iib-rm on its output, against a real registry on loopback: as host
processes, and in the real step image through runc (the runner's ``container`` runtime).

The registry speaks plain HTTP; the steps learn that from the ``insecure_registries`` setting in the
steps-config workspace (an environment variable of the test would not reach a container). The
container run skips with the reason where the step image cannot be built or runc cannot run it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from iib_steps.tekton.runner import PipelineRunResult, run_pipeline
from iib_steps.tekton.runner.sources import REPO_ROOT
from tests.fixtures.registry import Registry, skopeo
from tests.fixtures.step_image import StepImage

BUNDLES = ("kube-green-0.3.0", "dbaas-operator-0.5.0")
# The Tasks' default step-image param; the image map sends it to the locally built layout.
STEP_IMAGE_REPO = "quay.io/iib-tekton/iib-step"


def _publish(registry: Registry, testdata: Path, root: Path, namespace: str) -> dict[str, Any]:
    """Push the test bundles under ``namespace`` and write a steps-config folder for that registry."""
    from iib_steps.images.build import build_bundle_image
    from iib_steps.images.registry import RegistryClient

    for name in ("iib-add", "iib-rm"):
        if not (REPO_ROOT / "pipelines" / name / "0.1" / f"{name}.yaml").is_file():
            pytest.skip(f"pipelines/{name} is not in this checkout yet")
    client = RegistryClient(insecure={registry.host})
    bundles = []
    for name in BUNDLES:
        package, _, version = name.rpartition("-")
        ref = registry.ref(f"{namespace}/{package}-bundle:v{version}")
        build_bundle_image(testdata / "bundles" / name, [ref], client=client)
        bundles.append(ref)
    config = root / "steps-config"
    config.mkdir(parents=True)
    (config / "config.yaml").write_text(
        yaml.safe_dump(
            {
                "registry": registry.ref(namespace),
                "insecure_registries": [registry.host],
                "binary_image_config": {"prod": {"v4.5": "scratch"}},
                "total_attempts": 3,
                "retry_delay": 0.5,
            }
        )
    )
    # The container's user (65532) reads the settings through the workspace's bind mount.
    config.chmod(0o755)
    (config / "config.yaml").chmod(0o644)
    return {"bundles": bundles, "config": config}


def _add_then_rm(
    setup: dict[str, Any], root: Path, **runner: Any
) -> tuple[PipelineRunResult, PipelineRunResult]:
    common = {"binary-image": "scratch"}
    runs = root / "runs"
    added = run_pipeline(
        "iib-add",
        params={**common, "bundles": setup["bundles"], "add-arches": ["amd64"], "request-id": "1"},
        workspaces={"steps-config": setup["config"]},
        runs_dir=runs,
        timeouts={"pipeline": "30m"},
        **runner,
    )
    assert added.succeeded, f"iib-add: {added.reason}: {added.message}"
    removed = run_pipeline(
        "iib-rm",
        params={
            **common,
            "operators": ["kube-green"],
            "from-index": added.results["IMAGE_URL"],
            "request-id": "2",
        },
        workspaces={"steps-config": setup["config"]},
        runs_dir=runs,
        timeouts={"pipeline": "30m"},
        **runner,
    )
    assert removed.succeeded, f"iib-rm: {removed.reason}: {removed.message}"
    return added, removed


def _check_outputs(
    registry: Registry,
    namespace: str,
    added: PipelineRunResult,
    removed: PipelineRunResult,
    root: Path,
    validate_object: Any,
) -> None:
    from iib_steps.images.extract import extract_index_catalog
    from iib_steps.images.registry import RegistryClient

    for result in (added, removed):
        assert result.reason == "Completed"  # the finally report is skipped: no status-api-url
        for obj in (result.pipelinerun, *result.taskruns.values()):
            validate_object(obj)
    index = added.results["IMAGE_URL"]
    assert index == registry.ref(f"{namespace}/iib-build:1")
    raw = skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{index}")
    manifest = json.loads(raw)
    assert manifest["mediaType"] in (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    )
    assert [m["platform"]["architecture"] for m in manifest["manifests"]] == ["amd64"]
    digest = json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{index}"))["Digest"]
    assert digest == added.results["IMAGE_DIGEST"]

    client = RegistryClient(insecure={registry.host})
    catalog = extract_index_catalog(index, root / "catalog-add", client=client)
    assert sorted(p.name for p in catalog.iterdir()) == ["dbaas-operator", "kube-green"]
    assert removed.results["IMAGE_URL"] == registry.ref(f"{namespace}/iib-build:2")
    catalog = extract_index_catalog(removed.results["IMAGE_URL"], root / "catalog-rm", client=client)
    assert sorted(p.name for p in catalog.iterdir()) == ["dbaas-operator"]


def test_add_then_rm_on_the_host_against_a_registry(
    registry: Registry, testdata: Path, tmp_path: Path, validate_object, monkeypatch
) -> None:
    monkeypatch.delenv("IIB_INSECURE_REGISTRIES", raising=False)
    setup = _publish(registry, testdata, tmp_path, "e2e-host")
    added, removed = _add_then_rm(setup, tmp_path, runtime="host")
    _check_outputs(registry, "e2e-host", added, removed, tmp_path, validate_object)


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_add_then_rm_in_the_step_image_against_a_registry(
    registry: Registry,
    testdata: Path,
    tmp_path: Path,
    validate_object,
    step_image: StepImage,
    step_image_bundle: Path,  # skips, with the reason, where runc cannot run the image here
    monkeypatch,
) -> None:
    monkeypatch.delenv("IIB_INSECURE_REGISTRIES", raising=False)
    setup = _publish(registry, testdata, tmp_path, "e2e-container")
    added, removed = _add_then_rm(
        setup, tmp_path, runtime="container", image_map={STEP_IMAGE_REPO: step_image.ref}
    )
    for result in (added, removed):
        step = next(iter(result.taskruns.values()))["status"]["steps"][0]
        assert step["terminated"]["exitCode"] == 0
    _check_outputs(registry, "e2e-container", added, removed, tmp_path, validate_object)
