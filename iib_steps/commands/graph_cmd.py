"""``iib-step catalog graph CATALOG PACKAGE [-o mermaid|svg]``: a package's upgrade graph.

``mermaid`` prints what ``opm alpha render-graph --package-name PACKAGE`` prints; ``svg`` draws the
same channels and edges as a picture (our own layout, no external tool).
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class GraphFormat(StrEnum):
    mermaid = "mermaid"
    svg = "svg"


graph_cmd = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


@graph_cmd.command("graph")
def graph(
    catalog: Annotated[Path, typer.Argument(help="Catalog directory (File-Based Catalog).")],
    package: Annotated[str, typer.Argument(help="Package whose channels to draw.")],
    output: Annotated[
        GraphFormat, typer.Option("-o", "--output", help="mermaid (as opm render-graph) or svg.")
    ] = GraphFormat.mermaid,
    minimum_edge: Annotated[
        str,
        typer.Option("--minimum-edge", help="Bundle name: draw only edges at or above its version."),
    ] = "",
) -> None:
    """Print a package's upgrade graph: opm's mermaid text or an SVG picture."""
    from catalog.errors import CatalogError
    from catalog.graph import channel_graphs, mermaid
    from catalog.load import load_fs

    if not catalog.is_dir():
        raise CatalogError(f"the catalog directory {catalog} does not exist")
    cfg = load_fs(catalog)
    if package not in {p.name for p in cfg.packages} | {c.package for c in cfg.channels}:
        raise CatalogError(f"the catalog {catalog} has no package {package!r}")
    if output is GraphFormat.mermaid:
        sys.stdout.write(mermaid(cfg, package, minimum_edge))
        return
    from catalog.graph_svg import draw

    sys.stdout.write(draw(channel_graphs(cfg, package, minimum_edge), title=package))
