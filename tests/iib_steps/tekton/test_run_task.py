"""Tasks from a folder in the catalog layout (highest version wins), from a Tekton bundle, and run
on their own: params of every type with defaults, stepTemplate, context, workspaces, secrets."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from iib_steps.tekton.runner import run_pipeline, run_task
from tests.iib_steps.tekton.conftest import PY, pipeline, py_step, task_spec
from tests.iib_steps.tekton.oci_images import bundle_image

DATA = Path(__file__).parent / "data"
TASKS = DATA / "tasks"


def test_a_task_by_name_runs_its_highest_version_with_defaults(tmp_path: Path, validate_object) -> None:
    result = run_task(
        "greet", params={"who": "world", "extra": ["a", "b"]}, task_dirs=[TASKS], runs_dir=tmp_path
    )
    assert result.succeeded, result.message
    assert result.results == {"greeting": "hello, world!"}
    assert (result.folder / "greet.log").read_text().strip() == "version 0.2 template step ['a', 'b']"
    assert (result.folder / "context.log").read_text().strip() == f"{result.name} greet 0"
    assert result.taskrun["spec"]["taskRef"] == {"name": "greet"}
    validate_object(result.taskrun)


def test_object_params_merge_over_their_default(tmp_path: Path) -> None:
    result = run_task(
        "greet", params={"who": "you", "how": {"word": "bye"}}, task_dirs=[TASKS], runs_dir=tmp_path
    )
    assert result.results == {"greeting": "bye, you!"}


def test_a_pipeline_resolves_task_refs_from_a_folder_and_from_a_bundle(
    tmp_path: Path, validate_object
) -> None:
    task = yaml.safe_load((TASKS / "greet/0.2/greet.yaml").read_text())
    task["metadata"]["name"] = "greet-bundled"
    bundle = bundle_image(tmp_path / "bundle", [task])
    spec = pipeline(
        [
            {"name": "local", "taskRef": {"name": "greet"}, "params": [{"name": "who", "value": "folder"}]},
            {
                "name": "remote",
                "taskRef": {
                    "resolver": "bundles",
                    "params": [
                        {"name": "bundle", "value": bundle},
                        {"name": "name", "value": "greet-bundled"},
                        {"name": "kind", "value": "task"},
                    ],
                },
                "params": [{"name": "who", "value": "bundle"}],
            },
        ],
        results=[
            {"name": "a", "value": "$(tasks.local.results.greeting)"},
            {"name": "b", "value": "$(tasks.remote.results.greeting)"},
        ],
    )
    result = run_pipeline(spec, task_dirs=[TASKS], runs_dir=tmp_path / "runs")
    assert result.succeeded, result.message
    assert result.results == {"a": "hello, folder!", "b": "hello, bundle!"}
    assert result.taskruns["remote"]["metadata"]["labels"]["tekton.dev/task"] == "greet-bundled"
    validate_object(result.pipelinerun)


def test_an_unknown_task_fails_the_run_couldnt_get_task(tmp_path: Path) -> None:
    spec = pipeline([{"name": "t", "taskRef": {"name": "nowhere"}}])
    result = run_pipeline(spec, task_dirs=[TASKS], runs_dir=tmp_path)
    assert result.reason == "CouldntGetTask"
    assert "nowhere" in result.message


def test_a_missing_required_param_of_a_task(tmp_path: Path) -> None:
    spec = pipeline([{"name": "t", "taskRef": {"name": "greet"}}])
    result = run_pipeline(spec, task_dirs=[TASKS], runs_dir=tmp_path)
    assert result.reason == "ParameterMissing"
    assert "who" in result.message


COPY = "import sys, os; d, src = sys.argv[1:]; open(os.path.join(d, 'f'), 'w').write(open(src).read())"
DUMP = "import sys, os, json; print(json.dumps([sys.argv[1:], os.environ.get('TOKEN')]))"


def test_workspaces_secrets_and_env_from_secrets(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    (secrets / "registry").mkdir(parents=True)
    (secrets / "registry" / "token").write_text("t0ken")
    (secrets / "registry" / "auth.json").write_text("{}")
    host = tmp_path / "host"
    spec = pipeline(
        [
            {
                "name": "t",
                "workspaces": [
                    {"name": "scratch", "workspace": "scratch"},
                    {"name": "out", "workspace": "host", "subPath": "sub"},
                    {"name": "creds", "workspace": "creds"},
                ],
                "taskSpec": task_spec(
                    py_step(
                        "look",
                        DUMP,
                        "$(workspaces.scratch.bound)",
                        "$(workspaces.missing.bound)",
                        "[$(workspaces.missing.path)]",
                        "$(workspaces.creds.path)",
                        env=[
                            {
                                "name": "TOKEN",
                                "valueFrom": {"secretKeyRef": {"name": "registry", "key": "token"}},
                            }
                        ],
                    ),
                    py_step(
                        "write",
                        COPY,
                        "$(workspaces.out.path)",
                        "$(workspaces.creds.path)/token",
                    ),
                    workspaces=[
                        {"name": "scratch"},
                        {"name": "out"},
                        {"name": "creds", "readOnly": True},
                        {"name": "missing", "optional": True},
                    ],
                ),
            }
        ],
        workspaces=[{"name": "scratch"}, {"name": "host"}, {"name": "creds"}],
    )
    result = run_pipeline(
        spec,
        workspaces={"scratch": "emptyDir", "host": host, "creds": f"secret={secrets / 'registry'}"},
        secrets_dir=secrets,
        runs_dir=tmp_path / "runs",
    )
    assert result.succeeded, result.message
    args, token = json.loads((result.folder / f"{result.name}-t" / "look.log").read_text())
    assert args[:3] == ["true", "false", "[]"]
    assert Path(args[3]) == (secrets / "registry").resolve()
    assert token == "t0ken"
    assert (host / "sub" / "f").read_text() == "t0ken"
    bindings = {w["name"]: w for w in result.pipelinerun["spec"]["workspaces"]}
    assert bindings["scratch"] == {"name": "scratch", "emptyDir": {}}
    assert bindings["creds"]["secret"] == {"secretName": "registry"}


def test_a_missing_secret_key_is_one_line(tmp_path: Path) -> None:
    task = {
        "apiVersion": "tekton.dev/v1",
        "kind": "Task",
        "metadata": {"name": "s"},
        "spec": task_spec(
            py_step(
                "x", "pass", env=[{"name": "T", "valueFrom": {"secretKeyRef": {"name": "nope", "key": "k"}}}]
            )
        ),
    }
    result = run_task(task, secrets_dir=tmp_path, runs_dir=tmp_path / "runs")
    assert not result.succeeded
    assert "secret 'nope' has no key 'k'" in result.message
    assert "\n" not in result.message


def test_literal_workspace_and_tekton_paths_map_to_run_folders_on_the_host(tmp_path: Path) -> None:
    task = {
        "apiVersion": "tekton.dev/v1",
        "kind": "Task",
        "metadata": {"name": "paths"},
        "spec": {
            "workspaces": [{"name": "src"}],
            "results": [{"name": "where"}],
            "steps": [
                {
                    "name": "p",
                    "image": "python",
                    "workingDir": "/workspace/src",
                    "command": [PY, "-c", "import os, sys; open(sys.argv[1], 'w').write(os.getcwd())"],
                    "args": ["/tekton/results/where"],
                }
            ],
        },
    }
    src = tmp_path / "src"
    result = run_task(task, workspaces={"src": src}, runs_dir=tmp_path / "runs")
    assert result.succeeded, result.message
    assert result.results == {"where": str(src.resolve())}


def test_an_empty_dir_volume_is_shared_by_the_steps_through_the_step_template(tmp_path: Path) -> None:
    task = {
        "apiVersion": "tekton.dev/v1",
        "kind": "Task",
        "metadata": {"name": "vol"},
        "spec": {
            "volumes": [{"name": "workdir", "emptyDir": {}}],
            "stepTemplate": {
                "env": [{"name": "HOME", "value": "/var/workdir"}],
                "volumeMounts": [{"name": "workdir", "mountPath": "/var/workdir"}],
            },
            "results": [{"name": "seen"}],
            "steps": [
                py_step(
                    "write",
                    "import os, sys; open(sys.argv[1], 'w').write(os.environ['HOME'])",
                    "--out=/var/workdir/home"[len("--out=") :],
                ),
                py_step(
                    "read",
                    "import sys; open(sys.argv[2], 'w').write(open(sys.argv[1]).read())",
                    "/var/workdir/home",
                    "$(results.seen.path)",
                ),
            ],
        },
    }
    result = run_task(task, runs_dir=tmp_path / "runs")
    assert result.succeeded, result.message
    home = Path(result.results["seen"])
    assert home.is_dir()
    assert home.is_relative_to(result.folder)


def test_a_reference_to_an_undeclared_param_is_refused(tmp_path: Path) -> None:
    task = {
        "apiVersion": "tekton.dev/v1",
        "kind": "Task",
        "metadata": {"name": "typo"},
        "spec": task_spec(py_step("s", "pass", "$(params.nope)")),
    }
    result = run_task(task, runs_dir=tmp_path)
    assert (result.reason, result.message) == (
        "TaskRunValidationFailed",
        "typo step s refers to $(params.nope), a param its Task does not declare",
    )


def test_a_pipelinerun_object_runs_as_a_cluster_would_run_it(tmp_path: Path, validate_object) -> None:
    from iib_steps.tekton.runner import run_pipelinerun

    secrets = tmp_path / "secrets"
    (secrets / "creds").mkdir(parents=True)
    (secrets / "creds" / "token").write_text("s3cret")
    run = {
        "apiVersion": "tekton.dev/v1",
        "kind": "PipelineRun",
        "metadata": {"generateName": "greeting-", "labels": {"app": "demo"}},
        "spec": {
            "pipelineSpec": {
                "params": [{"name": "who"}],
                "workspaces": [{"name": "shared"}, {"name": "creds"}],
                "results": [{"name": "greeting", "value": "$(tasks.greet.results.greeting)"}],
                "tasks": [
                    {
                        "name": "greet",
                        "taskRef": {"name": "greet"},
                        "params": [{"name": "who", "value": "$(params.who)"}],
                    },
                    {
                        "name": "keep",
                        "workspaces": [
                            {"name": "out", "workspace": "shared"},
                            {"name": "c", "workspace": "creds"},
                        ],
                        "taskSpec": task_spec(
                            py_step("copy", COPY, "$(workspaces.out.path)", "$(workspaces.c.path)/token"),
                            workspaces=[{"name": "out"}, {"name": "c"}],
                        ),
                    },
                ],
            },
            "params": [{"name": "who", "value": "cluster"}],
            "workspaces": [
                {"name": "shared", "persistentVolumeClaim": {"claimName": "data"}},
                {"name": "creds", "secret": {"secretName": "creds"}},
            ],
            "timeouts": {"pipeline": "10m"},
        },
    }
    result = run_pipelinerun(run, task_dirs=[TASKS], secrets_dir=secrets, runs_dir=tmp_path / "runs")
    assert result.succeeded, result.message
    assert result.name.startswith("greeting-")
    assert result.results == {"greeting": "hello, cluster!"}
    assert (tmp_path / "runs" / "claims" / "data" / "f").read_text() == "s3cret"
    assert result.pipelinerun["metadata"]["labels"]["app"] == "demo"
    assert result.pipelinerun["spec"]["timeouts"]["pipeline"] == "10m"
    validate_object(result.pipelinerun)
