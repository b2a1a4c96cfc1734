"""Running one TaskRun: params bound, workspaces and result folders laid out, steps run in order
(``onError``, timeouts, stopping), results read back with Tekton's size limit, retries, and the
``tekton.dev/v1`` TaskRun object with its status."""

from __future__ import annotations

import copy
import json
import shutil
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iib_steps.tekton.runner import objects as o
from iib_steps.tekton.runner.durations import format_duration, parse_duration
from iib_steps.tekton.runner.errors import RunError
from iib_steps.tekton.runner.params import bind_params
from iib_steps.tekton.runner.process import StepExit, Stopper
from iib_steps.tekton.runner.runtimes import Mount, PathMap, Runtime, StepProcess
from iib_steps.tekton.runner.steps import merge_step_template, step_argv, step_env
from iib_steps.tekton.runner.variables import Value, iter_refs, lookup_in, substitute_string
from iib_steps.tekton.runner.workspaces import EMPTY_DIR, SECRET, WorkspaceBinding

RESULTS_LIMIT = 4096
"""Bytes Tekton allows for all results of one TaskRun (they travel in the termination message)."""

DEFAULT_TIMEOUT = 3600.0
LogSink = Callable[[str, str, str], None]
"""``(pipeline task or task name, step name, line)``."""


@dataclass
class RunSettings:
    """What every TaskRun of one run shares."""

    runtime: Runtime
    namespace: str = "default"
    secrets_dir: Path | None = None
    on_log: LogSink | None = None
    service_account: str = "default"


@dataclass
class TaskRunRequest:
    """One TaskRun to run: its Task, the values it is given, and where its files go."""

    name: str
    label: str
    task_spec: dict[str, Any]
    spec_ref: dict[str, Any]
    folder: Path
    params: dict[str, Value] = field(default_factory=dict)
    propagated: dict[str, Value] = field(default_factory=dict)
    workspaces: dict[str, WorkspaceBinding] = field(default_factory=dict)
    timeout: float | None = DEFAULT_TIMEOUT
    retries: int = 0
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    owner: dict[str, Any] | None = None
    context: dict[str, str] = field(default_factory=dict)
    task_name: str = ""


@dataclass
class TaskRunResult:
    """The outcome of a TaskRun: its object, whether it succeeded, and its results."""

    name: str
    taskrun: dict[str, Any]
    succeeded: bool
    reason: str
    message: str
    results: dict[str, Value]
    folder: Path

    @property
    def failed_line(self) -> str:
        """The failing step's last output line (empty when none)."""
        return self.taskrun.get("metadata", {}).get("annotations", {}).get(FAILED_LINE, "")


FAILED_LINE = "iib.tekton/failed-step-line"


