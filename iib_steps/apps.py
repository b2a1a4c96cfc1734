"""The typer applications every command module registers on (kept apart to avoid import cycles)."""

import typer

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="IIB's build operations as Tekton step commands.",
)
catalog_app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="File-Based Catalog commands shaped like opm's (render, validate, fmt, migrate, ...).",
)
app.add_typer(catalog_app, name="catalog")
tekton_app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Tekton: run this project's Pipelines and Tasks on this machine (and more).",
)
app.add_typer(tekton_app, name="tekton")
