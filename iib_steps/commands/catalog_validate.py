"""``iib-step catalog validate <dir> [-o json|yaml]``: what ``opm validate`` prints, and its exit status."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from catalog.errors import CatalogError
from catalog.goquote import go_quote
from catalog.goyaml import dump_document
from catalog.validate import ValidationResult, validate_dir
from iib_steps.apps import catalog_app
from iib_steps.operations.group_check import DEFAULT_MAX_WORKERS, available_cpus, validates_in_groups

_LOGRUS_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._/@^+")


def result_document(result: ValidationResult) -> dict:
    """opm's ``ValidationResult`` as JSON data: ``error`` only when the catalog failed."""
    doc: dict = {"passed": result.passed}
    if not result.passed:
        doc["error"] = {"message": result.message}
    return doc


def _go_json_string(s: str) -> str:
    """A JSON string as Go's encoding/json writes it (HTML-escaped, U+2028/9 escaped, UTF-8 kept)."""
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch < " " or ch in "<>&\u2028\u2029":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def render_json(result: ValidationResult) -> str:
    """``json.MarshalIndent(result, "", "  ")`` as opm prints it."""
    if result.passed:
        return '{\n  "passed": true\n}'
    return (
        f'{{\n  "passed": false,\n  "error": {{\n    "message": {_go_json_string(result.message)}\n  }}\n}}'
    )


def render_yaml(result: ValidationResult) -> str:
    """The result as ``sigs.k8s.io/yaml.Marshal`` writes it (go-yaml v2 style, keys sorted)."""
    return dump_document(result_document(result))


def logrus_fatal_line(message: str, now: datetime | None = None) -> str:
    """The line logrus' text formatter writes for ``logger.Fatal(err)`` when not on a terminal."""
    stamp = (now or datetime.now().astimezone()).isoformat(timespec="seconds")
    if stamp.endswith("+00:00"):
        stamp = stamp[:-6] + "Z"
    msg = message if all(c in _LOGRUS_PLAIN for c in message) else go_quote(message)  # "" stays bare
    return f'time="{stamp}" level=fatal msg={msg}'


def _validate(directory: Path, workers: int) -> ValidationResult:
    """On several CPUs, a catalog whose packages each stand alone is validated package by package in
    parallel (no rule of opm validate crosses packages); anything else, and any failure, is decided
    by loading the whole catalog, so messages are opm's."""
    if workers > 1 and directory.is_dir() and validates_in_groups(directory, workers):
        return ValidationResult(True)
    return validate_dir(directory)


@catalog_app.command("validate")
def validate_command(
    directory: Annotated[Path, typer.Argument(help="The catalog directory to validate.")],
    output: Annotated[
        str, typer.Option("--output", "-o", help="Output format for validation results (json|yaml).")
    ] = "",
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=0,
            help="Processes checking packages in parallel: 0 = the CPUs (at most 4), 1 = one process.",
        ),
    ] = 0,
) -> None:
    """Validate a File-Based Catalog as ``opm validate`` does; exit 1 when it is invalid."""
    if output not in ("", "json", "yaml"):
        raise CatalogError(f"invalid --output value {go_quote(output)}, expected (json|yaml)")
    result = _validate(directory, workers or min(available_cpus(), DEFAULT_MAX_WORKERS))
    if output == "json":
        print(render_json(result))
    elif output == "yaml":
        print(render_yaml(result))
    elif not result.passed:
        print(logrus_fatal_line(result.message), file=sys.stderr)
    if not result.passed:
        raise typer.Exit(1)
