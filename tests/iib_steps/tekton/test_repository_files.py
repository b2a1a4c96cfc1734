"""Every Task, Pipeline and sample run we ship passes the schema, webhook and convention checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from iib_steps.cli import main_group
from iib_steps.tekton import checks, policy, schemas
from iib_steps.tekton.loader import Resource, load_file
from iib_steps.tekton.runner.params import bind_params
from tests.conftest import ROOT
from tests.iib_steps.tekton.conftest import REQUEST_TYPES, resources, samples

STEP_IMAGE = (ROOT / "tasks" / "STEP_IMAGE").read_text().strip()
ALL = resources()
SAMPLES = samples()
# Options of `iib-step <type>` that are not Task params: set by the Task itself, or secrets
# (workspaces), or files inside the pod.
NOT_PARAMS = {
    "config", "workdir", "result", "results-dir", "request-json", "help",
    "overwrite-from-index-token-file", "overwrite-target-index-token-file", "registry-auths-file",
    "deprecation-schema-file", "build-requests-file", "related-bundles-file", "output-file",
}  # fmt: skip


def ids(items: list[Resource]) -> list[str]:
    return [str(r.path.relative_to(ROOT)) for r in items]


def test_every_request_type_has_a_task_and_a_pipeline(tasks, pipelines) -> None:
    assert sorted(tasks) == sorted([f"iib-{t}" for t in REQUEST_TYPES] + ["iib-report"])
    assert sorted(pipelines) == sorted([f"iib-{t}" for t in REQUEST_TYPES] + ["update-fbc-catalog"])


@pytest.mark.parametrize("resource", ALL + SAMPLES, ids=ids(ALL + SAMPLES))
def test_strictly_valid_against_the_crd_schema(resource: Resource, schemas: Path) -> None:
    assert schemas and not list(schemas_problems(resource, schemas))


def schemas_problems(resource: Resource, schema_dir: Path) -> list[str]:
    return schemas.validate(resource, schema_dir)


@pytest.mark.parametrize("resource", ALL + SAMPLES, ids=ids(ALL + SAMPLES))
def test_passes_the_webhook_checks(resource: Resource) -> None:
    assert checks.check_resource(resource) == []


@pytest.mark.parametrize("resource", ALL, ids=ids(ALL))
def test_catalog_layout_and_readme(resource: Resource) -> None:
    assert policy.check_layout(resource) + policy.check_readme(resource) == []
    assert (resource.path.parent / "samples").is_dir()


@pytest.mark.parametrize(
    "resource", [r for r in ALL if r.kind == "Task"], ids=ids([r for r in ALL if r.kind == "Task"])
)
def test_task_conventions(resource: Resource) -> None:
    assert policy.check_task_policy(resource, STEP_IMAGE) == []


@pytest.mark.parametrize(
    "resource", [r for r in ALL if r.kind == "Pipeline"], ids=ids([r for r in ALL if r.kind == "Pipeline"])
)
def test_pipelines_run_tasks_as_they_are_declared(resource: Resource, tasks) -> None:
    assert checks.check_task_use(resource, tasks) + policy.check_pipeline_policy(resource) == []


@pytest.mark.parametrize("resource", SAMPLES, ids=ids(SAMPLES))
def test_samples_run_what_exists_with_its_required_params(resource: Resource, tasks, pipelines) -> None:
    spec = resource.spec
    if resource.kind == "TaskRun":
        target = tasks[spec["taskRef"]["name"]]
    else:
        target = pipelines[spec["pipelineRef"]["name"]]
    declared = {p["name"]: p for p in target.spec.get("params") or []}
    given = {p["name"] for p in spec.get("params") or []}
    assert given <= set(declared)
    assert {n for n, p in declared.items() if "default" not in p} <= given
    assert {w["name"] for w in spec.get("workspaces") or []} <= {w["name"] for w in target.spec["workspaces"]}


@pytest.mark.parametrize("kind", ["Task", "Pipeline"])
def test_merge_index_image_needs_only_source_from_index(kind: str, tasks, pipelines) -> None:
    # IIB's merge-index-image request makes target_index optional; the step reads "" as none.
    resource = (tasks if kind == "Task" else pipelines)["iib-merge-index-image"]
    params = resource.spec["params"]
    assert {p["name"] for p in params if "default" not in p} == {"source-from-index"}
    bound = bind_params(params, {"source-from-index": "registry.example.com/index:v4.17"}, "merge")
    assert bound["target-index"] == ""


@pytest.mark.parametrize("request_type", REQUEST_TYPES)
def test_task_params_are_the_step_command_s_options(request_type: str, tasks) -> None:
    command = main_group.get_command(None, request_type)
    options = {o[2:] for p in command.params for o in p.opts if o.startswith("--")} - NOT_PARAMS
    params = {p["name"] for p in tasks[f"iib-{request_type}"].spec["params"]} - {"step-image", "traceparent"}
    # fbc-fragment is IIB's legacy field; every other option is a param and nothing else is.
    assert params == options
    arrays = {p["name"] for p in tasks[f"iib-{request_type}"].spec["params"] if p.get("type") == "array"}
    multiple = {o[2:] for p in command.params if getattr(p, "multiple", False) for o in p.opts}
    assert arrays == multiple - NOT_PARAMS


def test_the_step_image_has_one_source_of_truth(tasks) -> None:
    defaults = {
        name: next(p["default"] for p in t.spec["params"] if p["name"] == "step-image")
        for name, t in tasks.items()
    }
    assert set(defaults.values()) == {STEP_IMAGE}


def test_update_fbc_catalog_has_exactly_konflux_s_params_and_results(pipelines) -> None:
    spec = pipelines["update-fbc-catalog"].spec
    assert [p["name"] for p in spec["params"]] == [
        "iibServiceAccountSecret", "publishingCredentials", "fbcFragments", "fromIndex", "buildTags",
        "addArches", "mustPublishIndexImage", "mustOverwriteFromIndexImage", "buildTimeoutSeconds",
        "taskGitUrl", "taskGitRevision",
    ]  # fmt: skip
    assert all(p.get("type", "string") == "string" for p in spec["params"])
    defaults = {p["name"]: p.get("default") for p in spec["params"]}
    assert defaults["buildTags"] == defaults["addArches"] == "[]"
    assert defaults["mustOverwriteFromIndexImage"] == defaults["mustPublishIndexImage"] == "false"
    assert defaults["buildTimeoutSeconds"] == "3600"
    assert defaults["iibServiceAccountSecret"] == "iib-service-account"
    assert [r["name"] for r in spec["results"]] == [
        "jsonBuildInfo", "buildState", "indexImageDigests", "iibLog", "exitCode",
    ]  # fmt: skip


def test_no_script_anywhere() -> None:
    for path in [*(ROOT / "tasks").rglob("*.yaml"), *(ROOT / "pipelines").rglob("*.yaml")]:
        assert "script:" not in path.read_text(), path


def test_results_fit_tekton_s_budget(tasks) -> None:
    """Names plus a generous value per result stay under the 4096-byte termination message."""
    from iib_steps.results import RESULTS_BUDGET

    for task in tasks.values():
        assert len(task.spec.get("results") or []) * 40 < RESULTS_BUDGET, task.name


def test_readme_tables_are_read_as_the_check_expects(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("## Params\n\n| name |\n| --- |\n| `a` |\n| `b` |\n\n## Results\n\n| `c` |\n")
    assert policy.readme_names(readme, "Params") == ["a", "b"]
    assert policy.readme_names(readme, "Results") == ["c"]


def test_set_step_image_moves_every_task_to_the_new_digest(tmp_path: Path) -> None:
    import shutil
    import subprocess

    for folder in ("tasks", "pipelines", "scripts"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    new = "quay.io/example/iib-step:0.2.0@sha256:" + "ab" * 32
    done = subprocess.run(
        ["bash", "scripts/set-step-image.sh", new], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "tasks" / "STEP_IMAGE").read_text().strip() == new
    for path in (tmp_path / "tasks").glob("*/0.1/*.yaml"):
        [task] = load_file(path)
        assert policy.check_task_policy(task, new) == [], path
    assert STEP_IMAGE not in "".join(p.read_text() for p in (tmp_path / "tasks").rglob("README.md"))
    refused = subprocess.run(
        ["bash", "scripts/set-step-image.sh", "quay.io/example/iib-step:latest"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert refused.returncode == 1 and refused.stderr.startswith("error: ")
