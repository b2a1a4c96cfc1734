"""``iib-step report``: record a PipelineRun's final outcome in the status API (the ``iib-report`` Task).

The build step already reports its own progress and final state. This command runs in the
Pipeline's ``finally`` and covers what the step could not report itself: a pod that never started,
an OOM kill, a timeout or a cancellation. It reads the request first and leaves a request that is
already ``complete`` or ``failed`` alone, so the step's own, more precise reason is kept; otherwise it
PATCHes ``complete`` (every task succeeded) or ``failed`` with a reason naming the task and Tekton's
reason (IIB's worker contract, spec/iib.md §2.6).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import requests
import typer

from iib_steps.apps import app
from iib_steps.config import load_settings
from iib_steps.errors import StepError
from iib_steps.report import FINAL_STATES, REQUEST_ID_ENV, URL_ENV, Reporter

RequestIdOpt = Annotated[
    str | None, typer.Option("--request-id", envvar=REQUEST_ID_ENV, help="IIB request id.")
]
StatusApiUrlOpt = Annotated[
    str | None, typer.Option("--status-api-url", envvar=URL_ENV, help="e.g. http://h/api/v1.")
]
ConfigOpt = Annotated[Path | None, typer.Option("--config", envvar="IIB_STEPS_CONFIG", help="Settings file.")]

# $(tasks.status) and $(tasks.<t>.status) values (spec/tekton.md §1.6).
SUCCESS = ("Succeeded", "Completed")
COMPLETED_REASON = "The request completed (recorded by the Pipeline's finally task)"

_REASONS = {
    "TaskRunTimeout": "timed out",
    "PipelineRunTimeout": "timed out",
    "TaskRunCancelled": "was cancelled",
    "Cancelled": "was cancelled",
    "StepOOM": "ran out of memory",
    "TaskRunImagePullFailed": "could not pull its image",
    "PodEvicted": "was evicted",
}


def failure_reason(task: str, status: str, reason: str) -> str:
    """One line for ``state_reason`` saying which task failed and why, in Tekton's words."""
    if status in ("", "None"):
        return f"The Tekton task {task!r} did not run"
    what = _REASONS.get(reason, "failed")
    suffix = f" ({reason})" if reason and reason not in ("Failed", "None") else ""
    return f"The Tekton task {task!r} {what}{suffix}; see its logs"


def outcome(pipeline_status: str, task_status: str, task: str, task_reason: str) -> tuple[str, str]:
    """``(state, state_reason)`` for the request from the statuses Tekton gives a finally task."""
    status = task_status or pipeline_status
    if status in SUCCESS and (not pipeline_status or pipeline_status in SUCCESS):
        return "complete", COMPLETED_REASON
    return "failed", failure_reason(task, status, task_reason)


def current_state(url: str, request_id: str, timeout: float) -> str | None:
    """The request's state in the status API (``None`` when it cannot be read)."""
    try:
        response = requests.get(f"{url.rstrip('/')}/builds/{request_id}", timeout=timeout)
    except requests.RequestException as exc:
        print(f"cannot read request {request_id}: {type(exc).__name__}", file=sys.stderr)
        return None
    if response.status_code == 404:
        raise StepError(f"the status API has no request {request_id}; check the request-id param")
    if response.status_code >= 400:
        print(f"cannot read request {request_id}: HTTP {response.status_code}", file=sys.stderr)
        return None
    try:
        return str(response.json().get("state") or "") or None
    except (ValueError, AttributeError):
        return None


@app.command("report")
def report(
    pipeline_status: Annotated[
        str, typer.Option("--pipeline-status", help="$(tasks.status): Succeeded, Completed, Failed, None.")
    ] = "",
    task_status: Annotated[
        str, typer.Option("--task-status", help="$(tasks.<build task>.status) of the build task.")
    ] = "",
    task_reason: Annotated[
        str, typer.Option("--task-reason", help="$(tasks.<build task>.reason), e.g. TaskRunTimeout.")
    ] = "",
    task_name: Annotated[str, typer.Option("--task-name", help="The build task's name.")] = "build",
    request_id: RequestIdOpt = None,
    status_api_url: StatusApiUrlOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Record the final outcome of a PipelineRun in the status API, unless its step already did."""
    if not pipeline_status and not task_status:
        raise StepError("give --pipeline-status or --task-status (the statuses Tekton passes a finally task)")
    if not status_api_url or not request_id:
        typer.echo("no status API URL or request id: nothing to report")
        return
    settings = load_settings(config)
    state = current_state(status_api_url, request_id, settings.api_timeout)
    if state in FINAL_STATES:
        typer.echo(f"request {request_id} is already {state}; leaving it as it is")
        return
    new_state, reason = outcome(pipeline_status, task_status, task_name, task_reason)
    reporter = Reporter.for_settings(status_api_url, request_id, settings)
    reporter.patch({"state": new_state, "state_reason": reason})
    typer.echo(f"request {request_id}: {new_state}: {reason}")


ARTIFACTS = ("related_bundles", "nested-bundles")


@app.command("upload-artifact")
def upload_artifact(
    kind: Annotated[str, typer.Option("--kind", help="related_bundles or nested-bundles.")],
    file: Annotated[Path, typer.Option("--file", help="The JSON list the build step wrote.")],
    request_id: RequestIdOpt = None,
    status_api_url: StatusApiUrlOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Upload a file a build step wrote (related or nested bundles) to the status API, as IIB's worker
    uploads it to S3; a file the step did not write (no related_bundles customization) is skipped."""
    if kind not in ARTIFACTS:
        raise StepError(f"--kind must be one of {', '.join(ARTIFACTS)}, not {kind!r}")
    if not file.is_file():
        typer.echo(f"{file} was not written by the build step: nothing to upload")
        return
    if not status_api_url or not request_id:
        typer.echo(f"no status API URL or request id: {file} stays in the TaskRun's workspace")
        return
    settings = load_settings(config)
    Reporter.for_settings(status_api_url, request_id, settings).upload(kind, file.read_bytes())
    typer.echo(f"request {request_id}: uploaded {kind} ({file.stat().st_size} bytes)")
