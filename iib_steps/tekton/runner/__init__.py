"""The embedded Tekton runner: run a Pipeline or a Task on this machine with Tekton's semantics.

    from iib_steps.tekton.runner import run_pipeline, run_task

    result = run_pipeline("iib-add", params={"bundles": ["oci:/images/b:1"]}, workspaces={"ws": "emptyDir"},
                          runs_dir=Path("/tmp/runs"))
    result.succeeded, result.reason, result.message, result.results
    result.pipelinerun        # the tekton.dev/v1 PipelineRun object, status included
    result.taskruns["add"]    # its TaskRun objects, by pipeline task name

Each step's log is ``<runs_dir>/<pipelinerun>/<taskrun>/<step>.log``; the objects are written beside
them (``pipelinerun.json``/``.yaml``, ``<taskrun>/taskrun.json``/``.yaml``).
"""

from __future__ import annotations

import copy
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iib_steps.tekton.runner import objects as o
from iib_steps.tekton.runner.errors import RunError
from iib_steps.tekton.runner.pipelinerun import PipelineRunner, PipelineRunResult
from iib_steps.tekton.runner.process import Stopper
from iib_steps.tekton.runner.runtimes import Runtime, make_runtime
from iib_steps.tekton.runner.sources import BundleFetcher, CatalogTaskResolver, TaskResolver, load_definition
from iib_steps.tekton.runner.taskrun import (
    DEFAULT_TIMEOUT,
    LogSink,
    RunSettings,
    TaskRunRequest,
    TaskRunResult,
    execute_taskrun,
)
from iib_steps.tekton.runner.variables import Value
from iib_steps.tekton.runner.workspaces import WorkspaceBinding, parse_workspace

__all__ = [
    "PipelineRunResult",
    "RunError",
    "TaskRunResult",
    "WorkspaceBinding",
    "default_runs_dir",
    "run_pipeline",
    "run_pipelinerun",
    "run_task",
]

Definition = Mapping[str, Any] | str | Path
WorkspaceValue = WorkspaceBinding | str | Path | Mapping[str, Any]


def default_runs_dir() -> Path:
    return Path(tempfile.gettempdir()) / "iib-tekton-runs"


def _bindings(
    workspaces: Mapping[str, WorkspaceValue] | None, secrets_dir: Path | None
) -> dict[str, WorkspaceBinding]:
    return {name: parse_workspace(value, secrets_dir) for name, value in (workspaces or {}).items()}


def _ref_or_spec(source: Definition, obj: dict[str, Any], key: str) -> dict[str, Any]:
    """``{pipelineRef: {name}}`` for a definition named by the caller, else the spec inline."""
    if isinstance(source, str) and not Path(source).is_file():
        return {f"{key}Ref": {"name": obj["metadata"]["name"]}}
    return {f"{key}Spec": copy.deepcopy(obj["spec"])}


@dataclass(frozen=True)
class _Prepared:
    """What :func:`run_pipeline` and :func:`run_task` both make of their arguments."""

    obj: dict[str, Any]  # the Pipeline or Task
    others: list[dict[str, Any]]  # the other documents of its file
    label: str  # the Pipeline's or Task's name
    name: str  # the run's name
    folder: Path  # <runs_dir>/<run name>
    settings: RunSettings
    params: dict[str, Value]
    workspaces: dict[str, WorkspaceBinding]


_SHARED_OPTIONS = (
    "name", "runs_dir", "params", "workspaces", "runtime", "image_map", "namespace", "secrets_dir",
    "on_log", "service_account",
)  # fmt: skip


