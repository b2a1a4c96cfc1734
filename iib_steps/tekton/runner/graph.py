"""A Pipeline's tasks as a graph: each pipeline task with its resolved Task spec, its dependencies
(``runAfter`` and result references), checked as Tekton checks a Pipeline before running it (unique
names, known dependencies, no cycle, required params given, ``when`` operators, CEL refused)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from iib_steps.tekton.runner.errors import RunError
from iib_steps.tekton.runner.process import Stopper
from iib_steps.tekton.runner.sources import TaskResolver
from iib_steps.tekton.runner.taskrun import TaskRunResult
from iib_steps.tekton.runner.variables import iter_refs

PENDING, RUNNING, DONE, SKIPPED = "pending", "running", "done", "skipped"


@dataclass
class PipelineTask:
    ptask: dict[str, Any]
    final: bool
    spec: dict[str, Any]
    spec_ref: dict[str, Any]
    task_name: str
    deps: set[str] = field(default_factory=set)
    state: str = PENDING
    skip_reason: str = ""
    when: list[dict[str, Any]] = field(default_factory=list)
    result: TaskRunResult | None = None
    stopper: Stopper = field(default_factory=Stopper)

    @property
    def name(self) -> str:
        return str(self.ptask["name"])

    @property
    def succeeded(self) -> bool:
        return self.state == DONE and self.result is not None and self.result.succeeded

    @property
    def ignored(self) -> bool:
        return self.state == DONE and not self.succeeded and self.ptask.get("onError") == "continue"


def task_refs(obj: Any) -> set[str]:
    """Names of pipeline tasks whose results or status ``obj`` refers to."""
    out = set()
    for expr in iter_refs(obj):
        parts = expr.split(".")
        if len(parts) >= 3 and parts[0] == "tasks" and parts[2] in ("results", "status", "reason"):
            out.add(parts[1])
    return out


def resolve_tasks(
    spec: Mapping[str, Any], resolver: TaskResolver, pipeline_params: set[str]
) -> dict[str, PipelineTask]:
    """Every pipeline task with its Task spec, checked as Tekton checks a Pipeline before running it."""
    tasks: dict[str, PipelineTask] = {}
    for final, entries in ((False, spec.get("tasks") or []), (True, spec.get("finally") or [])):
        for ptask in entries:
            name = str(ptask.get("name", ""))
            if not name or name in tasks:
                raise RunError(
                    f"pipeline task name {name!r} is empty or used twice", "PipelineValidationFailed"
                )
            if ptask.get("matrix"):
                raise RunError(
                    f"pipeline task {name}: matrix is not supported by the embedded runner",
                    "PipelineValidationFailed",
                )
            if final and ptask.get("runAfter"):
                raise RunError(f"finally task {name} cannot have runAfter", "PipelineValidationFailed")
            for when in ptask.get("when") or ():
                if "cel" in when:
                    raise RunError(
                        f"pipeline task {name}: CEL when expressions are not supported by the "
                        "embedded runner: write them as input/operator/values",
                        "CELEvaluationFailed",
                    )
                if when.get("operator") not in ("in", "notin"):
                    raise RunError(
                        f"pipeline task {name}: when operator must be in or notin", "PipelineValidationFailed"
                    )
            if "taskSpec" in ptask:
                task_spec = copy.deepcopy(ptask["taskSpec"])
                for extra in ("metadata", "apiVersion", "kind"):
                    task_spec.pop(extra, None)
                spec_ref, task_name = {"taskSpec": task_spec}, ""
            elif "taskRef" in ptask:
                obj = resolver(ptask["taskRef"])
                task_spec, task_name = (
                    copy.deepcopy(obj.get("spec") or {}),
                    str(obj.get("metadata", {}).get("name", "")),
                )
                spec_ref = {"taskRef": copy.deepcopy(ptask["taskRef"])}
            else:
                raise RunError(
                    f"pipeline task {name} has neither taskRef nor taskSpec", "PipelineValidationFailed"
                )
            given = {str(p["name"]) for p in ptask.get("params") or ()}
            for decl in task_spec.get("params") or ():
                pname = str(decl["name"])
                propagated = "taskSpec" in ptask and pname in pipeline_params
                if "default" not in decl and pname not in given and not propagated:
                    raise RunError(
                        f"pipeline task {name} does not give the required param {pname} of its Task",
                        "ParameterMissing",
                    )
            task = PipelineTask(ptask, final, task_spec, spec_ref, task_name)
            if not final:
                task.deps = {str(d) for d in ptask.get("runAfter") or ()} | task_refs(
                    [ptask.get("params"), ptask.get("when")]
                )
            tasks[name] = task
    for task in tasks.values():
        for dep in task.deps:
            if dep not in tasks or tasks[dep].final:
                raise RunError(
                    f"pipeline task {task.name} depends on an unknown task {dep!r}", "PipelineInvalidGraph"
                )
    check_acyclic(tasks)
    return tasks


def check_acyclic(tasks: Mapping[str, PipelineTask]) -> None:
    marks: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        if marks.get(name) == 2:
            return
        if marks.get(name) == 1:
            cycle = " -> ".join([*path[path.index(name) :], name])
            raise RunError(f"the pipeline's tasks form a cycle: {cycle}", "PipelineInvalidGraph")
        marks[name] = 1
        for dep in sorted(tasks[name].deps):
            visit(dep, [*path, name])
        marks[name] = 2

    for name in tasks:
        visit(name, [])
