"""``iib-status-api``: serve the API with uvicorn (``--host``, ``--port``, ``--workers``), migrate, watch.

    iib-status-api --host 0.0.0.0 --port 8080 --workers 2   # migrate the database, then serve
    iib-status-api migrate                                   # only bring the schema up to date
    iib-status-api watch                                     # record PipelineRuns from the cluster

Settings come from the file named by IIB_SETTINGS_FILE and from the environment (see settings.py).
"""

from __future__ import annotations

import os
import sys

import typer

from status_api import logs
from status_api.executors.params import local_status_url
from status_api.settings import SettingsError, load_settings

cli = typer.Typer(add_completion=False, help=__doc__.splitlines()[0], no_args_is_help=False)


def _fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(1)


@cli.callback(invoke_without_command=True)
def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8080, help="port to listen on"),
    workers: int = typer.Option(1, help="server processes (one per core is a good start)"),
    migrate: bool = typer.Option(True, help="bring the database schema up to date first"),
    log_level: str = typer.Option("info", help="debug, info, warning or error"),
) -> None:
    """Serve the status API with uvicorn."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from status_api.db import upgrade

    try:
        settings = load_settings()
    except SettingsError as exc:
        _fail(str(exc))
    logs.configure(log_level)
    if settings.IIB_EXECUTOR == "local" and not settings.IIB_STATUS_API_URL:
        os.environ["IIB_STATUS_API_URL"] = local_status_url(host, port)  # the steps report here
    if migrate:
        try:
            upgrade(settings.SQLALCHEMY_DATABASE_URI)
        except Exception as exc:
            _fail(f"cannot migrate the database: {str(exc).splitlines()[0]}")
    uvicorn.run(
        "status_api.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_config=None,
        log_level=log_level,
        access_log=False,
    )


@cli.command()
def migrate() -> None:
    """Bring the database schema up to date (Alembic)."""
    from status_api.db import upgrade

    try:
        upgrade(load_settings().SQLALCHEMY_DATABASE_URI)
    except SettingsError as exc:
        _fail(str(exc))
    except Exception as exc:
        _fail(f"cannot migrate the database: {str(exc).splitlines()[0]}")


@cli.command()
def watch(
    namespace: str = typer.Option(None, help="namespace to watch (default: IIB_WATCH_NAMESPACE)"),
    selector: str = typer.Option(None, help="label selector (default: IIB_WATCH_LABEL_SELECTOR)"),
) -> None:
    """Record PipelineRuns from the cluster until stopped (kubeconfig or in-cluster credentials)."""
    from status_api.db import connect
    from status_api.messaging import Messenger
    from status_api.watcher import PipelineRunWatcher, kubernetes_source

    try:
        settings = load_settings()
    except SettingsError as exc:
        _fail(str(exc))
    logs.configure(os.environ.get("IIB_LOG_LEVEL", "info"))
    db = connect(settings.SQLALCHEMY_DATABASE_URI)
    source = kubernetes_source(
        namespace or settings.IIB_WATCH_NAMESPACE, selector or settings.IIB_WATCH_LABEL_SELECTOR
    )
    messenger = Messenger(settings, db)
    try:
        PipelineRunWatcher(db, source, on_recorded=messenger.on_recorded).run()
    finally:
        messenger.close()


def main() -> None:
    """The console script."""
    cli()


if __name__ == "__main__":
    main()