def _declared_workspaces(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [dict(w) for w in spec.get("workspaces") or ()]


class _Attempt:
    """One try of a TaskRun: a fresh set of folders, the steps, the results."""

    def __init__(
        self, req: TaskRunRequest, settings: RunSettings, params: dict[str, Value], retry: int, uid: str
    ):
        self.req, self.settings, self.params, self.retry, self.uid = req, settings, params, retry, uid
        self.pathmap: PathMap | None = None
        internal = req.folder / ".tekton"
        self.results_dir = internal / "results"
        self.scripts_dir = internal / "scripts"
        self.steps_dir = internal / "steps"
        self.home_dir = internal / "home"
        self.root_dir = internal / "workspace"
        for d in (self.results_dir, self.steps_dir):
            if d.exists():
                shutil.rmtree(d)
        for d in (self.results_dir, self.scripts_dir, self.steps_dir, self.home_dir, self.root_dir):
            d.mkdir(parents=True, exist_ok=True)
            d.chmod(0o777)
        self.mounts = [
            Mount("/tekton/results", self.results_dir),
            Mount("/tekton/scripts", self.scripts_dir, readonly=True),
            Mount("/tekton/steps", self.steps_dir),
            Mount("/tekton/home", self.home_dir),
            Mount("/workspace", self.root_dir),
        ]
        self.workspace_paths: dict[str, str] = {}
        for decl in _declared_workspaces(req.task_spec):
            name = str(decl["name"])
            target = str(decl.get("mountPath") or f"/workspace/{name}")
            binding = req.workspaces.get(name)
            if binding is None:
                if decl.get("optional"):
                    continue
                raise RunError(f"TaskRun {req.name}: workspace {name} is not bound: bind it (-w {name}=DIR)")
            host = self._binding_folder(name, binding)
            self.mounts.append(
                Mount(target, host, readonly=binding.kind == SECRET or bool(decl.get("readOnly")))
            )
            self.workspace_paths[name] = target
        self.volumes = {str(v["name"]): self._volume_folder(v) for v in req.task_spec.get("volumes") or ()}
        self.base_mounts = list(self.mounts)
        self.pathmap = PathMap(self.mounts) if settings.runtime.maps_paths else None

    def _volume_folder(self, volume: Mapping[str, Any]) -> tuple[Path, bool]:
        """A pod volume of the Task: an ``emptyDir`` folder, or a secret from the secrets folder."""
        name = str(volume["name"])
        if "emptyDir" in volume:
            folder = self.req.folder / ".tekton" / "volumes" / name
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(0o777)
            return folder, False
        if "secret" in volume:
            secret = substitute_string(str(volume["secret"].get("secretName", "")), self.lookup, name)
            base = self.settings.secrets_dir
            if base is None or not (base / secret).is_dir():
                raise RunError(
                    f"TaskRun {self.req.name}: volume {name} needs the secret {secret!r}: "
                    "give a secrets folder holding it (--secrets DIR)"
                )
            return base / secret, True
        raise RunError(f"TaskRun {self.req.name}: volume {name} is not an emptyDir or a secret")

    def _use_step_mounts(self, step: Mapping[str, Any], where: str) -> None:
        """The TaskRun's mounts plus the step's ``volumeMounts``, and the host paths they map to."""
        mounts = list(self.base_mounts)
        for vm in step.get("volumeMounts") or ():
            name = str(vm.get("name"))
            if name not in self.volumes:
                raise RunError(f"{where}: volumeMount {name} names no volume of the Task")
            folder, readonly = self.volumes[name]
            if vm.get("subPath"):
                folder = folder / str(vm["subPath"])
                folder.mkdir(parents=True, exist_ok=True)
            mounts.append(Mount(str(vm["mountPath"]), folder, readonly or bool(vm.get("readOnly"))))
        self.mounts = mounts
        self.pathmap = PathMap(mounts) if self.settings.runtime.maps_paths else None

    def _binding_folder(self, name: str, binding: WorkspaceBinding) -> Path:
        if binding.kind == EMPTY_DIR:
            base = self.req.folder / ".tekton" / "workspaces" / name
        else:
            assert binding.path is not None
            base = binding.path
        folder = base / binding.sub_path if binding.sub_path else base
        if binding.kind == SECRET:
            if not folder.is_dir():
                raise RunError(
                    f"TaskRun {self.req.name}: secret folder {folder} for workspace {name} does not exist"
                )
        else:
            folder.mkdir(parents=True, exist_ok=True)
            if binding.kind == EMPTY_DIR:
                folder.chmod(0o777)
        return folder

    def _check_references(self, step: Mapping[str, Any], where: str) -> None:
        """Refuse a step that refers to a param, result or workspace its Task does not declare, as
        Tekton's admission webhook does (such a reference would otherwise reach the step verbatim)."""
        fields = [step.get(k) for k in ("image", "command", "args", "script", "workingDir")]
        fields += [e.get("value") for e in step.get("env") or ()]
        declared_results = {str(r["name"]) for r in self.req.task_spec.get("results") or ()}
        for expr in iter_refs(fields):
            parts = expr.split(".")
            unknown = ""
            if parts[0].startswith("params") and self.lookup(expr) is None:
                unknown = "param"
            elif parts[0] == "results" and len(parts) == 3 and parts[1] not in declared_results:
                unknown = "result"
            elif parts[0] == "workspaces" and len(parts) == 3 and self.lookup(expr) is None:
                unknown = "workspace"
            if unknown:
                raise RunError(f"{where} refers to $({expr}), a {unknown} its Task does not declare")

    def _line_sink(self, step: str) -> Callable[[str], None] | None:
        sink, label = self.settings.on_log, self.req.label
        if sink is None:
            return None
        return lambda line: sink(label, step, line)

    def visible(self, path: str) -> str:
        return self.pathmap.host_path(path) if self.pathmap else path

    def lookup(self, expr: str) -> Value | None:
        if expr.startswith("params"):
            return lookup_in({**self.req.propagated, **self.params}, expr[len("params") :], expr)
        parts = expr.split(".")
        if parts[0] == "results" and len(parts) == 3 and parts[2] == "path":
            return self.visible(f"/tekton/results/{parts[1]}")
        if parts[0] == "workspaces" and len(parts) == 3:
            name, what = parts[1], parts[2]
            declared = {str(w["name"]) for w in _declared_workspaces(self.req.task_spec)}
            if name not in declared:
                return None
            bound = name in self.workspace_paths
            if what == "path":
                return self.visible(self.workspace_paths[name]) if bound else ""
            if what == "bound":
                return "true" if bound else "false"
            if what == "claim":
                return ""
            if what == "volume":
                return f"ws-{name}" if bound else ""
            return None
        if parts[0] == "steps" and len(parts) == 4 and parts[2] == "exitCode" and parts[3] == "path":
            return self.visible(f"/tekton/steps/{parts[1]}/exitCode")
        if expr == "credentials.path":
            return self.visible("/tekton/creds")
        context = {
            "context.taskRun.name": self.req.name,
            "context.taskRun.namespace": self.settings.namespace,
            "context.taskRun.uid": self.uid,
            "context.task.name": self.req.task_name or self.req.label,
            "context.task.retry-count": str(self.retry),
            **self.req.context,
        }
        return context.get(expr)

    def run(self, stopper: Stopper, deadline: float | None) -> tuple[list[dict[str, Any]], str, str, str]:
        """Run the steps; return their states, the reason, the message and the failing line."""
        spec = self.req.task_spec
        if spec.get("sidecars"):
            raise RunError(f"TaskRun {self.req.name}: sidecars are not run by the embedded runner")
        states: list[dict[str, Any]] = []
        reason, message, failed_line = o.SUCCEEDED, "All Steps have completed executing", ""
        runtime = self.settings.runtime
        steps = spec.get("steps") or []
        if not steps:
            raise RunError(f"TaskRun {self.req.name}: the Task has no steps")
        for index, raw in enumerate(steps):
            step = merge_step_template(spec.get("stepTemplate"), raw)
            name = str(step.get("name") or f"unnamed-{index}")
            where = f"{self.req.label} step {name}"
            if reason != o.SUCCEEDED:
                states.append(_skipped_state(name, step))
                continue
            for unsupported in ("when", "ref", "workspaces", "stdoutConfig", "stderrConfig"):
                if step.get(unsupported):
                    raise RunError(f"{where}: step {unsupported} is not supported by the embedded runner")
            self._use_step_mounts(step, where)
            self._check_references(step, where)
            image = substitute_string(str(step.get("image", "")), self.lookup, where)
            argv = step_argv(
                step,
                index=index,
                lookup=self.lookup,
                rewrite=self.pathmap,
                runtime=runtime,
                image=image,
                scripts_dir=self.scripts_dir,
                script_visible=self.visible("/tekton/scripts"),
                where=where,
            )
            env = step_env(step, self.lookup, self.pathmap, self.settings.secrets_dir, where)
            cwd_raw = str(step.get("workingDir") or "")
            if self.pathmap is not None:
                cwd_raw = self.pathmap.rewrite(cwd_raw)
            # No workingDir: the image's (the container runtime's default), on the host /workspace.
            cwd = substitute_string(cwd_raw, self.lookup, where)
            if not cwd and self.pathmap is not None:
                cwd = self.visible("/workspace")
            on_error = substitute_string(str(step.get("onError") or "stopAndFail"), self.lookup, where)
            step_deadline = deadline
            if step.get("timeout"):
                limit = parse_duration(str(step["timeout"]), f"{where} timeout")
                if limit > 0:
                    own = time.monotonic() + limit
                    step_deadline = own if deadline is None else min(deadline, own)
            process = StepProcess(
                name=name,
                image=image,
                argv=argv,
                env=env,
                cwd=cwd,
                mounts=list(self.mounts),
                log_path=self.req.folder / f"{name}.log",
                run_as_user=(step.get("securityContext") or {}).get("runAsUser"),
            )
            exit_dir = self.steps_dir / f"step-{name}"
            exit_dir.mkdir(parents=True, exist_ok=True)
            # What ran, for debugging and for replaying the step alone (the step's own env only).
            command = {"argv": argv, "env": env, "workingDir": cwd, "image": image}
            (exit_dir / "command.json").write_text(json.dumps(command, ensure_ascii=False))
            on_line = self._line_sink(name)
            outcome = runtime.run_step(process, on_line=on_line, deadline=step_deadline, stopper=stopper)
            (exit_dir / "exitCode").write_text(str(outcome.exit_code))
            (exit_dir / "seconds").write_text(f"{outcome.seconds:.6f}")
            states.append(_step_state(name, image, outcome))
            if outcome.stopped == "stop":
                reason, message = stopper.reason, stopper.message
            elif outcome.stopped == "timeout" and deadline is not None and step_deadline == deadline:
                timeout = self.req.timeout or 0
                reason = o.TASK_TIMEOUT
                message = f'TaskRun "{self.req.name}" failed to finish within "{format_duration(timeout)}"'
            elif outcome.stopped == "timeout":
                reason, message = o.FAILED, f'"step-{name}" exited because the step timed out'
            elif outcome.exit_code != 0 and on_error != "continue":
                reason = o.FAILED
                message = f'"step-{name}" exited with code {outcome.exit_code}'
                failed_line = outcome.last_line
                if failed_line:
                    message += f": {failed_line}"
        return states, reason, message, failed_line

    def read_results(self) -> tuple[dict[str, Value], list[dict[str, Any]], str]:
        """Declared results the steps wrote, typed; an error text when they break Tekton's rules."""
        values: dict[str, Value] = {}
        entries: list[dict[str, Any]] = []
        size = 0
        for decl in self.req.task_spec.get("results") or ():
            name = str(decl["name"])
            path = self.results_dir / name
            if not path.is_file():
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            size += len(json.dumps({"key": name, "value": text, "type": 1}, ensure_ascii=False).encode())
            kind = str(decl.get("type") or "string")
            value: Value = text
            if kind in ("array", "object"):
                try:
                    value = json.loads(text)
                except ValueError:
                    return {}, [], f"result {name} is declared {kind} but holds {text[:60]!r}, not JSON"
                ok = isinstance(value, list) if kind == "array" else isinstance(value, dict)
                if not ok:
                    return {}, [], f"result {name} is declared {kind} but holds {text[:60]!r}"
                if kind == "array":
                    value = [str(v) for v in value]  # type: ignore[union-attr]
                else:
                    value = {str(k): str(v) for k, v in value.items()}  # type: ignore[union-attr]
                    missing = [k for k in (decl.get("properties") or {}) if k not in value]
                    if missing:
                        return {}, [], f"object result {name} lacks the key(s) {', '.join(missing)}"
            values[name] = value
            entries.append({"name": name, "type": kind, "value": value})
        if size > RESULTS_LIMIT:
            return (
                {},
                [],
                (
                    f"TaskRun {self.req.name}'s results take {size} bytes, over Tekton's limit of "
                    f"{RESULTS_LIMIT} bytes for all results of a TaskRun: write less, or put it in a "
                    "file or an image"
                ),
            )
        return values, entries, ""


def _step_state(name: str, image: str, outcome: StepExit) -> dict[str, Any]:
    if outcome.stopped:
        term_reason = "TaskRunCancelled" if outcome.stopped == "stop" else "TaskRunTimeout"
    else:
        term_reason = "Completed" if outcome.exit_code == 0 else "Error"
    return {
        "name": name,
        "container": f"step-{name}",
        "imageID": image,
        "terminated": {
            "exitCode": outcome.exit_code,
            "reason": term_reason,
            "startedAt": outcome.started_at,
            "finishedAt": outcome.finished_at,
        },
        "terminationReason": term_reason,
    }


def _skipped_state(name: str, step: Mapping[str, Any]) -> dict[str, Any]:
    stamp = o.now()
    return {
        "name": name,
        "container": f"step-{name}",
        "imageID": str(step.get("image", "")),
        "terminated": {"exitCode": 1, "reason": "Skipped", "startedAt": stamp, "finishedAt": stamp},
        "terminationReason": "Skipped",
    }


def new_taskrun_object(req: TaskRunRequest, settings: RunSettings, uid: str) -> dict[str, Any]:
    """The TaskRun as created: metadata, spec, and a ``Started`` status."""
    metadata: dict[str, Any] = {
        "name": req.name,
        "namespace": settings.namespace,
        "uid": uid,
        "creationTimestamp": o.now(),
        "labels": {**req.labels, "tekton.dev/taskRun": req.name},
    }
    if req.task_name:
        metadata["labels"]["tekton.dev/task"] = req.task_name
    if req.annotations:
        metadata["annotations"] = dict(req.annotations)
    if req.owner:
        metadata["ownerReferences"] = [req.owner]
    spec: dict[str, Any] = {
        "serviceAccountName": settings.service_account,
        **copy.deepcopy(req.spec_ref),
    }
    if req.params:
        spec["params"] = [{"name": k, "value": v} for k, v in req.params.items()]
    if req.timeout is not None:
        spec["timeout"] = format_duration(req.timeout)
    if req.workspaces:
        spec["workspaces"] = [b.spec_entry(n) for n, b in req.workspaces.items()]
    return {
        "apiVersion": o.API_VERSION,
        "kind": "TaskRun",
        "metadata": metadata,
        "spec": spec,
        "status": {
            "conditions": [o.condition("Unknown", o.STARTED)],
            "podName": f"{req.name}-pod",
            "startTime": o.now(),
            "taskSpec": copy.deepcopy(req.task_spec),
        },
    }


def execute_taskrun(
    req: TaskRunRequest,
    settings: RunSettings,
    stopper: Stopper | None = None,
    on_change: Callable[[dict[str, Any]], None] | None = None,
) -> TaskRunResult:
    """Run ``req`` to its end (all retries) and return its outcome; never raises for a step's
    failure, only for a Task that cannot be run at all (:class:`RunError`)."""
    stopper = stopper or Stopper()
    uid = str(uuid.uuid4())
    req.folder.mkdir(parents=True, exist_ok=True)
    params = bind_params(req.task_spec.get("params") or (), req.params, f"TaskRun {req.name}")
    obj = new_taskrun_object(req, settings, uid)
    retries_status: list[dict[str, Any]] = []
    started = time.monotonic()
    deadline = started + req.timeout if req.timeout else None
    for attempt in range(req.retries + 1):
        status = obj["status"]
        status["conditions"] = [
            o.condition("Unknown", o.RUNNING, "Not all Steps in the Task have finished executing")
        ]
        status.pop("steps", None)
        status.pop("results", None)
        if on_change:
            on_change(copy.deepcopy(obj))
        if attempt:
            _keep_attempt_logs(req.folder, attempt)
            deadline = time.monotonic() + req.timeout if req.timeout else None
        try:
            run = _Attempt(req, settings, params, attempt, uid)
            states, reason, message, failed_line = run.run(stopper, deadline)
        except RunError as exc:
            states, reason, message, failed_line = [], "TaskRunValidationFailed", str(exc), ""
            run = None
        values: dict[str, Value] = {}
        entries: list[dict[str, Any]] = []
        if run is not None:
            values, entries, problem = run.read_results()
            if problem:
                if reason == o.SUCCEEDED:
                    reason, message = o.RESULTS_TOO_LARGE if "limit" in problem else o.FAILED, problem
                values, entries = {}, []
        succeeded = reason == o.SUCCEEDED
        status["steps"] = states
        if entries:
            status["results"] = entries
        status["conditions"] = [o.condition("True" if succeeded else "False", reason, message)]
        status["completionTime"] = o.now()
        if failed_line:
            obj["metadata"].setdefault("annotations", {})[FAILED_LINE] = failed_line
        retryable = (
            not succeeded
            and reason not in (o.TASK_CANCELLED, "TaskRunValidationFailed")
            and not stopper.stopped
        )
        if retryable and attempt < req.retries:
            previous = copy.deepcopy(status)
            previous.pop("retriesStatus", None)
            previous.pop("taskSpec", None)
            retries_status.append(previous)
            status["retriesStatus"] = copy.deepcopy(retries_status)
            status.pop("completionTime", None)
            continue
        break
    if retries_status:
        obj["status"]["retriesStatus"] = retries_status
    if on_change:
        on_change(copy.deepcopy(obj))
    cond = obj["status"]["conditions"][0]
    return TaskRunResult(
        req.name, obj, cond["status"] == "True", cond["reason"], cond.get("message", ""), values, req.folder
    )


def _keep_attempt_logs(folder: Path, attempt: int) -> None:
    """Keep an earlier attempt's step logs as ``<step>.retry-<n>.log``."""
    for log in folder.glob("*.log"):
        if ".retry-" not in log.name:
            log.rename(log.with_name(f"{log.stem}.retry-{attempt - 1}.log"))
