"""What Tekton's admission webhook checks and a CRD schema cannot (spec/tekton.md §2.2), for Tasks,
Pipelines and runs, plus the cross-file checks the controller makes when a Pipeline runs a Task.

Each ``check_*`` function returns a list of one-line problems (empty when the resource is fine).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from iib_steps.tekton.loader import Resource
from iib_steps.tekton.refs import declared_param, find_refs, param_name

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
PARAM_NAME = re.compile(r"^[_a-zA-Z][_a-zA-Z0-9.-]*$")
OBJECT_PARAM_NAME = re.compile(r"^[_a-zA-Z][_a-zA-Z0-9-]*$")
RESULT_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
PARAM_TYPES = ("string", "array", "object")
ON_ERROR = ("continue", "stopAndFail")
WHEN_OPERATORS = ("in", "notin")
TASK_CONTEXT = ("context.taskRun.name", "context.taskRun.namespace", "context.taskRun.uid",
                "context.task.name", "context.task.retry-count")  # fmt: skip
PIPELINE_CONTEXT = ("context.pipelineRun.name", "context.pipelineRun.namespace", "context.pipelineRun.uid",
                    "context.pipeline.name", "context.pipelineTask.retries")  # fmt: skip
_WORKSPACE_REF = re.compile(r"^workspaces\.([^.]+)\.(path|bound|claim|volume)$")
_RESULT_PATH = re.compile(r"^results\.([^.]+)\.path$")
_TASK_RESULT = re.compile(r"^tasks\.([^.]+)\.results\.([^.\[]+)(\[\*\]|\[\d+\]|\.[^.]+)?$")
_TASK_STATUS = re.compile(r"^tasks\.([^.]+)\.(status|reason)$")
_CONTAINER_FIELDS = ("steps", "sidecars")


def _names(items: Any) -> list[str]:
    return [str(i.get("name", "")) for i in items or [] if isinstance(i, dict)]


def _duplicates(names: Iterable[str], fold: bool = False) -> list[str]:
    seen: set[str] = set()
    dup: list[str] = []
    for name in names:
        key = name.lower() if fold else name
        if key in seen:
            dup.append(name)
        seen.add(key)
    return dup


def check_param_specs(params: Any) -> list[str]:
    """Names, types and defaults of declared params (Task or Pipeline)."""
    problems = []
    for p in params or []:
        name, kind = str(p.get("name", "")), p.get("type", "string")
        if kind not in PARAM_TYPES:
            problems.append(f"param {name!r} has type {kind!r}; use one of {', '.join(PARAM_TYPES)}")
            continue
        pattern = OBJECT_PARAM_NAME if kind == "object" else PARAM_NAME
        if not pattern.match(name):
            problems.append(f"param name {name!r} is not valid")
        if kind == "object" and not p.get("properties"):
            problems.append(f"object param {name!r} needs properties")
        if "default" in p:
            default = p["default"]
            expected = {"string": str, "array": list, "object": dict}[kind]
            if not isinstance(default, expected):
                problems.append(f"param {name!r} of type {kind} has a default of another type")
            elif kind == "array" and not all(isinstance(v, str) for v in default):
                problems.append(f"array param {name!r} has a default that is not all strings")
    problems += [f"param {n!r} is declared twice" for n in _duplicates(_names(params), fold=True)]
    return problems


def check_result_specs(results: Any) -> list[str]:
    problems = []
    for r in results or []:
        name, kind = str(r.get("name", "")), r.get("type", "string")
        if not RESULT_NAME.match(name):
            problems.append(f"result name {name!r} is not valid")
        if kind not in PARAM_TYPES:
            problems.append(f"result {name!r} has type {kind!r}; use one of {', '.join(PARAM_TYPES)}")
        if kind == "object" and not r.get("properties"):
            problems.append(f"object result {name!r} needs properties")
    problems += [f"result {n!r} is declared twice" for n in _duplicates(_names(results))]
    return problems


def _param_types(params: Any) -> dict[str, str]:
    return {str(p.get("name")): str(p.get("type", "string")) for p in params or [] if isinstance(p, dict)}


def _check_param_ref(
    expr: str, where: str, whole: bool, types: Mapping[str, str], array_ok: bool
) -> str | None:
    parsed = param_name(expr)
    if parsed is None:
        return f"{where}: $({expr}) is not a valid params reference"
    name, suffix = parsed
    declared = declared_param(name, set(types))
    if declared is None:
        return f"{where}: $({expr}) refers to an undeclared param {name!r}"
    if types[declared] == "array" and declared == name and suffix != "[0]" and not suffix.startswith("["):
        return f"{where}: array param {name!r} must be used as $(params.{name}[*])"
    if suffix == "[*]" and types[declared] == "array" and (not whole or not array_ok):
        return f"{where}: $(params.{name}[*]) must be a whole element of an args, command or array value"
    return None


def _step_like(spec: dict[str, Any]) -> Iterable[tuple[str, dict[str, Any]]]:
    for field in _CONTAINER_FIELDS:
        for i, step in enumerate(spec.get(field) or []):
            if isinstance(step, dict):
                yield f"{field}.{i}", step
    if isinstance(spec.get("stepTemplate"), dict):
        yield "stepTemplate", spec["stepTemplate"]


def check_task_spec(spec: dict[str, Any], *, standalone: bool = True) -> list[str]:
    """A TaskSpec: steps, names, declared params/results/workspaces and how they are used.

    Inline specs (``standalone=False``) may use params propagated from their parent.
    """
    problems: list[str] = []
    steps = spec.get("steps") or []
    if not steps:
        problems.append("a Task needs at least one step")
    for field in _CONTAINER_FIELDS:
        names = _names(spec.get(field))
        for name in names:
            if not DNS1123_LABEL.match(name):
                problems.append(f"{field[:-1]} name {name!r} is not a DNS-1123 label")
        problems += [f"{field[:-1]} {n!r} is named twice" for n in _duplicates(names)]
    problems += check_param_specs(spec.get("params"))
    problems += check_result_specs(spec.get("results"))
    workspaces = spec.get("workspaces") or []
    problems += [f"workspace {n!r} is declared twice" for n in _duplicates(_names(workspaces))]
    mounts = [str(w.get("mountPath")) for w in workspaces if w.get("mountPath")]
    problems += [f"workspace mountPath {m!r} is used twice" for m in _duplicates(mounts)]
    volumes = _names(spec.get("volumes"))
    problems += [f"volume {n!r} is declared twice" for n in _duplicates(volumes)]
    for where, step in _step_like(spec):
        problems += _check_container(where, step, set(volumes), is_template=where == "stepTemplate")

    types = _param_types(spec.get("params"))
    results = set(_names(spec.get("results")))
    declared_ws = set(_names(workspaces))
    for where, step in _step_like(spec):
        for field, value in step.items():
            array_ok = field in ("args", "command")
            for ref in find_refs(value, f"{where}.{field}"):
                problem = _check_task_ref(
                    ref.expr, ref.where, ref.whole, types, results, declared_ws, array_ok
                )
                if problem and (standalone or not ref.expr.startswith("params")):
                    problems.append(problem)
        if "$(params." in str(step.get("script", "")):
            problems.append(f"{where}.script: params must reach a script through env, not $(params...)")
    for i, volume in enumerate(spec.get("volumes") or []):
        for ref in find_refs(volume, f"volumes.{i}"):
            problem = _check_task_ref(ref.expr, ref.where, ref.whole, types, results, declared_ws, False)
            if problem and (standalone or not ref.expr.startswith("params")):
                problems.append(problem)
    return problems


def _check_task_ref(
    expr: str,
    where: str,
    whole: bool,
    types: Mapping[str, str],
    results: set[str],
    workspaces: set[str],
    array_ok: bool,
) -> str | None:
    if expr.startswith("params"):
        return _check_param_ref(expr, where, whole, types, array_ok)
    if expr.startswith("results."):
        match = _RESULT_PATH.match(expr)
        if not match:
            return f"{where}: $({expr}) must be $(results.<name>.path)"
        return None if match.group(1) in results else f"{where}: $({expr}) refers to an undeclared result"
    if expr.startswith("workspaces."):
        match = _WORKSPACE_REF.match(expr)
        if not match:
            return f"{where}: $({expr}) is not a valid workspaces reference"
        ok = match.group(1) in workspaces
        return None if ok else f"{where}: $({expr}) refers to an undeclared workspace"
    if expr.startswith("context."):
        return None if expr in TASK_CONTEXT else f"{where}: $({expr}) is not a Task context variable"
    if expr.startswith(("steps.", "step.")) or expr in ("credentials.path", "artifacts.path"):
        return None
    return f"{where}: $({expr}) is not a variable a Task can use"


def _check_container(where: str, step: dict[str, Any], volumes: set[str], *, is_template: bool) -> list[str]:
    problems = []
    if not is_template and not step.get("image") and not step.get("ref"):
        problems.append(f"{where}: a step needs an image (or a ref)")
    if step.get("script") and step.get("command"):
        problems.append(f"{where}: script and command cannot both be set")
    if "onError" in step and step["onError"] not in ON_ERROR:
        problems.append(f"{where}: onError must be one of {', '.join(ON_ERROR)}")
    for mount in step.get("volumeMounts") or []:
        path, name = str(mount.get("mountPath", "")), str(mount.get("name", ""))
        if path.startswith("/tekton/"):
            problems.append(f"{where}: volumeMount {name!r} may not be under /tekton/")
        if name.startswith("tekton-internal-"):
            problems.append(f"{where}: volume name {name!r} is reserved")
        if name not in volumes and "$(" not in name:
            problems.append(f"{where}: volumeMount {name!r} has no volume")
    env_names = _names(step.get("env"))
    problems += [f"{where}: env {n!r} is set twice" for n in _duplicates(env_names)]
    return problems


# -- Pipelines --------------------------------------------------------------------------------------


def _when_problems(where: str, when: Any) -> list[str]:
    problems = []
    for i, expr in enumerate(when or []):
        at = f"{where}.when.{i}"
        if "cel" in expr:
            if any(k in expr for k in ("input", "operator", "values")):
                problems.append(f"{at}: cel cannot be combined with input, operator or values")
            continue
        if expr.get("operator") not in WHEN_OPERATORS:
            problems.append(f"{at}: operator must be one of {', '.join(WHEN_OPERATORS)}")
        if not expr.get("values"):
            problems.append(f"{at}: values must not be empty")
        if "input" not in expr:
            problems.append(f"{at}: input is missing")
    return problems


def _task_refs_in(task: dict[str, Any]) -> Iterable[tuple[str, str, bool]]:
    for field in ("params", "when", "displayName", "taskRef", "matrix"):
        if field in task:
            for ref in find_refs(task[field], field):
                yield ref.expr, ref.where, ref.whole
    for i, ws in enumerate(task.get("workspaces") or []):
        for ref in find_refs(ws.get("subPath"), f"workspaces.{i}.subPath"):
            yield ref.expr, ref.where, ref.whole


def _result_deps(task: dict[str, Any]) -> set[str]:
    deps = set()
    for expr, _, _ in _task_refs_in(task):
        match = _TASK_RESULT.match(expr)
        if match:
            deps.add(match.group(1))
    return deps


def _cycle(graph: Mapping[str, set[str]]) -> list[str] | None:
    """A cycle of ``graph`` (task -> tasks it runs after) as a list of names, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return [*stack[stack.index(dep) :], dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def check_pipeline_spec(spec: dict[str, Any]) -> list[str]:
    """A PipelineSpec: task names, refs, DAG, finally rules, when expressions, declared variables."""
    problems: list[str] = []
    tasks = [t for t in spec.get("tasks") or [] if isinstance(t, dict)]
    final = [t for t in spec.get("finally") or [] if isinstance(t, dict)]
    if final and not tasks:
        problems.append("finally needs tasks")
    all_names = _names(tasks) + _names(final)
    for name in all_names:
        if not DNS1123_LABEL.match(name):
            problems.append(f"pipeline task name {name!r} is not a DNS-1123 label")
    problems += [f"pipeline task {n!r} is named twice" for n in _duplicates(all_names)]
    problems += check_param_specs(spec.get("params"))
    types = _param_types(spec.get("params"))
    declared_ws = set(_names(spec.get("workspaces")))
    problems += [f"workspace {n!r} is declared twice" for n in _duplicates(_names(spec.get("workspaces")))]
    task_names = set(_names(tasks))

    graph: dict[str, set[str]] = {}
    for section, items in (("tasks", tasks), ("finally", final)):
        for i, task in enumerate(items):
            at = f"{section}.{i} ({task.get('name', '')})"
            refs = [k for k in ("taskRef", "taskSpec", "pipelineRef", "pipelineSpec") if k in task]
            if len(refs) != 1:
                problems.append(f"{at}: set exactly one of taskRef, taskSpec, pipelineRef, pipelineSpec")
            ref = task.get("taskRef")
            if isinstance(ref, dict) and not (ref.get("name") or ref.get("resolver")):
                problems.append(f"{at}: taskRef needs a name or a resolver")
            if isinstance(task.get("taskSpec"), dict):
                problems += [
                    f"{at}.taskSpec: {p}" for p in check_task_spec(task["taskSpec"], standalone=False)
                ]
            run_after = task.get("runAfter") or []
            if section == "finally" and run_after:
                problems.append(f"{at}: a finally task cannot use runAfter")
            for target in run_after:
                if target not in task_names:
                    problems.append(f"{at}: runAfter names {target!r}, which is not a pipeline task")
            problems += _when_problems(at, task.get("when"))
            for ws in task.get("workspaces") or []:
                name = ws.get("workspace")
                if name and name not in declared_ws:
                    problems.append(f"{at}: workspace {name!r} is not declared by the Pipeline")
            for expr, where, whole in _task_refs_in(task):
                problem = _check_pipeline_ref(expr, f"{at}.{where}", whole, types, task_names, section)
                if problem:
                    problems.append(problem)
            if section == "tasks":
                graph[str(task.get("name"))] = set(run_after) | (_result_deps(task) & task_names)
    cycle = _cycle(graph)
    if cycle:
        problems.append(f"the task graph has a cycle: {' -> '.join(cycle)}")
    for i, result in enumerate(spec.get("results") or []):
        at = f"results.{i} ({result.get('name', '')})"
        refs = list(find_refs(result.get("value"), "value"))
        if not refs:
            problems.append(f"{at}: a Pipeline result must refer to a task result")
        for ref in refs:
            match = _TASK_RESULT.match(ref.expr)
            if not match:
                problems.append(f"{at}: $({ref.expr}) is not a task result reference")
            elif match.group(1) not in set(all_names):
                problems.append(f"{at}: $({ref.expr}) refers to an unknown pipeline task")
    problems += check_result_specs(spec.get("results"))
    return problems


def _check_pipeline_ref(
    expr: str, where: str, whole: bool, types: Mapping[str, str], task_names: set[str], section: str
) -> str | None:
    if expr.startswith("params"):
        return _check_param_ref(expr, where, whole, types, array_ok=True)
    if expr == "tasks.status":
        return None if section == "finally" else f"{where}: $(tasks.status) is only for finally tasks"
    match = _TASK_STATUS.match(expr)
    if match:
        if section != "finally":
            return f"{where}: $({expr}) is only for finally tasks"
        return None if match.group(1) in task_names else f"{where}: $({expr}) refers to an unknown task"
    match = _TASK_RESULT.match(expr)
    if match:
        if match.group(1) not in task_names:
            return f"{where}: $({expr}) refers to a task that is not in tasks"
        return None
    if expr.startswith("workspaces."):
        return None if _WORKSPACE_REF.match(expr) else f"{where}: $({expr}) is not a workspaces reference"
    if expr.startswith("context."):
        return None if expr in PIPELINE_CONTEXT else f"{where}: $({expr}) is not a Pipeline context variable"
    return f"{where}: $({expr}) is not a variable a Pipeline can use"


# -- across files -----------------------------------------------------------------------------------


def check_task_use(pipeline: Resource, tasks: Mapping[str, Resource]) -> list[str]:
    """A Pipeline against the Tasks it names (what the controller checks when the run starts)."""
    problems = []
    spec = pipeline.spec
    for section in ("tasks", "finally"):
        for task in spec.get(section) or []:
            ref = task.get("taskRef") or {}
            target = tasks.get(str(ref.get("name", "")))
            if not ref.get("name") or ref.get("resolver"):
                continue
            at = f"{section} {task.get('name')}"
            if target is None:
                problems.append(f"{at}: Task {ref.get('name')!r} is not defined here")
                continue
            declared = {str(p["name"]): p for p in target.spec.get("params") or []}
            given = {str(p.get("name")): p.get("value") for p in task.get("params") or []}
            for name in sorted(set(given) - set(declared)):
                problems.append(f"{at}: passes {name!r}, which Task {target.name} does not declare")
            for name, p in declared.items():
                if name not in given and "default" not in p:
                    problems.append(f"{at}: does not pass {name!r}, which Task {target.name} requires")
                if name in given:
                    is_array = p.get("type") == "array"
                    if is_array != isinstance(given[name], list):
                        problems.append(f"{at}: {name!r} must be {'an array' if is_array else 'a string'}")
            task_ws = {str(w["name"]): w for w in target.spec.get("workspaces") or []}
            bound = {str(w.get("name")) for w in task.get("workspaces") or []}
            for name in sorted(bound - set(task_ws)):
                problems.append(f"{at}: binds workspace {name!r}, which Task {target.name} does not declare")
            for name, w in task_ws.items():
                if name not in bound and not w.get("optional"):
                    problems.append(f"{at}: does not bind workspace {name!r}, which Task {target.name} needs")
    problems += _result_use(spec, tasks)
    return problems


def _result_use(spec: dict[str, Any], tasks: Mapping[str, Resource]) -> list[str]:
    by_task = {}
    for task in (spec.get("tasks") or []) + (spec.get("finally") or []):
        ref = task.get("taskRef") or {}
        if ref.get("name") in tasks and not ref.get("resolver"):
            by_task[task.get("name")] = set(_names(tasks[ref["name"]].spec.get("results")))
    problems = []
    for ref in find_refs({k: spec.get(k) for k in ("tasks", "finally", "results")}):
        match = _TASK_RESULT.match(ref.expr)
        if match and match.group(1) in by_task and match.group(2) not in by_task[match.group(1)]:
            problems.append(f"{ref.where}: $({ref.expr}) names a result the Task does not declare")
    return problems


def check_resource(resource: Resource) -> list[str]:
    """The webhook's checks for one Task, Pipeline, TaskRun or PipelineRun."""
    spec = resource.spec
    if not resource.name and not (resource.body.get("metadata") or {}).get("generateName"):
        return ["metadata.name (or generateName) is missing"]
    if resource.kind == "Task":
        return check_task_spec(spec)
    if resource.kind == "Pipeline":
        return check_pipeline_spec(spec)
    if resource.kind == "TaskRun":
        problems = (
            [] if ("taskRef" in spec) != ("taskSpec" in spec) else ["set exactly one of taskRef, taskSpec"]
        )
        if isinstance(spec.get("taskSpec"), dict):
            problems += check_task_spec(spec["taskSpec"], standalone=False)
        return problems
    if resource.kind == "PipelineRun":
        has_ref, has_spec = "pipelineRef" in spec, "pipelineSpec" in spec
        problems = [] if has_ref != has_spec else ["set exactly one of pipelineRef, pipelineSpec"]
        if isinstance(spec.get("pipelineSpec"), dict):
            problems += check_pipeline_spec(spec["pipelineSpec"])
        return problems
    return []
