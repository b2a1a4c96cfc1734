"""Adjust a bundle's manifests as IIB's regenerate-bundle does, with ``operator-manifest`` (spec/iib.md §6).

The customizations run in the organization's order (IIB's default order without one). Reading images
(a digest, the labels) goes through an :class:`ImageInspector`, which the step backs with the images
code (a registry or OCI layouts).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import yaml as pyyaml
from ruamel.yaml import YAMLError

from iib_steps.config import Customization
from iib_steps.errors import StepError
from iib_steps.regenerate.annotations import apply_package_name_suffix, read_annotations
from iib_steps.regenerate.manifest_lib import ImageName, OperatorCSV, OperatorManifest
from iib_steps.resolve import LABEL_IS_BUNDLE, LABEL_PACKAGE, LABEL_PINNED


class ImageInspector(Protocol):
    """What customizations need to know about an image."""

    def resolve(self, pull_spec: str) -> str:
        """``name@sha256:...`` for ``pull_spec``; raises StepError when it cannot be read."""
        ...

    def labels(self, pull_spec: str) -> dict[str, str]:
        """The image config's labels."""
        ...


@dataclass(slots=True)
class Adjusted:
    """What the adjustment produced besides the rewritten files."""

    package_name: str
    labels: dict[str, str] = field(default_factory=dict)
    related_bundles: list[str] | None = None  # set when the related_bundles customization ran
    stopped_before_related_bundles: bool = False


def load_manifest(manifests_dir: Path) -> OperatorManifest:
    try:
        return OperatorManifest.from_directory(str(manifests_dir))
    except YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StepError(f"The Operator Manifest is not in a valid YAML format: {first}") from None
    except (ValueError, RuntimeError) as exc:
        raise StepError(f"The Operator Manifest is invalid: {str(exc).splitlines()[0]}") from None


def found_pullspecs(manifest: OperatorManifest) -> list[ImageName]:
    """Every pull spec operator-manifest finds in the CSV, in a stable order."""
    seen: dict[str, ImageName] = {}
    for csv in manifest.files:
        for spec in csv.get_pullspecs():
            seen.setdefault(spec.to_str(), spec)
    return [seen[k] for k in sorted(seen)]


def replace_pullspecs(manifest: OperatorManifest, replacements: Mapping[ImageName, ImageName]) -> None:
    """Replace pull specs everywhere in each CSV; set ``spec.relatedImages`` if it is empty; save."""
    if not replacements:
        return
    for csv in manifest.files:
        csv.replace_pullspecs_everywhere(dict(replacements))
        if not csv.has_related_images():
            _set_related_images(csv)
        csv.dump()


def _set_related_images(csv: OperatorCSV) -> None:
    try:
        csv.set_related_images()
    except RuntimeError as exc:
        raise StepError(str(exc).replace("\n", "; ")) from None


def is_bundle_image(labels: Mapping[str, str]) -> bool:
    """IIB reads the label as YAML: ``true``/``True``/``yes`` count, anything else does not."""
    raw = labels.get(LABEL_IS_BUNDLE) or "false"
    try:
        return pyyaml.safe_load(raw) is True
    except pyyaml.YAMLError:
        return False


