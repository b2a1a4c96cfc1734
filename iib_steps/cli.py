"""Entry point of ``iib-step``: every sub-command is imported only when it runs.

To add a command or a sub-app, add one line to ``COMMANDS`` (or ``CATALOG_COMMANDS``)::

    "tekton": Lazy("iib_steps.tekton.cli:app", "Run and check Tekton YAML locally."),

naming a ``typer.Typer`` (or click command) as ``module:attribute``, or one command of a Typer
holding several as ``module:attribute:command``, with the one line ``iib-step --help`` shows.

Errors: a usage mistake is one line and exit status 2; bad input or a failed operation one line and
exit status 1 (never a traceback). A line that mentions one of IIB's request fields (``"from_index"``)
also names the command's option for it (``--from-index``).
"""

from __future__ import annotations

import re
import sys
from typing import Any

import typer

from iib_steps.lazy import Lazy, LazyGroup, resolved

_STEPS = "iib_steps.commands.build_cmds:app"
COMMANDS: dict[str, Lazy] = {
    "add": Lazy(f"{_STEPS}:add", "Add bundles to an index image."),
    "rm": Lazy(f"{_STEPS}:rm", "Remove operators from an index image."),
    "fbc-operations": Lazy(f"{_STEPS}:fbc-operations", "Replace packages of an index with FBC fragments."),
    "create-empty-index": Lazy(f"{_STEPS}:create-empty-index", "An index image with no operators."),
    "merge-index-image": Lazy(f"{_STEPS}:merge-index-image", "Merge the bundles of two index images."),
    "add-deprecations": Lazy(f"{_STEPS}:add-deprecations", "Add an olm.deprecations blob to an index."),
    "regenerate-bundle": Lazy(f"{_STEPS}:regenerate-bundle", "Rebuild a bundle image with pinned images."),
    "regenerate-bundle-batch": Lazy(f"{_STEPS}:regenerate-bundle-batch", "Regenerate several bundles."),
    "recursive-related-bundles": Lazy(
        f"{_STEPS}:recursive-related-bundles", "Find the bundles a bundle relates to."
    ),
    "image": Lazy("iib_steps.commands.image_cmds:image_app", "Build bundle images, extract catalogs."),
    "tekton": Lazy("iib_steps.commands.tekton_cmds:tekton_app", "Run Pipelines and Tasks here; bundles."),
    "report": Lazy("iib_steps.commands.report_cmd:app:report", "Record a PipelineRun's outcome."),
    "upload-artifact": Lazy(
        "iib_steps.commands.report_cmd:app:upload-artifact", "Upload related or nested bundles."
    ),
    "demo": Lazy("iib_steps.commands.demo_cmd:demo_app", "The whole product on this machine."),
}

_CMDS = "iib_steps.commands.catalog_cmds"
_OPS = "iib_steps.commands.catalog_ops"
_VALIDATE = "iib_steps.commands.catalog_validate"
CATALOG_COMMANDS: dict[str, Lazy] = {
    "render": Lazy(f"{_CMDS}:catalog_app:render", "Render bundle and catalog directories (opm render)."),
    "fmt": Lazy(f"{_CMDS}:catalog_app:fmt", "Rewrite a catalog directory in opm's layout and format."),
    "validate": Lazy(f"{_VALIDATE}:catalog_app:validate", "Validate a catalog (opm validate)."),
    "graph": Lazy("iib_steps.commands.graph_cmd:graph_cmd", "A package's upgrade graph: mermaid or SVG."),
    "add": Lazy(f"{_OPS}:catalog_app:add", "Add bundles with a graph update mode."),
    "rm": Lazy(f"{_OPS}:catalog_app:rm", "Remove operator packages."),
    "deprecate": Lazy(f"{_OPS}:catalog_app:deprecate", "Deprecate bundles (truncate the graph below them)."),
    "add-deprecations": Lazy(f"{_OPS}:catalog_app:add-deprecations", "Merge olm.deprecations blobs."),
    "apply-fragment": Lazy(f"{_OPS}:catalog_app:apply-fragment", "Replace packages by FBC fragments'."),
    "merge": Lazy(f"{_OPS}:catalog_app:merge", "Merge two catalogs (merge-index-image)."),
    "create-empty": Lazy(f"{_OPS}:catalog_app:create-empty", "An empty catalog (create-empty-index)."),
    "migrate": Lazy(f"{_OPS}:catalog_app:migrate", "A legacy SQLite index as FBC (opm migrate)."),
    "render-template": Lazy(f"{_OPS}:catalog_app:render-template", "Render a catalog template."),
}

