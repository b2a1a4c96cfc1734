"""The repository's own Pipelines end to end on the embedded runner (host runtime), against OCI
layouts on disk: add bundles to a new index, remove an operator from it, and a failing add.

Skips with the reason where the Pipelines, the shared test bundles, or the step options the Tasks
use are not there yet.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from iib_steps.tekton.runner import run_pipeline
from iib_steps.tekton.runner.sources import REPO_ROOT
from tests.iib_steps.tekton.e2e_inputs import bundle_layouts

IIB_STEP = str(Path(sys.executable).parent / "iib-step")
BUNDLES = ("kube-green-0.3.0", "dbaas-operator-0.5.0")


@pytest.fixture(scope="module")
def index_setup(tmp_path_factory: pytest.TempPathFactory, testdata: Path) -> dict:
    root = tmp_path_factory.mktemp("e2e")
    images, built = bundle_layouts(root, testdata, BUNDLES)
    refs = {name.rpartition("-")[0]: ref for name, ref in built.items()}
    config = root / "steps-config"
    config.mkdir()
    (config / "config.yaml").write_text(
        f'registry: "oci:{images}"\noci_layout_root: "{images}"\n'
        "binary_image_config:\n  prod:\n    v4.5: scratch\n"
    )
    return {"root": root, "images": images, "bundles": refs, "config": config}


def test_add_then_rm_pipelines_build_index_images(index_setup: dict, validate_object) -> None:
    from iib_steps.images.extract import extract_index_catalog

    runs = index_setup["root"] / "runs"
    added = run_pipeline(
        "iib-add",
        params={
            "bundles": list(index_setup["bundles"].values()),
            "binary-image": "scratch",
            "add-arches": ["amd64"],
            "request-id": "1",
        },
        workspaces={"steps-config": index_setup["config"]},
        runs_dir=runs,
    )
    assert added.succeeded, added.message
    # The finally report is guarded by status-api-url, given none here: skipped, so "Completed".
    assert added.reason == "Completed"
    assert added.pipelinerun["status"]["skippedTasks"] == [
        {
            "name": "report",
            "reason": "When Expressions evaluated to false",
            "whenExpressions": [{"input": "", "operator": "notin", "values": [""]}],
        }
    ]
    index = added.results["IMAGE_URL"]
    assert added.results["IMAGE_DIGEST"].startswith("sha256:")
    catalog = extract_index_catalog(index, index_setup["root"] / "catalog-1")
    assert sorted(p.name for p in catalog.iterdir()) == ["dbaas-operator", "kube-green"]
    for obj in (added.pipelinerun, *added.taskruns.values()):
        validate_object(obj)

    removed = run_pipeline(
        "iib-rm",
        params={
            "operators": ["kube-green"],
            "from-index": index,
            "binary-image": "scratch",
            "request-id": "2",
        },
        workspaces={"steps-config": index_setup["config"]},
        runs_dir=runs,
    )
    assert removed.succeeded, removed.message
    catalog = extract_index_catalog(removed.results["IMAGE_URL"], index_setup["root"] / "catalog-2")
    assert sorted(p.name for p in catalog.iterdir()) == ["dbaas-operator"]


def test_a_failing_add_fails_the_run_with_the_steps_error_and_pushes_nothing(index_setup: dict) -> None:
    images: Path = index_setup["images"]
    before = sorted(p.name for p in images.iterdir())
    result = run_pipeline(
        "iib-add",
        params={
            "bundles": [f"oci:{images}/no-such-bundle:v1"],
            "binary-image": "scratch",
            "add-arches": ["amd64"],
            "request-id": "3",
        },
        workspaces={"steps-config": index_setup["config"]},
        runs_dir=index_setup["root"] / "runs",
    )
    assert result.reason == "Failed"
    add = result.taskruns["add"]["status"]["conditions"][0]
    assert add["reason"] == "Failed"
    assert "error:" in add["message"]
    assert "add: error:" in result.message
    assert sorted(p.name for p in images.iterdir()) == before


def _run(name: str, setup: dict, **params) -> dict:
    result = run_pipeline(
        name,
        params={"binary-image": "scratch", **params},
        workspaces={"steps-config": setup["config"]},
        runs_dir=setup["root"] / "runs",
    )
    assert result.succeeded, f"{name}: {result.message}"
    return result.results


def test_create_empty_index_pipeline(index_setup: dict) -> None:
    from iib_steps.images.extract import extract_index_catalog

    root = index_setup["root"]
    bundles = index_setup["bundles"]
    one = _run(
        "iib-add",
        index_setup,
        bundles=[bundles["kube-green"]],
        **{"add-arches": ["amd64"], "request-id": "10"},
    )
    empty = _run(
        "iib-create-empty-index", index_setup, **{"from-index": one["IMAGE_URL"], "request-id": "12"}
    )
    assert list(extract_index_catalog(empty["IMAGE_URL"], root / "empty").iterdir()) == []


def test_every_pipeline_of_the_repository_resolves_for_the_runner() -> None:
    from iib_steps.tekton.runner.graph import resolve_tasks
    from iib_steps.tekton.runner.sources import CatalogTaskResolver, load_definition

    files = [
        f for f in sorted((REPO_ROOT / "pipelines").glob("*/*/*.yaml")) if f.stem == f.parent.parent.name
    ]
    if not files:
        pytest.skip("no Pipelines in pipelines/ yet")
    for file in files:
        obj, _ = load_definition(file, "Pipeline")
        declared = {str(p["name"]) for p in obj["spec"].get("params") or ()}
        tasks = resolve_tasks(obj["spec"], CatalogTaskResolver(), declared)
        assert tasks, file
