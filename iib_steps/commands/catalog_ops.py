"""``iib-step catalog add|rm|deprecate|add-deprecations|merge|create-empty|apply-fragment|
render-template|migrate``: the catalog operations of :mod:`catalog.ops` on catalog directories.

Commands that change a catalog rewrite it in place (only the packages they changed; their old files
in ``<catalog>/<package>/`` are replaced by ``catalog.<fmt>``) unless ``--output DIR`` names a new
directory, which then receives the whole catalog. Each prints one line per changed or removed
package (``changed <pkg>``, ``removed <pkg>``) and its notes (``note: ...``); errors are one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from catalog.declcfg import Bundle, DeclarativeConfig
from catalog.errors import CatalogError
from catalog.goquote import go_quote
from catalog.load import catalog_files, load_file, load_fs
from catalog.ops import (
    GRAPH_MODES,
    BundleToAdd,
    OpResult,
    add_bundles,
    add_deprecations,
    apply_fragment,
    create_empty,
    deprecate_bundles,
    merge_catalogs,
    remove_packages,
)
from catalog.sqlite import find_index_db, read_index_db
from catalog.validate import validate_config
from catalog.write import write_fs, write_packages
from iib_steps.apps import catalog_app

OutputOpt = Annotated[
    Path | None, typer.Option("--output", help="write the whole new catalog here instead of in place")
]
FormatOpt = Annotated[str, typer.Option("-o", "--format", help="json or yaml")]


def _format(fmt: str) -> str:
    if fmt not in ("json", "yaml"):
        raise CatalogError(f'invalid output format "{fmt}": use json or yaml')
    return fmt


def _empty_dir(path: Path) -> None:
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise CatalogError(f"output dir {go_quote(str(path))} must be empty")


def _report(result: OpResult) -> None:
    for name in result.changed:
        typer.echo(f"changed {name}")
    for name in result.removed:
        typer.echo(f"removed {name}")
    for note in result.notes:
        typer.echo(f"note: {note}")


class _Catalog:
    """A catalog directory loaded file by file, remembering which files hold which packages."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.config = DeclarativeConfig()
        self.files: dict[Path, set[str]] = {}
        for path in catalog_files(root):
            part = load_file(path)
            self.files[path] = part.package_names() | (
                {""} if any(not o.package for o in part.others) else set()
            )
            self.config.extend(part)

    def files_of(self, packages: set[str]) -> list[Path]:
        """The files holding blobs of ``packages``; a CatalogError if one also holds other packages."""
        out = []
        for path, names in self.files.items():
            if not names & packages:
                continue
            others = sorted(names - packages)
            if others:
                raise CatalogError(
                    f"{path} also holds {', '.join(n or '(no package)' for n in others)}: "
                    "it cannot be rewritten in place; use --output"
                )
            out.append(path)
        return out


def _save(catalog: _Catalog, result: OpResult, output: Path | None, fmt: str) -> None:
    """Write the result: the whole catalog to ``output``, else only what changed, in place."""
    fmt = _format(fmt)
    if output is not None and output.resolve() != catalog.root.resolve():
        _empty_dir(output)
        write_fs(result.config, output, fmt)  # type: ignore[arg-type]
    else:
        touched = set(result.changed) | set(result.removed)
        stale = catalog.files_of(touched)  # checked before anything is written
        # New files first (each written atomically), then the old ones they replace go.
        written = set(write_packages(result.config, catalog.root, sorted(touched), fmt))  # type: ignore[arg-type]
        for path in stale:
            if path in written or not path.exists():
                continue
            path.unlink()
            parent = path.parent
            while parent != catalog.root and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent
    _report(result)


def _bundle_from_dir(spec: str) -> BundleToAdd:
    """``DIR[=IMAGE]``: render the bundle directory and read its channel annotations."""
    path_text, _, image = spec.partition("=")
    path = Path(path_text)
    if not path.is_dir():
        raise CatalogError(f"bundle directory {path_text!r} does not exist")
    from catalog.render import bundle_annotations, render_bundle_dir

    bundle: Bundle = render_bundle_dir(path, image=image or None)
    annotations = bundle_annotations(path)
    return BundleToAdd.from_annotations(bundle, annotations.channels, annotations.default_channel)