catalog = LazyGroup(
    name="catalog",
    lazy=CATALOG_COMMANDS,
    no_args_is_help=True,
    help="File-Based Catalog commands shaped like opm's.",
)
main_group = LazyGroup(
    name="iib-step",
    lazy=COMMANDS,
    commands={"catalog": catalog},
    no_args_is_help=True,
    help="IIB's build operations as Tekton step commands.",
)

_FIELD = re.compile(r'"([a-z][a-z0-9_]*)"|\b([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\b')


def name_options(message: str, command: Any) -> str:
    """``message`` plus the options of ``command`` that set the IIB request fields it mentions."""
    flags: dict[str, str] = {}
    for param in getattr(command, "params", []):
        long = [o for o in getattr(param, "opts", []) if o.startswith("--")]
        if long and param.name:
            flags[param.name] = max(long, key=len)
    named = []
    for quoted, bare in _FIELD.findall(message):
        flag = flags.get(quoted or bare)
        if flag and flag not in named and flag not in message:
            named.append(flag)
    if not named:
        return message
    return f"{message} (option{'s' if len(named) > 1 else ''} {', '.join(named)})"


def _usage_line(exc: Any) -> str:
    ctx = getattr(exc, "ctx", None)
    hint = f"; see '{ctx.command_path} --help'" if ctx is not None else ""
    text = " ".join(exc.format_message().split()).rstrip(".")
    return f"error: {text}{hint}"


def spread_lists(args: list[str]) -> list[str]:
    """A step's list options take every value up to the next option (Tekton array params), see
    :mod:`iib_steps.arglists`; other commands' arguments are left alone."""
    if not args or args[0] not in COMMANDS or not COMMANDS[args[0]].target.startswith(_STEPS + ":"):
        return args
    from iib_steps.arglists import list_options, spread_list_options

    command = main_group.get_command(None, args[0])
    return [args[0], *spread_list_options(args[1:], list_options(command))]


def app(argv: list[str] | None = None) -> None:
    """Run the CLI: usage mistakes exit 2, bad input and failed operations exit 1, each with one line."""
    from catalog.errors import CatalogError
    from iib_steps.errors import StepError

    args = spread_lists(list(sys.argv[1:] if argv is None else argv))
    try:
        rc = main_group.main(args=args, prog_name="iib-step", standalone_mode=False)
    except (CatalogError, StepError) as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"error: {name_options(message, resolved[-1] if resolved else None)}", file=sys.stderr)
        sys.exit(1)
    except typer.Abort:
        print("error: aborted", file=sys.stderr)
        sys.exit(1)
    except typer.TyperException as exc:  # click's usage errors, vendored by typer
        if type(exc).__name__ == "NoArgsIsHelpError":
            print(exc.format_message(), file=sys.stderr)
        else:
            print(_usage_line(exc), file=sys.stderr)
        sys.exit(getattr(exc, "exit_code", 2))
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        sys.exit(130)
    finally:
        # A request that failed while catalog workers were still packing does not wait for them.
        checks = sys.modules.get("iib_steps.operations.stream_check")
        if checks is not None:
            checks.shutdown_all()
    sys.exit(rc if isinstance(rc, int) else 0)


if __name__ == "__main__":
    app()
