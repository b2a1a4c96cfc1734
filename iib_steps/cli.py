"""Entry point of ``iib-step``: every command module is imported here so that it registers."""

from __future__ import annotations

import importlib
import sys

from catalog.errors import CatalogError
from iib_steps.apps import app as _app
from iib_steps.errors import StepError

# Command modules register themselves on import: add yours to this tuple.
COMMAND_MODULES = (
    "iib_steps.commands.catalog_cmds",
    "iib_steps.commands.catalog_validate",
    "iib_steps.commands.catalog_ops",
    "iib_steps.commands.build_cmds",
    "iib_steps.commands.tekton_run_cmds",
)
for _module in COMMAND_MODULES:
    importlib.import_module(_module)


def app() -> None:
    """Run the CLI; known errors become one line on stderr and exit status 1."""
    try:
        rc = _app(standalone_mode=False)
    except (CatalogError, StepError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    except SystemExit:
        raise
    except Exception as exc:  # click's usage errors and the like
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(1)
        raise
    sys.exit(rc if isinstance(rc, int) else 0)


if __name__ == "__main__":
    app()