@catalog_app.command("add")
def add_cmd(
    catalog: Annotated[Path, typer.Argument(help="catalog directory")],
    bundle: Annotated[list[str], typer.Option("--bundle", help="bundle directory, DIR or DIR=IMAGE")],
    mode: Annotated[str, typer.Option(help=f"graph update mode: {', '.join(GRAPH_MODES)}")] = "replaces",
    overwrite_latest: Annotated[
        bool, typer.Option("--overwrite-latest", help="Replace a bundle at a channel head.")
    ] = False,
    skip_present: Annotated[
        bool, typer.Option("--skip-present", help="skip bundles already present")
    ] = False,
    max_ocp_version: Annotated[
        bool, typer.Option("--max-openshift-version", help="cap bundles with APIs removed in k8s 1.22")
    ] = False,
    output: OutputOpt = None,
    fmt: FormatOpt = "json",
) -> None:
    """Add bundles with a graph update mode (opm's legacy add)."""
    items = [_bundle_from_dir(b) for b in bundle]
    cat = _Catalog(catalog)
    result = add_bundles(
        cat.config,
        items,
        mode,
        overwrite_latest=overwrite_latest,
        skip_present=skip_present,
        max_openshift_version=max_ocp_version,
    )
    _save(cat, result, output, fmt)


@catalog_app.command("rm")
def rm_cmd(
    catalog: Annotated[Path, typer.Argument(help="catalog directory")],
    package: Annotated[list[str], typer.Option("--package", help="package to remove (repeatable)")],
    output: OutputOpt = None,
    fmt: FormatOpt = "json",
) -> None:
    """Remove operator packages."""
    cat = _Catalog(catalog)
    _save(cat, remove_packages(cat.config, package), output, fmt)


@catalog_app.command("deprecate")
def deprecate_cmd(
    catalog: Annotated[Path, typer.Argument(help="catalog directory")],
    bundle: Annotated[list[str], typer.Option("--bundle", help="bundle image to deprecate (repeatable)")],
    allow_package_removal: Annotated[
        bool, typer.Option("--allow-package-removal", help="Allow removing a whole package.")
    ] = False,
    output: OutputOpt = None,
    fmt: FormatOpt = "json",
) -> None:
    """Deprecate bundles: truncate the graph below them (opm deprecatetruncate)."""
    cat = _Catalog(catalog)
    result = deprecate_bundles(cat.config, bundle, allow_package_removal=allow_package_removal)
    _save(cat, result, output, fmt)


@catalog_app.command("add-deprecations")
def add_deprecations_cmd(
    catalog: Annotated[Path, typer.Argument(help="catalog directory")],
    schema: Annotated[list[Path], typer.Argument(help="files holding olm.deprecations blobs")],
    output: OutputOpt = None,
    fmt: FormatOpt = "json",
) -> None:
    """Merge olm.deprecations blobs into their packages."""
    deprecations = []
    for path in schema:
        deprecations.extend(load_file(path).deprecations)
    cat = _Catalog(catalog)
    _save(cat, add_deprecations(cat.config, deprecations), output, fmt)


@catalog_app.command("apply-fragment")
def apply_fragment_cmd(
    catalog: Annotated[Path, typer.Argument(help="catalog directory")],
    fragment: Annotated[list[Path], typer.Argument(help="FBC fragment directories, applied in order")],
    output: OutputOpt = None,
    fmt: FormatOpt = "json",
) -> None:
    """Replace the index's packages by each fragment's (IIB fbc-operations)."""
    cat = _Catalog(catalog)
    cfg = cat.config
    changed: set[str] = set()
    notes: list[str] = []
    for path in fragment:
        step = apply_fragment(cfg, load_fs(path))
        cfg = step.config
        changed.update(step.changed)
        notes.extend(step.notes)
    _save(cat, OpResult(config=cfg, changed=sorted(changed), notes=notes), output, fmt)


