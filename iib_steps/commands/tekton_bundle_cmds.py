"""``iib-step tekton bundle push REF -f FILE...`` and ``iib-step tekton bundle list REF [KIND [NAME]]``,
shaped like ``tkn bundle push`` and ``tkn bundle list`` (same output; spec/tekton.md §3)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml

from iib_steps.apps import tekton_app
from iib_steps.errors import StepError
from iib_steps.tekton import bundle as tb

OUTPUTS = ("name", "json", "yaml")

bundle_app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Tekton bundles in tkn's format: push and list.",
)
tekton_app.add_typer(bundle_app, name="bundle")


def _pairs(values: list[str] | None, what: str) -> dict[str, str]:
    out = {}
    for value in values or []:
        key, sep, val = value.partition("=")
        if not sep or not key:
            raise StepError(f"{what} takes KEY=VALUE, not {value!r}")
        out[key] = val
    return out


@bundle_app.command("push")
def push(
    ref: Annotated[str, typer.Argument(help="Where to push: host/repo:tag, or oci:PATH[:TAG].")],
    filenames: Annotated[
        list[Path], typer.Option("--filenames", "-f", help="A YAML or JSON file of Tekton objects (repeat).")
    ],
    annotate: Annotated[
        list[str] | None, typer.Option("--annotate", help="KEY=VALUE manifest annotation.")
    ] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="KEY=VALUE config label.")] = None,
    ctime: Annotated[str | None, typer.Option("--ctime", help="Config creation time (RFC 3339).")] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="v2s2 (tkn's) or oci; default: oci for oci:, else v2s2.")
    ] = None,
    task_bundle: Annotated[
        str | None,
        typer.Option(
            "--task-bundle", help="Rewrite Pipelines' taskRefs to the bundles resolver on this bundle."
        ),
    ] = None,
) -> None:
    """Publish Tasks and Pipelines as a Tekton bundle (one layer per object, at most 20)."""
    objects = tb.collect(tb.files(filenames), task_bundle=task_bundle)
    built = tb.build(
        objects,
        annotations=_pairs(annotate, "--annotate"),
        labels=_pairs(label, "--label"),
        ctime=ctime,
        fmt=fmt or tb.default_format(ref),
    )
    typer.echo("Creating Tekton Bundle:")
    for obj in objects:
        typer.echo(f"\t- Added {obj.body['kind']}: {obj.name} to image")
    pushed = tb.push(built, ref)
    typer.echo(f"\nPushed Tekton Bundle to {pushed}")


@bundle_app.command("list")
def list_(
    ref: Annotated[
        str, typer.Argument(help="The bundle: host/repo:tag, host/repo@digest or oci:PATH[:TAG].")
    ],
    kind: Annotated[str | None, typer.Argument(help="task or pipeline (Task, tasks, ... also work).")] = None,
    name: Annotated[str | None, typer.Argument(help="The object's name.")] = None,
    output: Annotated[str, typer.Option("--output", "-o", help="name, json or yaml.")] = "name",
) -> None:
    """List a Tekton bundle's objects as tkn does: ``task.tekton.dev/NAME`` lines, or the objects."""
    if output not in OUTPUTS:
        raise StepError(f"--output must be one of {', '.join(OUTPUTS)}, not {output!r}")
    chosen = tb.select(tb.read(ref), kind, name)
    if output == "name":
        for obj in chosen:
            typer.echo(f"{obj.kind}.tekton.dev/{obj.name}")
    elif output == "json":
        for obj in chosen:
            typer.echo(obj.data.decode())
    else:
        typer.echo("---\n".join(yaml.safe_dump(obj.body, sort_keys=False) for obj in chosen), nl=False)
