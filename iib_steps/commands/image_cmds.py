"""``iib-step image build-bundle | extract-catalog | labels``: image work without a daemon.

Every IMAGE or REF is ``host/repo:tag`` (a registry, credentials from ``REGISTRY_AUTH_FILE`` or
``~/.docker/config.json``) or ``oci:PATH[:TAG]`` (an OCI image layout on disk).
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

image_app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Build bundle images and read images, with no daemon (registry or oci:PATH[:TAG]).",
)


class ImageFormat(StrEnum):
    docker = "docker"
    oci = "oci"


@image_app.command("build-bundle")
def build_bundle(
    directory: Annotated[
        Path, typer.Argument(help="Bundle directory holding manifests/ and metadata/annotations.yaml.")
    ],
    refs: Annotated[
        list[str],
        typer.Argument(help="Where to push the image: host/repo:tag or oci:PATH[:TAG] (one or more)."),
    ],
    label: Annotated[
        list[str] | None,
        typer.Option("--label", help="Extra image label KEY=VALUE (repeatable)."),
    ] = None,
    image_format: Annotated[
        ImageFormat,
        typer.Option("--format", help="Manifest format: docker (v2 schema 2) or oci."),
    ] = ImageFormat.oci,
) -> None:
    """Build a bundle image from a bundle directory; print its pinned pull specs.

    The labels are the annotations of metadata/annotations.yaml, as opm builds bundle images.
    """
    from iib_steps.errors import StepError
    from iib_steps.images.build import build_bundle_image

    labels: dict[str, str] = {}
    for item in label or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise StepError(f"--label takes KEY=VALUE, not {item!r}")
        labels[key] = value
    if not directory.is_dir():
        raise StepError(f"the bundle directory {directory} does not exist")
    result = build_bundle_image(directory, refs, labels=labels, fmt=image_format.value)
    for spec in result.pull_specs:
        typer.echo(spec)


@image_app.command("extract-catalog")
def extract_catalog(
    image: Annotated[str, typer.Argument(help="Index image: host/repo:tag or oci:PATH[:TAG].")],
    dest: Annotated[Path, typer.Argument(help="Directory to write the catalog's package folders to.")],
) -> None:
    """Extract the File-Based Catalog of an index image."""
    from iib_steps.images.extract import extract_index_catalog

    out = extract_index_catalog(image, dest)
    packages = sorted(p.name for p in out.iterdir() if p.is_dir())
    typer.echo(f"{out}: {len(packages)} package(s): {' '.join(packages)}")


@image_app.command("labels")
def labels_cmd(
    image: Annotated[str, typer.Argument(help="Image: host/repo:tag or oci:PATH[:TAG].")],
    arch: Annotated[
        str | None, typer.Option("--arch", help="Architecture of a multi-arch image (default amd64).")
    ] = None,
) -> None:
    """Print an image's labels as JSON."""
    from iib_steps.images.inspect import get_labels

    typer.echo(json.dumps(get_labels(image, arch), indent=2, sort_keys=True))
