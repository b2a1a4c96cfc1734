"""``iib-step demo run | serve``: the whole product on this machine (see iib_steps.demo)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer

demo_app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="The whole product on this machine: the status API, the local executor, the examples.",
)
DEFAULT_RUN_DIR = Path(tempfile.gettempdir()) / "iib-tekton-demo"
RunDir = Annotated[
    Path,
    typer.Option("--run-dir", envvar="RUN_DIR", help="Folder for the database, logs, images and runs."),
]


def _say(line: str) -> None:
    print(line, flush=True)


@demo_app.command("run")
def run(
    run_dir: RunDir = DEFAULT_RUN_DIR,
    examples: Annotated[
        Path, typer.Option("--examples", help="Folder of example bundles: <package>/<version>/.")
    ] = Path("examples"),
    port: Annotated[int, typer.Option("--port", help="Port for the API (0: any free port).")] = 0,
) -> None:
    """Build the example bundles, then add, add again and rm through the REST API; print each outcome."""
    from iib_steps.demo.flow import run_demo
    from iib_steps.demo.server import free_port
    from iib_steps.errors import StepError

    if not examples.is_dir():
        raise StepError(f"the examples folder {examples} does not exist; run from the repository root")
    raise typer.Exit(run_demo(run_dir.resolve(), examples.resolve(), port or free_port(), _say))


@demo_app.command("serve")
def serve(
    run_dir: RunDir = DEFAULT_RUN_DIR,
    port: Annotated[int, typer.Option("--port", help="Port to serve on.")] = 8080,
) -> None:
    """Serve the API and the status page on the demo's database until stopped (Ctrl-C)."""
    from iib_steps.demo.server import api_command, api_env

    run_dir = run_dir.resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "logs").mkdir(exist_ok=True)
    _say(f"serving http://127.0.0.1:{port}/ (status page), /api/v1/builds, /schema/swagger; Ctrl-C stops")
    command = api_command(port)
    os.execve(command[0], command, {**os.environ, **api_env(run_dir, port)})
