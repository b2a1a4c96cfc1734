"""The local executor's ``Runner``: the embedded Tekton runner (``iib_steps.tekton.runner``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from status_api.executors.local import LocalRun


class EmbeddedRunner:
    """Runs a ``LocalRun`` with ``run_pipeline`` (steps as host processes, or in their image).

    The Pipeline's Tasks are found by name in ``tasks_dir`` (``tasks/<name>/<version>/<name>.yaml``).
    """

    def __init__(self, tasks_dir: Path) -> None:
        self.tasks_dir = tasks_dir

    def run(self, run: LocalRun) -> dict[str, Any]:
        from iib_steps.tekton.runner import run_pipeline

        workspaces: dict[str, Any] = {
            name: (f"secret={path}" if name in run.secret_workspaces else path)
            for name, path in run.workspaces.items()
        }
        result = run_pipeline(
            run.pipeline,
            params=run.params,
            workspaces=workspaces,
            runtime=run.runtime,
            runs_dir=run.runs_dir,
            name=run.name,
            labels=run.labels,
            annotations=run.annotations,
            on_log=run.on_log,
            on_update=run.on_update,
            cancel=run.cancel,
            task_dirs=[self.tasks_dir],
        )
        return result.pipelinerun
