"""``iib-step tekton run pipeline|task``: run a Pipeline or Task with the embedded runner, shaped
like ``tkn pipeline start --showlog``: logs prefixed ``[task : step]``, then the outcome and results.

The runner is imported when a command runs, so ``iib-step --help`` stays fast.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from iib_steps.apps import tekton_app

if TYPE_CHECKING:
    from iib_steps.tekton.runner import PipelineRunResult, TaskRunResult
    from iib_steps.tekton.runner.variables import Value
    from iib_steps.tekton.runner.workspaces import WorkspaceBinding

run_app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Run a Pipeline or a Task here, steps as host processes or in containers (runc).",
)
tekton_app.add_typer(run_app, name="run")

ParamOpt = Annotated[
    list[str] | None,
    typer.Option("--param", "-p", help="NAME=VALUE; arrays a=x,y (or repeated), objects o.key=v or o={...}"),
]
WorkspaceOpt = Annotated[
    list[str] | None, typer.Option("--workspace", "-w", help="NAME=DIR, NAME=emptyDir or NAME=secret=DIR")
]
RuntimeOpt = Annotated[str, typer.Option("--runtime", help="host (steps as processes) or container (runc)")]
RunsDirOpt = Annotated[
    Path | None, typer.Option("--runs-dir", help="where each run's logs and objects go (default: a temp dir)")
]
OutputOpt = Annotated[
    str | None, typer.Option("--output", "-o", help="print the final run object as json or yaml")
]
TimeoutOpt = Annotated[str | None, typer.Option("--timeout", help="Go duration, e.g. 30m (0: none)")]
NameOpt = Annotated[str | None, typer.Option("--name", help="the run's name (default: <name>-run-xxxxx)")]
SecretsOpt = Annotated[
    Path | None, typer.Option("--secrets", help="folder of secrets for secretKeyRef: <secret>/<key> files")
]
ImageMapOpt = Annotated[
    list[str] | None, typer.Option("--image-map", help="IMAGE=oci:PATH[:TAG]: run IMAGE from a local layout")
]
TasksDirOpt = Annotated[
    list[Path] | None, typer.Option("--tasks-dir", help="folder of Tasks as <name>/<version>/<name>.yaml")
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="do not stream the steps' logs")]


def _usage(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(2)


def _image_map(items: list[str] | None) -> dict[str, str] | None:
    """``--image-map`` options; None without any (then IIB_RUNNER_IMAGE_MAP applies)."""
    out: dict[str, str] = {}
    for item in items or ():
        image, sep, local = item.partition("=")
        if not sep or not image or not local:
            _usage(f"--image-map {item!r} is not IMAGE=oci:PATH")
        out[image] = local
    return out or None


def _printer(stream, with_task: bool):
    lock = threading.Lock()

    def show(task: str, step: str, line: str) -> None:
        prefix = f"[{task} : {step}]" if with_task else f"[{step}]"
        with lock:
            print(f"{prefix} {line}", file=stream, flush=True)

    return show


def _cancel_on_signals() -> threading.Event:
    cancel = threading.Event()

    def handler(signum: int, frame: Any) -> None:
        cancel.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handler)
    return cancel


def _dump(obj: dict[str, Any], output: str) -> str:
    if output == "json":
        return json.dumps(obj, indent=2, ensure_ascii=False)
    import yaml

    return yaml.safe_dump(obj, sort_keys=False, allow_unicode=True).rstrip("\n")


def _show_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class _RunOptions:
    """The options every ``tekton run`` command takes; ``--output`` and ``--runtime`` are checked
    when it is made (a usage error, exit 2)."""

    runtime: str
    runs_dir: Path | None
    output: str | None
    secrets: Path | None
    image_map: list[str] | None
    tasks_dir: list[Path] | None
    quiet: bool

    def __post_init__(self) -> None:
        if self.output not in (None, "json", "yaml"):
            _usage(f"--output {self.output!r} is not json or yaml")
        if self.runtime not in ("host", "container"):
            _usage(f"--runtime {self.runtime!r} is not host or container")

    def runner_kwargs(self, with_task: bool) -> dict[str, Any]:
        """The runner's keyword arguments for these options; installs the SIGINT/SIGTERM handlers
        that cancel the run. ``with_task``: prefix log lines ``[task : step]``, else ``[step]``."""
        return {
            "runtime": self.runtime,
            "runs_dir": self.runs_dir,
            "on_log": None if self.quiet else _printer(sys.stderr if self.output else sys.stdout, with_task),
            "cancel": _cancel_on_signals(),
            "task_dirs": self.tasks_dir or (),
            "secrets_dir": self.secrets,
            "image_map": _image_map(self.image_map),
        }


def _inputs(
    definition: str,
    kind: str,
    param: list[str] | None,
    workspace: list[str] | None,
    search: list[Path] | None = None,
) -> tuple[dict[str, Value], dict[str, WorkspaceBinding]]:
    """``--param`` and ``--workspace`` parsed against the Pipeline or Task ``definition`` (found in
    ``search`` first); a definition that cannot be read or a bad option is a usage error."""
    from iib_steps.tekton.runner import RunError
    from iib_steps.tekton.runner.params import parse_cli_params
    from iib_steps.tekton.runner.sources import load_definition
    from iib_steps.tekton.runner.workspaces import parse_cli_workspaces

    try:
        obj, _ = load_definition(definition, kind, search or ())
        params = parse_cli_params(param or [], obj["spec"].get("params") or [])
        return params, parse_cli_workspaces(workspace or [])
    except RunError as exc:
        _usage(str(exc))


def _execute(
    run: Callable[..., PipelineRunResult | TaskRunResult],
    target: str | Path,
    options: _RunOptions,
    *,
    with_task: bool,
    **specific: Any,
) -> NoReturn:
    """Run ``target`` with ``run`` (``run_pipeline``, ``run_task`` or ``run_pipelinerun``) given the
    shared options and the command's ``specific`` arguments, then print the outcome and exit."""
    from iib_steps.tekton.runner import RunError, TaskRunResult

    try:
        result = run(target, **specific, **options.runner_kwargs(with_task))
    except RunError as exc:
        _usage(str(exc))
    if isinstance(result, TaskRunResult):
        _finish("TaskRun", result, result.taskrun, options.output)
    else:
        _finish("PipelineRun", result, result.pipelinerun, options.output)