@catalog_app.command("merge")
def merge_cmd(
    source: Annotated[Path, typer.Argument(help="source catalog directory")],
    target: Annotated[Path, typer.Argument(help="target catalog directory")],
    output: Annotated[Path, typer.Argument(help="new, empty directory for the merged catalog")],
    mode: Annotated[str, typer.Option(help=f"graph update mode: {', '.join(GRAPH_MODES)}")] = "replaces",
    deprecate: Annotated[
        list[str] | None, typer.Option("--deprecate", help="bundle image to deprecate (repeatable)")
    ] = None,
    fmt: FormatOpt = "json",
) -> None:
    """Add the target's missing bundles to the source and deprecate the listed ones (merge-index-image)."""
    _empty_dir(output)
    result = merge_catalogs(load_fs(source), load_fs(target), mode, deprecation_list=deprecate or [])
    write_fs(result.config, output, _format(fmt))  # type: ignore[arg-type]
    _report(result)


@catalog_app.command("create-empty")
def create_empty_cmd(
    catalog: Annotated[Path, typer.Argument(help="catalog directory")],
    output: Annotated[Path, typer.Argument(help="new, empty directory for the empty catalog")],
) -> None:
    """An index with no operators (IIB create-empty-index)."""
    _empty_dir(output)
    result = create_empty(load_fs(catalog))
    output.mkdir(parents=True, exist_ok=True)
    _report(result)


@catalog_app.command("migrate")
def migrate_cmd(
    database: Annotated[
        Path, typer.Argument(help="index.db, or an image root holding IIB's hidden database or /database")
    ],
    output: Annotated[Path, typer.Argument(help="new, empty directory for the catalog")],
    fmt: FormatOpt = "json",
    migrate_level: Annotated[
        str, typer.Option("--migrate-level", help="none, bundle-object-to-csv-metadata or all")
    ] = "none",
    configs: Annotated[
        Path | None,
        typer.Option("--configs", help="the index's /configs: the database's packages replace its packages"),
    ] = None,
) -> None:
    """Read a legacy SQLite index into a File-Based Catalog (opm migrate), optionally over /configs."""
    from catalog.migrations import check_level, migrate

    fmt = _format(fmt)
    check_level(migrate_level)
    _empty_dir(output)
    cfg: DeclarativeConfig = read_index_db(find_index_db(database))
    validate_config(cfg)
    if configs is not None:
        cfg = apply_fragment(load_fs(configs), cfg).config
    migrate(cfg, migrate_level)
    write_fs(cfg, output, fmt)  # type: ignore[arg-type]


def _renderer(bundle_dirs: list[str], catalogs: list[Path]):
    """A bundle renderer from bundle directories (``DIR=IMAGE``) and catalogs already holding bundles."""
    from catalog.render import render_bundle_dir

    by_image: dict[str, Bundle] = {}
    for cat in catalogs:
        for b in load_fs(cat).bundles:
            if b.image:
                by_image.setdefault(b.image, b)
    for spec in bundle_dirs:
        path, sep, image = spec.partition("=")
        if not sep or not image:
            raise CatalogError(f"--bundle-dir wants DIR=IMAGE, got {spec!r}")
        by_image[image] = render_bundle_dir(path, image=image)

    def render(image: str) -> DeclarativeConfig:
        bundle = by_image.get(image)
        if bundle is None:
            raise CatalogError(f"bundle image {image} is not among the given bundle dirs or catalogs")
        return DeclarativeConfig(bundles=[bundle])

    return render


@catalog_app.command("render-template")
def render_template_cmd(
    template: Annotated[Path, typer.Argument(help="olm.template.basic or olm.semver file (YAML or JSON)")],
    bundle_dir: Annotated[
        list[str] | None, typer.Option("--bundle-dir", help="DIR=IMAGE: how to render that image")
    ] = None,
    bundles_from: Annotated[
        list[Path] | None, typer.Option("--bundles-from", help="catalog whose bundles render their images")
    ] = None,
    fmt: FormatOpt = "json",
) -> None:
    """Render a catalog template to stdout (opm alpha render-template)."""
    import sys

    import yaml

    from catalog.template import render_template
    from catalog.write import write_json, write_yaml

    fmt = _format(fmt)
    try:
        doc = yaml.safe_load(template.read_text())
    except OSError as exc:
        raise CatalogError(f"open {template}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise CatalogError(f"{template}: not YAML or JSON: {str(exc).splitlines()[0]}") from None
    if not isinstance(doc, dict):
        raise CatalogError(f"{template}: a template is one object with a schema")
    cfg = render_template(doc, _renderer(bundle_dir or [], bundles_from or []))
    (write_json if fmt == "json" else write_yaml)(cfg, sys.stdout)
