"""The catalog work of the operations, on :mod:`catalog` (load, render, ops, validate, write).

Everything is imported up front: a step pays imports at start, not in the middle of a request."""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from catalog.declcfg import DeclarativeConfig, Deprecation
from catalog.errors import CatalogError
from catalog.load import (
    add_document,
    catalog_files,
    load_documents,
    load_fs,
    parse_documents,
    shared_values,
)
from catalog.ops.add import BundleToAdd
from catalog.ops.add import add_bundles as _add
from catalog.ops.deprecate import deprecate_bundles as _deprecate
from catalog.ops.graph import bundle_version
from catalog.ops.packages import OpResult, commit, package_config
from catalog.ops.remove import remove_packages as _remove
from catalog.render import bundle_annotations, render_bundle_dir
from catalog.validate import validate_config
from catalog.write import write_fs
from catalog.write import write_packages as _write_packages
from iib_steps.errors import StepError
from iib_steps.resolve import LABEL_CHANNELS, digest_of


def load(configs: Path) -> DeclarativeConfig:
    try:
        return load_fs(configs)
    except CatalogError as exc:
        raise StepError(f"the index image's catalog cannot be read: {exc}") from None


def load_checked(configs: Path) -> tuple[DeclarativeConfig, bool]:
    """Load as :func:`load` does, and tell whether every file lies in a package's directory and holds
    only that package's blobs (what lets a package's layer group be validated on its own)."""
    cfg = DeclarativeConfig()
    pure = True
    try:
        with shared_values():
            for path in catalog_files(configs):
                try:
                    data = path.read_bytes()
                except OSError as exc:
                    raise CatalogError(f"read {path}: {exc.strerror}") from None
                counts = _counts(cfg)
                for obj in parse_documents(data, str(path)):
                    add_document(cfg, obj)
                if pure:
                    rel = path.relative_to(configs).parts
                    pure = len(rel) > 1 and _only_package(cfg, counts, rel[0])
    except CatalogError as exc:
        raise StepError(f"the index image's catalog cannot be read: {exc}") from None
    return cfg, pure


def _counts(cfg: DeclarativeConfig) -> tuple[int, int, int, int, int]:
    return (len(cfg.packages), len(cfg.channels), len(cfg.bundles), len(cfg.deprecations), len(cfg.others))


def _only_package(cfg: DeclarativeConfig, counts: tuple[int, int, int, int, int], name: str) -> bool:
    """Whether every blob added since ``counts`` belongs to the package ``name``."""
    p, c, b, d, o = counts
    return (
        all(x.name == name for x in cfg.packages[p:])
        and all(x.package == name for x in cfg.channels[c:])
        and all(x.package == name for x in cfg.bundles[b:])
        and all(x.package == name for x in cfg.deprecations[d:])
        and all(x.package == name for x in cfg.others[o:])
    )


def validate(cfg: DeclarativeConfig) -> None:
    """The whole resulting catalog must be valid (IIB runs ``opm validate`` on it)."""
    try:
        validate_config(cfg)
    except CatalogError as exc:
        text = " ".join(str(exc).split())
        raise StepError(f"the resulting catalog is invalid: {text}") from None


def is_package_per_dir(cfg: DeclarativeConfig, configs: Path) -> bool:
    """Whether ``configs`` holds exactly one directory per package (our layout, and opm's WriteFS)."""
    entries = list(configs.iterdir()) if configs.is_dir() else []
    return all(e.is_dir() for e in entries) and {e.name for e in entries} == cfg.package_names()


def write_packages(cfg: DeclarativeConfig, configs: Path, packages: Iterable[str]) -> None:
    """Replace the directories of ``packages`` under ``configs`` with their new blobs (JSON)."""
    names = set(packages)
    for name in names:
        target = configs / name
        if target.is_dir():
            shutil.rmtree(target)
    _write_packages(cfg, configs, names)