def _finish(
    kind: str, result: PipelineRunResult | TaskRunResult, obj: dict[str, Any], output: str | None
) -> NoReturn:
    out = sys.stdout
    if output:
        print(_dump(obj, output), file=out)
        out = sys.stderr
    verdict = "succeeded" if result.succeeded else "failed"
    print(f"{kind} {result.name} {verdict}: {result.reason}: {result.message}", file=out)
    for key, value in result.results.items():
        print(f"  result {key}: {_show_value(value)}", file=out)
    print(f"  logs and objects: {result.folder}", file=out)
    raise typer.Exit(0 if result.succeeded else 1)


@run_app.command("pipeline")
def run_pipeline_cmd(
    pipeline: Annotated[str, typer.Argument(help="a Pipeline's name (in pipelines/) or a YAML file")],
    param: ParamOpt = None,
    workspace: WorkspaceOpt = None,
    runtime: RuntimeOpt = "host",
    runs_dir: RunsDirOpt = None,
    output: OutputOpt = None,
    timeout: TimeoutOpt = None,
    name: NameOpt = None,
    secrets: SecretsOpt = None,
    image_map: ImageMapOpt = None,
    tasks_dir: TasksDirOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Run a Pipeline and stream its steps' logs; exit 1 when the run fails."""
    from iib_steps.tekton.runner import run_pipeline

    options = _RunOptions(runtime, runs_dir, output, secrets, image_map, tasks_dir, quiet)
    params, workspaces = _inputs(pipeline, "Pipeline", param, workspace)
    _execute(
        run_pipeline,
        pipeline,
        options,
        with_task=True,
        params=params,
        workspaces=workspaces,
        name=name,
        timeouts={"pipeline": timeout} if timeout else None,
    )


@run_app.command("task")
def run_task_cmd(
    task: Annotated[str, typer.Argument(help="a Task's name (in tasks/) or a YAML file")],
    param: ParamOpt = None,
    workspace: WorkspaceOpt = None,
    runtime: RuntimeOpt = "host",
    runs_dir: RunsDirOpt = None,
    output: OutputOpt = None,
    timeout: TimeoutOpt = None,
    name: NameOpt = None,
    secrets: SecretsOpt = None,
    image_map: ImageMapOpt = None,
    tasks_dir: TasksDirOpt = None,
    retries: Annotated[int, typer.Option("--retries", help="retry a failed TaskRun this many times")] = 0,
    quiet: QuietOpt = False,
) -> None:
    """Run a Task as one TaskRun and stream its steps' logs; exit 1 when it fails."""
    from iib_steps.tekton.runner import run_task

    options = _RunOptions(runtime, runs_dir, output, secrets, image_map, tasks_dir, quiet)
    params, workspaces = _inputs(task, "Task", param, workspace, tasks_dir)
    _execute(
        run_task,
        task,
        options,
        with_task=False,
        params=params,
        workspaces=workspaces,
        name=name,
        timeout=timeout,
        retries=retries,
    )


@run_app.command("pipelinerun")
def run_pipelinerun_cmd(
    file: Annotated[Path, typer.Argument(help="a YAML file holding a tekton.dev/v1 PipelineRun")],
    runtime: RuntimeOpt = "host",
    runs_dir: RunsDirOpt = None,
    output: OutputOpt = None,
    secrets: SecretsOpt = None,
    image_map: ImageMapOpt = None,
    tasks_dir: TasksDirOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Run a PipelineRun object as a cluster would run it; exit 1 when it fails."""
    from iib_steps.tekton.runner import run_pipelinerun

    options = _RunOptions(runtime, runs_dir, output, secrets, image_map, tasks_dir, quiet)
    _execute(run_pipelinerun, file, options, with_task=True)
