"""The checks find what Tekton's webhook (and the controller) would refuse: broken resources fail."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from iib_steps.tekton import checks, policy, schemas
from iib_steps.tekton.loader import Resource, load_file

TASK = yaml.safe_load("""
apiVersion: tekton.dev/v1
kind: Task
metadata: {name: t}
spec:
  params:
    - {name: a, type: string}
    - {name: list, type: array, default: []}
  results:
    - {name: OUT}
  workspaces:
    - {name: creds, optional: true}
  volumes:
    - {name: work, emptyDir: {}}
  steps:
    - name: run
      image: example.com/img@sha256:0000000000000000000000000000000000000000000000000000000000000000
      command: [tool]
      args: ["--a=$(params.a)", "--list", "$(params.list[*])", "--out=$(results.OUT.path)"]
      env: [{name: CREDS, value: $(workspaces.creds.path)}]
      volumeMounts: [{name: work, mountPath: /work}]
""")
PIPELINE = yaml.safe_load("""
apiVersion: tekton.dev/v1
kind: Pipeline
metadata: {name: p}
spec:
  params:
    - {name: a, type: string}
    - {name: url, type: string, default: ""}
  workspaces:
    - {name: creds, optional: true}
  tasks:
    - name: first
      taskRef: {name: t}
      params: [{name: a, value: $(params.a)}]
      workspaces: [{name: creds, workspace: creds}]
    - name: second
      taskRef: {name: t}
      params: [{name: a, value: $(tasks.first.results.OUT)}]
  finally:
    - name: report
      taskRef: {name: t}
      when: [{input: $(params.url), operator: notin, values: [""]}]
      params: [{name: a, value: $(tasks.status)}]
  results:
    - {name: OUT, value: $(tasks.second.results.OUT)}