def adjust_bundle(
    manifests_dir: Path,
    metadata_dir: Path,
    customizations: list[Customization],
    inspector: ImageInspector,
    *,
    organization: str | None = None,
    pinned_by_iib: bool = False,
    bundle_replacements: Mapping[str, str] | None = None,
    stop_before_related_bundles: bool = False,
) -> Adjusted:
    """Apply ``customizations`` in order to the bundle files in place."""
    manifest = load_manifest(manifests_dir)
    annotations = read_annotations(metadata_dir)
    result = Adjusted(package_name=str(annotations["annotations"][LABEL_PACKAGE]))

    for custom in customizations:
        kind = custom.type
        if kind == "resolve_image_pullspecs":
            _resolve_pullspecs(manifest, inspector, pinned_by_iib, result.labels)
        elif kind == "related_bundles":
            if stop_before_related_bundles:
                result.stopped_before_related_bundles = True
                return result
            result.related_bundles = [
                spec.to_str()
                for spec in found_pullspecs(manifest)
                if is_bundle_image(inspector.labels(spec.to_str()))
            ]
        elif kind == "package_name_suffix" and custom.suffix:
            result.package_name, labels = apply_package_name_suffix(metadata_dir, custom.suffix)
            result.labels.update(labels)
        elif kind == "registry_replacements" and custom.replacements:
            _replace_registries(manifest, custom.replacements)
        elif kind == "perform_bundle_replacements" and bundle_replacements:
            _bundle_replacements(manifest, bundle_replacements, inspector)
        elif kind == "image_name_from_labels" and custom.template:
            _image_name_from_labels(manifest, custom.template, inspector)
        elif kind == "csv_annotations" and organization and custom.annotations:
            _csv_annotations(manifest, result.package_name, custom.annotations)
        elif kind == "enclose_repo" and custom.namespace and custom.enclosure_glue:
            _enclose_repo(manifest, custom.namespace, custom.enclosure_glue)
    return result


def _resolve_pullspecs(
    manifest: OperatorManifest, inspector: ImageInspector, pinned_by_iib: bool, labels: dict[str, str]
) -> None:
    """Pin every tag-based pull spec to its digest (each one is resolved, so that a bad one fails)."""
    if pinned_by_iib:
        return
    replacements: dict[ImageName, ImageName] = {}
    for spec in found_pullspecs(manifest):
        resolved = ImageName.parse(inspector.resolve(spec.to_str()))
        if ":" not in (spec.tag or ""):
            replacements[spec] = resolved
            labels[LABEL_PINNED] = "true"
    replace_pullspecs(manifest, replacements)


def _replace_registries(manifest: OperatorManifest, registries: Mapping[str, str]) -> None:
    replacements: dict[ImageName, ImageName] = {}
    for spec in found_pullspecs(manifest):
        new_registry = registries.get(spec.registry or "")
        if new_registry:
            new = spec.copy()
            new.registry = new_registry
            replacements[spec] = new
    replace_pullspecs(manifest, replacements)


def _bundle_replacements(
    manifest: OperatorManifest, bundle_replacements: Mapping[str, str], inspector: ImageInspector
) -> None:
    """The request's ``bundle_replacements``; only keys that are bundle images count."""
    replacements = {
        ImageName.parse(old): ImageName.parse(new)
        for old, new in bundle_replacements.items()
        if is_bundle_image(inspector.labels(old))
    }
    replace_pullspecs(manifest, replacements)


def _image_name_from_labels(manifest: OperatorManifest, template: str, inspector: ImageInspector) -> None:
    replacements: dict[ImageName, ImageName] = {}
    for spec in found_pullspecs(manifest):
        labels = inspector.labels(spec.to_str())
        try:
            namespace_repo = template.format(**labels)
        except (KeyError, IndexError):
            raise StepError(
                f"Pull spec {spec.to_str()} is missing one or more label(s) required in the "
                f"image_name_from_labels {template}. Available labels: {', '.join(labels)}"
            ) from None
        new = spec.copy()
        if "/" in namespace_repo:
            new.namespace, new.repo = namespace_repo.split("/", 1)
        else:
            new.namespace, new.repo = None, namespace_repo
        replacements[spec] = new
    replace_pullspecs(manifest, replacements)


def _csv_annotations(manifest: OperatorManifest, package: str, annotations: Mapping[str, str]) -> None:
    for csv in manifest.files:
        meta = csv.data.setdefault("metadata", {})
        target = meta.setdefault("annotations", {})
        for key, template in annotations.items():
            target[key] = template.format(package_name=package)
        csv.dump()


def _enclose_repo(manifest: OperatorManifest, namespace: str, glue: str) -> None:
    replacements: dict[ImageName, ImageName] = {}
    for spec in found_pullspecs(manifest):
        new = spec.copy()
        parts = new.repo.split("/")
        if new.namespace and new.namespace != namespace:
            parts.insert(0, new.namespace)
        new.namespace, new.repo = namespace, glue.join(parts)
        replacements[spec] = new
    replace_pullspecs(manifest, replacements)
