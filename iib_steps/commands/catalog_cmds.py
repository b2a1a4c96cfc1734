"""``iib-step catalog render`` and ``iib-step catalog fmt``: opm's render, and its canonical layout.

``render REF...`` prints what ``opm render REF... -o json|yaml`` prints for bundle directories
(one ``olm.bundle`` each), catalog directories (their blobs, canonicalized) and SQLite index
databases (as ``opm migrate`` converts them). ``fmt DIR``
rewrites a catalog directory in opm's ``WriteFS`` layout (``<pkg>/catalog.<ext>``) and format.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from catalog.errors import CatalogError
from catalog.load import catalog_files, load_fs
from catalog.migrations import help_text
from catalog.render import render
from catalog.write import write_fs, write_json, write_yaml
from iib_steps.apps import catalog_app


class OutputFormat(StrEnum):
    json = "json"
    yaml = "yaml"


@catalog_app.command(
    "render", help="Render bundle and catalog directories as opm render does.\n" + help_text()
)
def render_cmd(
    refs: Annotated[
        list[str],
        typer.Argument(
            help="bundle directories (manifests/ + metadata/), catalog directories or SQLite index.db files"
        ),
    ],
    output: Annotated[OutputFormat, typer.Option("-o", "--output", help="output format")] = OutputFormat.json,
    migrate_level: Annotated[
        str, typer.Option("--migrate-level", help="none | bundle-object-to-csv-metadata | all")
    ] = "none",
    image_ref_template: Annotated[
        str | None,
        typer.Option(
            "--image-ref-template",
            "--alpha-image-ref-template",
            help="image reference recorded for bundle directories, "
            "e.g. 'quay.io/ns/{{.Package}}-bundle:v{{.Version}}'",
        ),
    ] = None,
) -> None:
    cfg = render(refs, image_ref_template=image_ref_template, migrate_level=migrate_level)
    out = sys.stdout.buffer
    if output is OutputFormat.json:
        write_json(cfg, out)
    else:
        write_yaml(cfg, out)
    out.flush()


@catalog_app.command(
    "fmt", help="Rewrite a catalog directory in opm's layout (<pkg>/catalog.<ext>) and format."
)
def fmt_cmd(
    directory: Annotated[Path, typer.Argument(help="catalog directory, rewritten in place")],
    output: Annotated[
        OutputFormat, typer.Option("-o", "--output", help="file format to write")
    ] = OutputFormat.json,
) -> None:
    cfg = load_fs(directory)  # errors here leave the directory untouched
    old_files = catalog_files(directory)
    staging = Path(tempfile.mkdtemp(prefix=".fmt-", dir=directory.parent))
    try:
        written = write_fs(cfg, staging, fmt=output.value)
        for path in old_files:
            path.unlink()
        _prune_empty_dirs(directory)
        for path in written:
            target = directory / path.relative_to(staging)
            target.parent.mkdir(parents=True, exist_ok=True)
            path.replace(target)
    except OSError as exc:
        raise CatalogError(f"fmt {directory}: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    typer.echo(f"wrote {len(written)} file(s) under {directory}", err=True)


def _prune_empty_dirs(root: Path) -> None:
    for path in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(path.iterdir()):
            path.rmdir()
