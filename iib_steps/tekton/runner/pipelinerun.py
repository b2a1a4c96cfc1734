"""Running a PipelineRun: the DAG from ``runAfter`` and result references, independent tasks in
parallel, ``when`` expressions, stopping on failure, ``finally``, timeouts, cancellation, and the
``tekton.dev/v1`` PipelineRun object with Tekton's status."""

from __future__ import annotations

import copy
import queue
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iib_steps.tekton.runner import objects as o
from iib_steps.tekton.runner.durations import format_duration, parse_duration
from iib_steps.tekton.runner.errors import RunError
from iib_steps.tekton.runner.graph import (
    DONE,
    PENDING,
    RUNNING,
    SKIPPED,
    PipelineTask,
    resolve_tasks,
    task_refs,
)
from iib_steps.tekton.runner.params import bind_params
from iib_steps.tekton.runner.sources import TaskResolver
from iib_steps.tekton.runner.taskrun import (
    DEFAULT_TIMEOUT,
    RunSettings,
    TaskRunRequest,
    TaskRunResult,
    execute_taskrun,
)
from iib_steps.tekton.runner.variables import (
    Value,
    iter_refs,
    lookup_in,
    substitute_list,
    substitute_string,
    substitute_value,
)
from iib_steps.tekton.runner.workspaces import WorkspaceBinding

CANCELLED_BY_PIPELINE = "TaskRun cancelled as the PipelineRun it belongs to has been cancelled."
TIMED_OUT_BY_PIPELINE = "TaskRun cancelled as the PipelineRun it belongs to has timed out."


@dataclass
class PipelineRunResult:
    """The outcome of a PipelineRun: its object, its TaskRuns (by pipeline task), its results."""

    name: str
    pipelinerun: dict[str, Any]
    taskruns: dict[str, dict[str, Any]]
    succeeded: bool
    reason: str
    message: str
    results: dict[str, Value]
    folder: Path


