"""The local executor's ``Runner``: the embedded Tekton runner of ``iib_steps.tekton``."""

from __future__ import annotations

from typing import Any

from status_api.executors.local import LocalRun


class EmbeddedRunner:
    """Runs a ``LocalRun`` with ``iib_steps.tekton.run_pipeline`` (host processes or containers)."""

    def run(self, run: LocalRun) -> dict[str, Any]:
        try:
            from iib_steps.tekton import run_pipeline
        except ImportError as exc:
            raise RuntimeError(f"the embedded Tekton runner is not available: {exc}") from None
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
        )
        return result.pipelinerun