def normalize(cfg: DeclarativeConfig, configs: Path) -> bool:
    """Rewrite ``configs`` as one directory per package unless it already is; True if rewritten."""
    if is_package_per_dir(cfg, configs):
        return False
    shutil.rmtree(configs)
    configs.mkdir(parents=True)
    write_fs(cfg, configs)
    return True


def bundle_images(cfg: DeclarativeConfig) -> list[str]:
    return [b.image for b in cfg.bundles if b.image]


def bundle_names_by_image(cfg: DeclarativeConfig) -> dict[str, str]:
    return {b.image: b.name for b in cfg.bundles if b.image}


def render_bundle(bundle_dir: Path, image: str) -> Any:
    """A bundle image's files rendered as ``opm render <image>`` does, with its channels from the
    annotations (what the legacy add reads)."""

    try:
        bundle = render_bundle_dir(bundle_dir, image=image)
        annotations = bundle_annotations(bundle_dir)
    except CatalogError as exc:
        raise StepError(f"the bundle image {image} cannot be rendered: {exc}") from None
    if not annotations.channels:
        raise StepError(f"the bundle image {image} has no {LABEL_CHANNELS} annotation")
    return BundleToAdd.from_annotations(bundle, annotations.channels, annotations.default_channel)


def packages_of(rendered: Sequence[Any]) -> set[str]:
    return {item.bundle.package for item in rendered}


def add_bundles(
    cfg: DeclarativeConfig, rendered: Sequence[Any], mode: str, *, overwrite_latest: bool
) -> OpResult:

    try:
        return _add(
            cfg,
            list(rendered),
            mode,
            overwrite_latest=overwrite_latest,
            max_openshift_version=True,
            validate=False,
        )
    except CatalogError as exc:
        raise StepError(f"Failed to add the bundles to the index image: {exc}") from None


def deprecate_bundles(cfg: DeclarativeConfig, images: Sequence[str]) -> OpResult:
    """IIB's ``deprecatetruncate`` of the bundles with these images (by digest)."""

    try:
        return _deprecate(cfg, list(images), allow_package_removal=True)
    except CatalogError as exc:
        raise StepError(f"Failed to deprecate the bundles: {exc}") from None


def remove_packages(cfg: DeclarativeConfig, names: Sequence[str]) -> OpResult:

    try:
        return _remove(cfg, list(names))
    except CatalogError as exc:
        raise StepError(f"Failed to remove the operators from the index image: {exc}") from None


def add_deprecations(cfg: DeclarativeConfig, package: str, schema: Any) -> OpResult:
    """Replace the package's ``olm.deprecations`` blob with ``schema`` (a parsed JSON object)."""
    if not isinstance(schema, dict):
        raise StepError('"deprecation_schema" must be a JSON object')
    try:
        blob = load_documents([schema])
    except CatalogError as exc:
        raise StepError(f"the deprecation schema is invalid: {exc}") from None
    if len(blob.deprecations) != 1 or blob.package_names() != {package}:
        raise StepError(f"the deprecation schema must be one olm.deprecations blob for the package {package}")
    deprecation: Deprecation = blob.deprecations[0]

    part = package_config(cfg, package)
    part.deprecations = [deprecation]
    try:
        return commit(cfg, {package: part})
    except CatalogError as exc:
        raise StepError(f"the deprecation schema is invalid for {package}: {exc}") from None


def latest_per_package(cfg: DeclarativeConfig, images: Sequence[str]) -> list[str]:
    """Of the bundles with these images, the highest version in each package (deprecatetruncate
    cascades down the channel, so the highest is enough)."""

    wanted = {digest_of(i) or i for i in images}
    best: dict[str, tuple[Any, str]] = {}
    for b in cfg.bundles:
        if (digest_of(b.image) or b.image) not in wanted:
            continue
        version = bundle_version(b)
        if b.package not in best or best[b.package][0] < version:
            best[b.package] = (version, b.image)
    return [image for _, image in best.values()]