def _shared_options(scope: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments :func:`run_pipeline` and :func:`run_task` hand to :func:`_prepare`."""
    return {key: scope[key] for key in _SHARED_OPTIONS}


def _prepare(
    source: Definition,
    kind: str,
    search: Sequence[Path],
    *,
    name: str | None,
    runs_dir: Path | None,
    params: Mapping[str, Value] | None,
    workspaces: Mapping[str, WorkspaceValue] | None,
    runtime: str | Runtime,
    image_map: Mapping[str, str] | None,
    namespace: str,
    secrets_dir: Path | None,
    on_log: LogSink | None,
    service_account: str,
) -> _Prepared:
    """Load the ``kind`` definition (searching ``search``), name the run and make its settings,
    params and workspace bindings."""
    obj, others = load_definition(source, kind, search)
    label = str(obj["metadata"]["name"])
    run_name = name or o.generate_name(label)
    settings = RunSettings(make_runtime(runtime, image_map), namespace, secrets_dir, on_log, service_account)
    return _Prepared(
        obj=obj,
        others=others,
        label=label,
        name=run_name,
        folder=Path(runs_dir or default_runs_dir()) / run_name,
        settings=settings,
        params=dict(params or {}),
        workspaces=_bindings(workspaces, secrets_dir),
    )


def run_pipeline(
    pipeline: Definition,
    *,
    params: Mapping[str, Value] | None = None,
    workspaces: Mapping[str, WorkspaceValue] | None = None,
    runtime: str | Runtime = "host",
    runs_dir: Path | None = None,
    name: str | None = None,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    timeouts: Mapping[str, str] | None = None,
    on_log: LogSink | None = None,
    on_update: Callable[[dict[str, Any]], None] | None = None,
    cancel: threading.Event | None = None,
    task_resolver: TaskResolver | None = None,
    task_dirs: Sequence[Path] = (),
    pipeline_dirs: Sequence[Path] = (),
    bundle_fetcher: BundleFetcher | None = None,
    secrets_dir: Path | None = None,
    image_map: Mapping[str, str] | None = None,
    namespace: str = "default",
    service_account: str = "default",
) -> PipelineRunResult:
    """Run a Pipeline (a dict, a YAML file, or a name in ``pipelines/``) to its end.

    A run that fails ends with ``succeeded`` false and Tekton's reason; only a Pipeline that cannot
    be found or read raises :class:`RunError`. ``timeouts`` takes ``pipeline``/``tasks``/``finally``
    Go durations; ``cancel`` stops the run when set; ``on_update`` receives the PipelineRun object
    whenever its status changes; ``on_log(pipeline task, step, line)`` receives every output line.
    """
    run = _prepare(pipeline, "Pipeline", pipeline_dirs, **_shared_options(locals()))
    runner = PipelineRunner(
        name=run.name,
        pipeline_name=run.label,
        spec=run.obj["spec"],
        spec_field=_ref_or_spec(pipeline, run.obj, "pipeline"),
        params=run.params,
        workspaces=run.workspaces,
        settings=run.settings,
        resolver=task_resolver or CatalogTaskResolver(task_dirs, run.others, bundle_fetcher),
        folder=run.folder,
        labels=labels,
        annotations=annotations,
        timeouts=timeouts,
        on_update=on_update,
        cancel=cancel,
    )
    return runner.run()


def run_task(
    task: Definition,
    *,
    params: Mapping[str, Value] | None = None,
    workspaces: Mapping[str, WorkspaceValue] | None = None,
    runtime: str | Runtime = "host",
    runs_dir: Path | None = None,
    name: str | None = None,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    timeout: str | None = None,
    retries: int = 0,
    on_log: LogSink | None = None,
    on_update: Callable[[dict[str, Any]], None] | None = None,
    cancel: threading.Event | None = None,
    task_dirs: Sequence[Path] = (),
    secrets_dir: Path | None = None,
    image_map: Mapping[str, str] | None = None,
    namespace: str = "default",
    service_account: str = "default",
) -> TaskRunResult:
    """Run a Task (a dict, a YAML file, or a name in ``tasks/``) as one TaskRun.

    Its files go to ``<runs_dir>/<taskrun>/``; ``cancel`` ends it ``TaskRunCancelled``.
    """
    from iib_steps.tekton.runner.durations import parse_duration

    run = _prepare(task, "Task", task_dirs, **_shared_options(locals()))
    limit = DEFAULT_TIMEOUT if timeout is None else parse_duration(timeout)
    declared = {str(w["name"]) for w in run.obj["spec"].get("workspaces") or ()}
    for ws in run.workspaces:
        if ws not in declared:
            raise RunError(
                f"workspace {ws} is not declared by the Task "
                f"(declared: {', '.join(sorted(declared)) or 'none'})"
            )
    req = TaskRunRequest(
        name=run.name,
        label=run.label,
        task_spec=run.obj["spec"],
        spec_ref=_ref_or_spec(task, run.obj, "task"),
        folder=run.folder,
        params=run.params,
        workspaces=run.workspaces,
        timeout=limit or None,
        retries=retries,
        labels=dict(labels or {}),
        annotations=dict(annotations or {}),
        task_name=run.label,
    )
    stopper = Stopper()
    watcher = None
    if cancel is not None:
        done = threading.Event()

        def watch() -> None:
            while not done.wait(0.1):
                if cancel.is_set():
                    stopper.stop(o.TASK_CANCELLED, f'TaskRun "{run.name}" was cancelled')
                    return

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()

    def write(obj_: dict[str, Any]) -> None:
        o.write_object(obj_, req.folder, "taskrun")
        if on_update:
            on_update(obj_)

    try:
        result = execute_taskrun(req, run.settings, stopper, write)
    finally:
        if watcher is not None:
            done.set()
    o.write_object(result.taskrun, req.folder, "taskrun", yaml_too=True)
    return result


def _pipelinerun_bindings(
    bindings: Sequence[Mapping[str, Any]], run_folder: Path, runs_dir: Path, secrets_dir: Path | None
) -> dict[str, WorkspaceBinding]:
    """A PipelineRun's ``spec.workspaces``: volume claims become folders (a template's per run, a
    named claim's under ``<runs_dir>/claims/``, kept between runs); the rest as :func:`parse_workspace`."""
    from iib_steps.tekton.runner.workspaces import FOLDER

    out: dict[str, WorkspaceBinding] = {}
    for entry in bindings:
        name = str(entry["name"])
        sub = str(entry.get("subPath", ""))
        if "volumeClaimTemplate" in entry:
            out[name] = WorkspaceBinding(FOLDER, run_folder / ".tekton" / "claims" / name, sub)
        elif "persistentVolumeClaim" in entry:
            claim = str((entry["persistentVolumeClaim"] or {}).get("claimName") or name)
            out[name] = WorkspaceBinding(FOLDER, runs_dir / "claims" / claim, sub)
        else:
            out[name] = parse_workspace(entry, secrets_dir)
    return out


def run_pipelinerun(
    pipelinerun: Mapping[str, Any] | str | Path,
    *,
    runtime: str | Runtime = "host",
    runs_dir: Path | None = None,
    on_log: LogSink | None = None,
    on_update: Callable[[dict[str, Any]], None] | None = None,
    cancel: threading.Event | None = None,
    task_resolver: TaskResolver | None = None,
    task_dirs: Sequence[Path] = (),
    pipeline_dirs: Sequence[Path] = (),
    bundle_fetcher: BundleFetcher | None = None,
    secrets_dir: Path | None = None,
    image_map: Mapping[str, str] | None = None,
) -> PipelineRunResult:
    """Run a ``tekton.dev/v1`` PipelineRun object (a dict or a YAML file) as a cluster would: its
    ``pipelineRef`` (a name, or ``resolver: bundles``) or ``pipelineSpec``, params, workspaces,
    timeouts, name (or ``generateName``), labels and annotations."""
    from iib_steps.tekton.runner.sources import load_yaml_documents

    if isinstance(pipelinerun, Mapping):
        obj = copy.deepcopy(dict(pipelinerun))
    else:
        docs = [d for d in load_yaml_documents(Path(pipelinerun)) if d.get("kind") == "PipelineRun"]
        if not docs:
            raise RunError(f"{pipelinerun} holds no PipelineRun")
        obj = docs[0]
    if obj.get("kind") != "PipelineRun":
        raise RunError(f"expected a PipelineRun but got a {obj.get('kind')}")
    metadata, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    ref = spec.get("pipelineRef") or {}
    pipeline: Definition
    if "pipelineSpec" in spec:
        base = str(metadata.get("name") or metadata.get("generateName") or "pipeline").rstrip("-")
        pipeline = {
            "apiVersion": o.API_VERSION,
            "kind": "Pipeline",
            "metadata": {"name": base},
            "spec": spec["pipelineSpec"],
        }
    elif ref.get("resolver") == "bundles":
        params = {str(p["name"]): p.get("value") for p in ref.get("params") or ()}
        if not params.get("bundle") or not params.get("name"):
            raise RunError("a bundles pipelineRef needs the params bundle and name", "CouldntGetPipeline")
        fetch = bundle_fetcher
        if fetch is None:
            from iib_steps.tekton.runner.bundle_source import read_bundle_object

            fetch = read_bundle_object
        pipeline = fetch(str(params["bundle"]), "pipeline", str(params["name"]))
    elif ref.get("name") and not ref.get("resolver"):
        pipeline = str(ref["name"])
    else:
        raise RunError(
            "the PipelineRun needs pipelineSpec, pipelineRef.name or a bundles pipelineRef",
            "CouldntGetPipeline",
        )
    root = Path(runs_dir or default_runs_dir())
    name = str(metadata.get("name") or "")
    if not name:
        prefix = metadata.get("generateName")
        pipeline_name = pipeline if isinstance(pipeline, str) else str(pipeline["metadata"]["name"])
        name = o.name_from_prefix(str(prefix)) if prefix else o.generate_name(pipeline_name)
    bindings = _pipelinerun_bindings(spec.get("workspaces") or (), root / name, root, secrets_dir)
    return run_pipeline(
        pipeline,
        params={str(p["name"]): p.get("value") for p in spec.get("params") or ()},
        workspaces=bindings,
        runtime=runtime,
        runs_dir=root,
        name=name,
        labels=metadata.get("labels"),
        annotations=metadata.get("annotations"),
        timeouts=spec.get("timeouts"),
        on_log=on_log,
        on_update=on_update,
        cancel=cancel,
        task_resolver=task_resolver,
        task_dirs=task_dirs,
        pipeline_dirs=pipeline_dirs,
        bundle_fetcher=bundle_fetcher,
        secrets_dir=secrets_dir,
        image_map=image_map,
        service_account=str((spec.get("taskRunTemplate") or {}).get("serviceAccountName") or "default"),
    )