""")


def res(body: dict[str, Any], path: str = "x.yaml") -> Resource:
    return Resource(Path(path), 0, body)


def edited(body: dict[str, Any], change) -> Resource:
    copied = copy.deepcopy(body)
    change(copied)
    return res(copied)


def test_the_good_examples_pass() -> None:
    assert checks.check_resource(res(TASK)) == []
    assert checks.check_resource(res(PIPELINE)) == []
    assert checks.check_task_use(res(PIPELINE), {"t": res(TASK)}) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["spec"]["steps"][0]["args"].append("$(params.nope)"), "undeclared param 'nope'"),
        (lambda d: d["spec"]["steps"][0]["args"].append("$(results.NOPE.path)"), "undeclared result"),
        (
            lambda d: d["spec"]["steps"][0]["env"].append({"name": "X", "value": "$(workspaces.w.path)"}),
            "undeclared workspace",
        ),
        (lambda d: d["spec"]["steps"][0]["args"].append("--l=$(params.list[*])"), "whole element"),
        (
            lambda d: d["spec"]["steps"][0]["env"].append({"name": "L", "value": "$(params.list[*])"}),
            "whole element",
        ),
        (lambda d: d["spec"]["steps"].append(copy.deepcopy(d["spec"]["steps"][0])), "named twice"),
        (lambda d: d["spec"]["steps"][0].update(name="Run_1"), "DNS-1123"),
        (lambda d: d["spec"]["params"].append({"name": "A"}), "declared twice"),
        (lambda d: d["spec"]["params"].append({"name": "s", "type": "strng"}), "type 'strng'"),
        (
            lambda d: d["spec"]["params"].append({"name": "s", "type": "array", "default": "x"}),
            "another type",
        ),
        (lambda d: d["spec"]["results"].append({"name": "-bad"}), "result name '-bad'"),
        (lambda d: d["spec"]["steps"][0].update(onError="ignore"), "onError"),
        (lambda d: d["spec"]["steps"][0].update(script="echo $(params.a)"), "through env"),
        (
            lambda d: d["spec"]["steps"][0]["volumeMounts"].append({"name": "gone", "mountPath": "/g"}),
            "has no volume",
        ),
        (lambda d: d["spec"]["steps"][0]["args"].append("$(context.taskRun.nope)"), "context variable"),
        (lambda d: d["spec"].update(steps=[]), "at least one step"),
    ],
)
def test_task_mistakes_are_found(change, expected: str) -> None:
    problems = checks.check_resource(edited(TASK, change))
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["spec"]["tasks"][0]["params"].append({"name": "b", "value": "$(params.zz)"}),
            "undeclared param 'zz'",
        ),
        (lambda d: d["spec"]["tasks"][0].update(runAfter=["second"]), "cycle: "),
        (lambda d: d["spec"]["tasks"][0].update(runAfter=["ghost"]), "not a pipeline task"),
        (lambda d: d["spec"]["finally"][0].update(runAfter=["first"]), "cannot use runAfter"),
        (lambda d: d["spec"]["finally"][0]["when"][0].update(operator="eq"), "operator must be"),
        (lambda d: d["spec"]["finally"][0]["when"][0].update(values=[]), "values must not be empty"),
        (lambda d: d["spec"]["finally"][0]["when"][0].update(cel="true"), "cel cannot be combined"),
        (
            lambda d: d["spec"]["tasks"][1]["params"].append({"name": "s", "value": "$(tasks.status)"}),
            "only for finally",
        ),
        (
            lambda d: d["spec"]["tasks"][1]["params"].append({"name": "s", "value": "$(tasks.x.results.R)"}),
            "not in tasks",
        ),
        (
            lambda d: d["spec"]["finally"][0]["params"].append(
                {"name": "s", "value": "$(tasks.report.status)"}
            ),
            "unknown task",
        ),
        (
            lambda d: d["spec"]["tasks"][0]["workspaces"].append({"name": "x", "workspace": "nope"}),
            "not declared by the Pipeline",
        ),
        (lambda d: d["spec"]["tasks"].append({"name": "first", "taskRef": {"name": "t"}}), "named twice"),
        (lambda d: d["spec"]["tasks"][0].update(taskSpec={"steps": []}), "exactly one of"),
        (
            lambda d: d["spec"]["results"].append({"name": "X", "value": "literal"}),
            "must refer to a task result",
        ),
        (lambda d: d["spec"].update(tasks=[]), "finally needs tasks"),
    ],
)
def test_pipeline_mistakes_are_found(change, expected: str) -> None:
    problems = checks.check_resource(edited(PIPELINE, change))
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["spec"]["tasks"][0]["params"].append({"name": "extra", "value": "x"}),
            "does not declare",
        ),
        (lambda d: d["spec"]["tasks"][0].update(params=[]), "requires"),
        (
            lambda d: d["spec"]["tasks"][0]["params"].append({"name": "list", "value": "x"}),
            "must be an array",
        ),
        (
            lambda d: d["spec"]["results"].append({"name": "Y", "value": "$(tasks.second.results.NOPE)"}),
            "names a result the Task does not declare",
        ),
        (lambda d: d["spec"]["tasks"][0]["taskRef"].update(name="missing"), "is not defined here"),
    ],
)
def test_a_pipeline_must_use_its_tasks_as_declared(change, expected: str) -> None:
    problems = checks.check_task_use(edited(PIPELINE, change), {"t": res(TASK)})
    assert any(expected in p for p in problems), problems


def test_strict_schema_refuses_unknown_and_mistyped_fields(schemas_dir: Path) -> None:
    typo = edited(TASK, lambda d: d["spec"]["steps"][0].update(scrpit="echo"))
    assert any("scrpit" in p for p in schemas.validate(typo, schemas_dir))
    timeout = edited(TASK, lambda d: d["spec"]["steps"][0].update(timeout=5))
    assert any("steps.0.timeout" in p for p in schemas.validate(timeout, schemas_dir))
    inline = edited(PIPELINE, lambda d: d["spec"]["tasks"][0].update(taskRef=None, taskSpec={"stepz": []}))
    assert any("taskSpec.(top)" in p and "stepz" in p for p in schemas.validate(inline, schemas_dir))
    assert schemas.validate(res(TASK), schemas_dir) == []


@pytest.fixture
def schemas_dir(schemas: Path) -> Path:
    return schemas


def test_task_policy_catches_root_steps_and_unpinned_defaults(tmp_path: Path) -> None:
    image = "example.com/img@sha256:" + "0" * 64
    task = copy.deepcopy(TASK)
    task["spec"]["params"].append({"name": "step-image", "default": image})
    task["spec"]["steps"][0]["image"] = "$(params.step-image)"
    problems = policy.check_task_policy(res(task), image)
    assert any("non-root user 65532" in p for p in problems)
    assert any("computeResources" in p for p in problems)
    assert any("must default to" in p for p in policy.check_task_policy(res(task), image.replace("0", "1")))
    task["spec"]["params"].append({"name": "registry-password"})
    assert any("looks like a secret" in p for p in policy.check_task_policy(res(task), image))


def test_layout_and_readme_mismatches(tmp_path: Path) -> None:
    folder = tmp_path / "tasks" / "t" / "0.2"
    folder.mkdir(parents=True)
    (folder / "t.yaml").write_text(yaml.safe_dump({**TASK, "metadata": {"name": "t", "labels": {
        "app.kubernetes.io/version": "0.1"}}}))  # fmt: skip
    (folder / "README.md").write_text(
        "## Params\n\n| `a` | x |\n\n## Results\n\n| `OUT` |\n\n## Workspaces\n"
    )
    [task] = load_file(folder / "t.yaml")
    layout = policy.check_layout(task)
    assert any("must be '0.2'" in p for p in layout)
    assert any("tekton.dev/categories" in p for p in layout)
    readme = policy.check_readme(task)
    assert readme == [
        "README.md Params: missing ['list'], not declared []",
        "README.md Workspaces: missing ['creds'], not declared []",
    ]
