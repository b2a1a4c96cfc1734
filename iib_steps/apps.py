"""The typer applications command modules register on (``iib_steps.cli`` imports them lazily)."""

import typer

# The step commands (iib_steps.commands.build_cmds registers them); `iib-step <type>`.
app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="IIB's build operations as Tekton step commands.",
)
# `iib-step catalog <command>`: the catalog command modules register here.
catalog_app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="File-Based Catalog commands shaped like opm's (render, validate, fmt, migrate, ...).",
)
# `iib-step tekton <command>`: the Tekton command modules register here.
tekton_app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Tekton: run this project's Pipelines and Tasks on this machine, Tekton bundles.",
)
