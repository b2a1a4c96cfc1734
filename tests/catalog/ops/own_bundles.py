"""Bundle directories of our own making, rendered with ``catalog.render`` like opm renders a bundle.

A bundle is described by a small dict (``package``, ``version``, ``channels``, optional
``default_channel``, ``replaces``, ``skips``, ``skip_range``, ``icon`` as YAML-block base64 lines);
the CSV and ``metadata/annotations.yaml`` are written the way real bundles write them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from catalog.ops import BundleToAdd
from catalog.render import bundle_annotations, render_bundle_dir


def _csv(spec: dict[str, Any]) -> str:
    name = f"{spec['package']}.v{spec['version']}"
    lines = [
        "apiVersion: operators.coreos.com/v1alpha1",
        "kind: ClusterServiceVersion",
        "metadata:",
        f"  name: {name}",
    ]
    if spec.get("skip_range"):
        lines += ["  annotations:", f"    olm.skipRange: '{spec['skip_range']}'"]
    lines += ["spec:", f"  version: {spec['version']}", f"  displayName: {spec['package']}"]
    if spec.get("replaces"):
        lines.append(f"  replaces: {spec['replaces']}")
    if spec.get("skips"):
        lines.append("  skips:")
        lines += [f"  - {s}" for s in spec["skips"]]
    if spec.get("icon"):
        lines += ["  icon:", "  - base64data: |"]  # a block scalar: a line break after every line
        lines += [f"      {chunk}" for chunk in spec["icon"]]
        lines.append("    mediatype: image/png")
    return "\n".join(lines) + "\n"


def write_bundle(root: Path, spec: dict[str, Any]) -> Path:
    """Write the bundle directory ``spec`` describes under ``root``; returns its path."""
    path = root / f"{spec['package']}-{spec['version']}"
    (path / "manifests").mkdir(parents=True, exist_ok=True)
    (path / "metadata").mkdir(parents=True, exist_ok=True)
    (path / "manifests" / f"{spec['package']}.clusterserviceversion.yaml").write_text(_csv(spec))
    annotations = {
        "operators.operatorframework.io.bundle.mediatype.v1": "registry+v1",
        "operators.operatorframework.io.bundle.manifests.v1": "manifests/",
        "operators.operatorframework.io.bundle.metadata.v1": "metadata/",
        "operators.operatorframework.io.bundle.package.v1": spec["package"],
        "operators.operatorframework.io.bundle.channels.v1": ",".join(spec["channels"]),
    }
    if spec.get("default_channel"):
        annotations["operators.operatorframework.io.bundle.channel.default.v1"] = spec["default_channel"]
    (path / "metadata" / "annotations.yaml").write_text(yaml.safe_dump({"annotations": annotations}))
    return path


def own_bundle(root: Path, spec: dict[str, Any], image: str) -> BundleToAdd:
    """The bundle ``spec`` describes, rendered with ``image``, with its channel annotations."""
    path = write_bundle(root, spec)
    ann = bundle_annotations(path)
    return BundleToAdd.from_annotations(
        render_bundle_dir(path, image=image), ann.channels, ann.default_channel
    )