class PipelineRunner:
    """One PipelineRun from start to end; :meth:`run` returns its :class:`PipelineRunResult`."""

    def __init__(
        self,
        *,
        name: str,
        pipeline_name: str,
        spec: dict[str, Any],
        spec_field: dict[str, Any],
        params: Mapping[str, Value],
        workspaces: Mapping[str, WorkspaceBinding],
        settings: RunSettings,
        resolver: TaskResolver,
        folder: Path,
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
        timeouts: Mapping[str, str] | None = None,
        on_update: Callable[[dict[str, Any]], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.name, self.pipeline_name, self.spec = name, pipeline_name, spec
        self.settings, self.resolver, self.folder = settings, resolver, folder
        self.given_params = dict(params)
        self.workspaces = dict(workspaces)
        self.labels, self.annotations = dict(labels or {}), dict(annotations or {})
        self.timeouts = {"pipeline": "1h0m0s", **{k: str(v) for k, v in (timeouts or {}).items()}}
        self.on_update = on_update
        self.cancel = cancel or threading.Event()
        self.uid = str(uuid.uuid4())
        self.events: queue.Queue[tuple[str, TaskRunResult | BaseException]] = queue.Queue()
        self.tasks: dict[str, PipelineTask] = {}
        self.params: dict[str, Value] = {}
        self.children: list[dict[str, Any]] = []
        self.taskruns: dict[str, dict[str, Any]] = {}
        self.stopping = self.cancelled = self.timed_out = False
        self.dirty = False
        self.obj = self._new_object(spec_field)

    # -- the object ---------------------------------------------------------------------------------

    def _new_object(self, spec_field: dict[str, Any]) -> dict[str, Any]:
        metadata: dict[str, Any] = {
            "name": self.name,
            "namespace": self.settings.namespace,
            "uid": self.uid,
            "creationTimestamp": o.now(),
            "labels": {**self.labels, "tekton.dev/pipeline": self.pipeline_name},
        }
        if self.annotations:
            metadata["annotations"] = dict(self.annotations)
        spec: dict[str, Any] = {**copy.deepcopy(spec_field)}
        if self.given_params:
            spec["params"] = [{"name": k, "value": v} for k, v in self.given_params.items()]
        if self.workspaces:
            spec["workspaces"] = [b.spec_entry(n) for n, b in self.workspaces.items()]
        spec["timeouts"] = dict(self.timeouts)
        spec["taskRunTemplate"] = {"serviceAccountName": self.settings.service_account}
        return {
            "apiVersion": o.API_VERSION,
            "kind": "PipelineRun",
            "metadata": metadata,
            "spec": spec,
            "status": {
                "conditions": [o.condition("Unknown", o.STARTED)],
                "startTime": o.now(),
                "pipelineSpec": copy.deepcopy(self.spec),
            },
        }

    def _publish(self) -> None:
        o.write_object(self.obj, self.folder, "pipelinerun")
        if self.on_update:
            self.on_update(copy.deepcopy(self.obj))

    def _counts(self) -> tuple[int, int, int, int, int]:
        completed = failed = cancelled = skipped = ignored = 0
        for t in self.tasks.values():
            if t.state == SKIPPED:
                skipped += 1
            elif t.state == DONE and t.result is not None:
                completed += 1
                if t.result.reason in (o.TASK_CANCELLED,):
                    cancelled += 1
                elif not t.result.succeeded:
                    failed += 1
                    ignored += t.ignored
        return completed, failed, cancelled, skipped, ignored

    def _running_message(self) -> str:
        return o.tasks_message(*self._counts())

    # -- scope ---------------------------------------------------------------------------------------

    def _tasks_status(self) -> str:
        regular = [t for t in self.tasks.values() if not t.final]
        if any(t.state == DONE and not t.succeeded and not t.ignored for t in regular):
            return "Failed"
        if any(t.state == SKIPPED for t in regular):
            return "Completed"
        if all(t.state == DONE for t in regular):
            return "Succeeded"
        return "None"

    def lookup(self, expr: str) -> Value | None:
        if expr.startswith("params"):
            return lookup_in(self.params, expr[len("params") :], expr)
        parts = expr.split(".")
        if parts[0] == "tasks":
            if expr == "tasks.status":
                return self._tasks_status()
            if len(parts) >= 3 and parts[1] in self.tasks:
                task = self.tasks[parts[1]]
                if parts[2] == "status" and len(parts) == 3:
                    if task.state == DONE:
                        return "Succeeded" if task.succeeded else "Failed"
                    return "None"
                if parts[2] == "reason" and len(parts) == 3:
                    return task.result.reason if task.result else ""
                if parts[2] == "results" and (task.succeeded or task.ignored) and task.result is not None:
                    prefix = f"tasks.{parts[1]}.results"
                    return lookup_in(task.result.results, expr[len(prefix) :], expr)
            return None
        if parts[0] == "workspaces" and len(parts) == 3 and parts[2] == "bound":
            return "true" if parts[1] in self.workspaces else "false"
        context = {
            "context.pipelineRun.name": self.name,
            "context.pipelineRun.namespace": self.settings.namespace,
            "context.pipelineRun.uid": self.uid,
            "context.pipeline.name": self.pipeline_name,
        }
        return context.get(expr)

    def _missing_results(self, task: PipelineTask) -> bool:
        for expr in iter_refs([task.ptask.get("params"), task.ptask.get("when")]):
            parts = expr.split(".")
            if len(parts) >= 4 and parts[0] == "tasks" and parts[2] == "results":
                try:
                    if self.lookup(expr) is None:
                        return True
                except RunError:
                    return True
        return False

    def _evaluate_when(self, task: PipelineTask) -> bool:
        where = f"pipeline task {task.name} when"
        task.when = []
        ok = True
        for when in task.ptask.get("when") or ():
            value = substitute_string(str(when.get("input", "")), self.lookup, where)
            values = substitute_list(list(when.get("values") or []), self.lookup, where)
            task.when.append({"input": value, "operator": when["operator"], "values": values})
            matched = value in values
            ok = ok and (matched if when["operator"] == "in" else not matched)
        return ok

    # -- scheduling ----------------------------------------------------------------------------------

    def _skip(self, task: PipelineTask, reason: str) -> None:
        task.state, task.skip_reason = SKIPPED, reason
        entry: dict[str, Any] = {"name": task.name, "reason": reason}
        if task.when:
            entry["whenExpressions"] = task.when
        self.obj["status"].setdefault("skippedTasks", []).append(entry)
        self.dirty = True

    def _start(self, task: PipelineTask, pool: ThreadPoolExecutor) -> None:
        where = f"pipeline task {task.name}"
        given: dict[str, Value] = {}
        for p in task.ptask.get("params") or ():
            given[str(p["name"])] = substitute_value(p.get("value", ""), self.lookup, where)
        propagated = dict(self.params) if "taskSpec" in task.spec_ref else {}
        bindings: dict[str, WorkspaceBinding] = {}
        for w in task.ptask.get("workspaces") or ():
            source = str(w.get("workspace") or w["name"])
            if source in self.workspaces:
                sub = substitute_string(str(w.get("subPath", "")), self.lookup, where)
                bindings[str(w["name"])] = self.workspaces[source].narrowed(sub)
        timeout = DEFAULT_TIMEOUT
        if task.ptask.get("timeout"):
            timeout = parse_duration(str(task.ptask["timeout"]), f"{where} timeout")
        tr_name = o.child_name(self.name, task.name)
        labels = {
            **self.labels,
            "tekton.dev/pipeline": self.pipeline_name,
            "tekton.dev/pipelineRun": self.name,
            "tekton.dev/pipelineTask": task.name,
            "tekton.dev/memberOf": "finally" if task.final else "tasks",
        }
        retries = int(task.ptask.get("retries") or 0)
        req = TaskRunRequest(
            name=tr_name,
            label=task.name,
            task_spec=task.spec,
            spec_ref=task.spec_ref,
            folder=self.folder / tr_name,
            params=given,
            propagated=propagated,
            workspaces=bindings,
            timeout=timeout or None,
            retries=retries,
            labels=labels,
            annotations=dict(self.annotations),
            owner={
                "apiVersion": o.API_VERSION,
                "kind": "PipelineRun",
                "name": self.name,
                "uid": self.uid,
                "controller": True,
                "blockOwnerDeletion": True,
            },
            context={
                "context.pipelineRun.name": self.name,
                "context.pipelineRun.namespace": self.settings.namespace,
                "context.pipelineRun.uid": self.uid,
                "context.pipeline.name": self.pipeline_name,
                "context.pipelineTask.retries": str(retries),
            },
            task_name=task.task_name,
        )
        task.state = RUNNING
        child: dict[str, Any] = {
            "apiVersion": o.API_VERSION,
            "kind": "TaskRun",
            "name": tr_name,
            "pipelineTaskName": task.name,
        }
        if task.ptask.get("displayName"):
            child["displayName"] = substitute_string(str(task.ptask["displayName"]), self.lookup, where)
        if task.when:
            child["whenExpressions"] = task.when
        self.children.append(child)
        self.obj["status"]["childReferences"] = copy.deepcopy(self.children)
        self.dirty = True

        def write(obj: dict[str, Any]) -> None:
            self.taskruns[task.name] = obj
            o.write_object(obj, req.folder, "taskrun")

        def work() -> None:
            try:
                outcome = execute_taskrun(req, self.settings, task.stopper, write)
            except BaseException as exc:  # reported to the scheduler, which fails the run with it
                self.events.put((task.name, exc))
                return
            self.events.put((task.name, outcome))

        pool.submit(work)

    def _ready(self, task: PipelineTask) -> bool:
        return all(self.tasks[d].state in (DONE, SKIPPED) for d in task.deps)

    def _consider(self, task: PipelineTask, pool: ThreadPoolExecutor) -> None:
        """Start, or skip with Tekton's reason, a pending task whose parents are done."""
        try:
            self._consider_or_raise(task, pool)
        except RunError as exc:
            self._record(task.name, exc)

    def _consider_or_raise(self, task: PipelineTask, pool: ThreadPoolExecutor) -> None:
        if not task.final:
            parents_skipped = [
                d
                for d in task.deps
                if self.tasks[d].state == SKIPPED and self.tasks[d].skip_reason != o.SKIP_WHEN
            ]
            if parents_skipped:
                self._skip(task, o.SKIP_PARENT)
                return
        if self._missing_results(task):
            self._skip(task, o.SKIP_MISSING_RESULTS)
            return
        if not self._evaluate_when(task):
            self._skip(task, o.SKIP_WHEN)
            return
        self._start(task, pool)

    def _stop_running(self, final: bool | None, reason: str, message: str) -> None:
        for t in self.tasks.values():
            if t.state == RUNNING and (final is None or t.final == final):
                t.stopper.stop(reason, message)

    def _skip_pending(self, final: bool | None, reason: str) -> None:
        for t in self.tasks.values():
            if t.state == PENDING and (final is None or t.final == final):
                self._skip(t, reason)

    def run(self) -> PipelineRunResult:
        self.folder.mkdir(parents=True, exist_ok=True)
        status = self.obj["status"]
        try:
            self.params = bind_params(
                self.spec.get("params") or (), self.given_params, f"PipelineRun {self.name}"
            )
            self._check_workspaces()
            self.tasks = resolve_tasks(self.spec, self.resolver, set(self.params))
        except RunError as exc:
            return self._finish("False", exc.reason, str(exc))
        status["conditions"] = [o.condition("Unknown", o.RUNNING, self._running_message())]
        self._publish()
        start = time.monotonic()
        limits = {k: parse_duration(v, f"timeouts.{k}") for k, v in self.timeouts.items()}
        pipeline_deadline = start + limits["pipeline"] if limits.get("pipeline") else None
        tasks_deadline = start + limits["tasks"] if limits.get("tasks") else None
        finally_deadline: float | None = None
        finally_started = False
        tasks_timed_out = finally_timed_out = False
        with ThreadPoolExecutor(max_workers=max(1, len(self.tasks)), thread_name_prefix=self.name) as pool:
            while True:
                regular = [t for t in self.tasks.values() if not t.final]
                if not finally_started:
                    if self.stopping or self.cancelled or tasks_timed_out:
                        reason = o.SKIP_TASKS_TIMEOUT if tasks_timed_out else o.SKIP_STOPPING
                        self._skip_pending(False, reason)
                    for t in regular:
                        if t.state == PENDING and self._ready(t):
                            self._consider(t, pool)
                    if all(t.state in (DONE, SKIPPED) for t in regular):
                        finally_started = True
                        finals = [t for t in self.tasks.values() if t.final]
                        if finals:
                            status["finallyStartTime"] = o.now()
                            if limits.get("finally"):
                                finally_deadline = time.monotonic() + limits["finally"]
                        if self.cancelled:
                            self._skip_pending(True, o.SKIP_STOPPING)
                        for t in finals:
                            if t.state == PENDING:
                                self._consider(t, pool)
                        self._publish()
                if finally_started and all(t.state in (DONE, SKIPPED) for t in self.tasks.values()):
                    break
                self._publish_progress()
                wait = 0.2
                now = time.monotonic()
                for d in (pipeline_deadline, tasks_deadline, finally_deadline):
                    if d is not None:
                        wait = max(0.0, min(wait, d - now))
                try:
                    name, outcome = self.events.get(timeout=wait)
                except queue.Empty:
                    pass
                else:
                    self._record(name, outcome)
                now = time.monotonic()
                if self.cancel.is_set() and not self.cancelled:
                    self.cancelled = True
                    self._stop_running(None, o.TASK_CANCELLED, CANCELLED_BY_PIPELINE)
                    self._skip_pending(None, o.SKIP_STOPPING)
                if pipeline_deadline is not None and now >= pipeline_deadline and not self.timed_out:
                    self.timed_out = True
                    self._stop_running(None, o.TASK_CANCELLED, TIMED_OUT_BY_PIPELINE)
                    self._skip_pending(None, o.SKIP_PIPELINE_TIMEOUT)
                if (
                    tasks_deadline is not None
                    and now >= tasks_deadline
                    and not finally_started
                    and not tasks_timed_out
                ):
                    tasks_timed_out = True
                    self._stop_running(False, o.TASK_CANCELLED, TIMED_OUT_BY_PIPELINE)
                    self._skip_pending(False, o.SKIP_TASKS_TIMEOUT)
                if finally_deadline is not None and now >= finally_deadline and not finally_timed_out:
                    finally_timed_out = True
                    self._stop_running(True, o.TASK_CANCELLED, TIMED_OUT_BY_PIPELINE)
                    self._skip_pending(True, o.SKIP_FINALLY_TIMEOUT)
        return self._conclude(tasks_timed_out or finally_timed_out)

    def _publish_progress(self) -> None:
        """Publish the running status when a task started, was skipped or ended since last time."""
        cond = self.obj["status"]["conditions"][0]
        message = self._running_message()
        if cond.get("message") != message or self.dirty:
            self.obj["status"]["conditions"] = [o.condition("Unknown", o.RUNNING, message)]
            self.dirty = False
            self._publish()

    def _record(self, name: str, outcome: TaskRunResult | BaseException) -> None:
        task = self.tasks[name]
        if isinstance(outcome, BaseException):
            if not isinstance(outcome, RunError):
                raise outcome
            # The Task could not run at all (bad param, unbound workspace): a failed TaskRun.
            self.stopping = True
            task.state = DONE
            task.result = TaskRunResult(
                name, self.taskruns.get(name, {}), False, outcome.reason, str(outcome), {}, self.folder
            )
            return
        task.state, task.result = DONE, outcome
        self.taskruns[name] = outcome.taskrun
        if not outcome.succeeded:
            if task.ptask.get("onError") == "continue" and outcome.reason not in (o.TASK_CANCELLED,):
                cond = outcome.taskrun["status"]["conditions"][0]
                cond["reason"] = o.FAILURE_IGNORED
                o.write_object(outcome.taskrun, outcome.folder, "taskrun")
            else:
                self.stopping = True
        self._publish()

    def _check_workspaces(self) -> None:
        declared = {str(w["name"]): bool(w.get("optional")) for w in self.spec.get("workspaces") or ()}
        for name in self.workspaces:
            if name not in declared:
                raise RunError(
                    f"workspace {name} is not declared by the pipeline "
                    f"(declared: {', '.join(declared) or 'none'})",
                    "InvalidWorkspaceBindings",
                )
        for name, optional in declared.items():
            if not optional and name not in self.workspaces:
                raise RunError(
                    f"the pipeline's workspace {name} is not bound: bind it (-w {name}=DIR or emptyDir)",
                    "InvalidWorkspaceBindings",
                )

    def _pipeline_results(self) -> tuple[list[dict[str, Any]], dict[str, Value]]:
        entries: list[dict[str, Any]] = []
        values: dict[str, Value] = {}
        for decl in self.spec.get("results") or ():
            raw = decl.get("value")
            refs = task_refs(raw)
            if any(not (self.tasks[r].succeeded or self.tasks[r].ignored) for r in refs if r in self.tasks):
                continue
            try:
                value = substitute_value(raw, self.lookup, f"pipeline result {decl['name']}")
            except RunError:
                continue
            if any(e.startswith("tasks.") for e in iter_refs(value)):
                continue  # a result its task did not write: not emitted, as Tekton does
            values[str(decl["name"])] = value
            entries.append({"name": str(decl["name"]), "value": value})
        return entries, values

    def _conclude(self, part_timed_out: bool) -> PipelineRunResult:
        completed, failed, cancelled, skipped, ignored = self._counts()
        message = o.tasks_message(completed, failed, cancelled, skipped, ignored)
        if self.cancelled:
            return self._finish("False", o.PIPELINE_CANCELLED, f'PipelineRun "{self.name}" was cancelled')
        if self.timed_out or part_timed_out:
            limit = self.timeouts.get("pipeline", "")
            if not self.timed_out:
                limit = (
                    self.timeouts.get("tasks")
                    if "tasks" in self.timeouts
                    else self.timeouts.get("finally", "")
                )
            text = format_duration(parse_duration(limit)) if limit else ""
            return self._finish(
                "False", o.PIPELINE_TIMEOUT, f'PipelineRun "{self.name}" failed to finish within "{text}"'
            )
        if failed - ignored > 0:
            lines = [
                f"{t.name}: {t.result.failed_line or t.result.message}"
                for t in self.tasks.values()
                if t.state == DONE and t.result and not t.result.succeeded and not t.ignored
            ]
            return self._finish("False", o.FAILED, message + ("; " + "; ".join(lines) if lines else ""))
        return self._finish("True", o.COMPLETED if skipped else o.SUCCEEDED, message)

    def _finish(self, status_value: str, reason: str, message: str) -> PipelineRunResult:
        status = self.obj["status"]
        entries, values = self._pipeline_results() if self.tasks else ([], {})
        if entries:
            status["results"] = entries
        status["conditions"] = [o.condition(status_value, reason, message)]
        status["completionTime"] = o.now()
        o.write_object(self.obj, self.folder, "pipelinerun", yaml_too=True)
        for name, obj in self.taskruns.items():
            o.write_object(obj, self.folder / obj["metadata"]["name"], "taskrun", yaml_too=True)
            self.taskruns[name] = obj
        if self.on_update:
            self.on_update(copy.deepcopy(self.obj))
        return PipelineRunResult(
            self.name,
            copy.deepcopy(self.obj),
            copy.deepcopy(self.taskruns),
            status_value == "True",
            reason,
            message,
            values,
            self.folder,
        )
