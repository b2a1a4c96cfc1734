"""Replay testdata/graph-modes scenarios (opm's legacy add, rm, deprecatetruncate) with our operations."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from catalog.declcfg import DeclarativeConfig
from catalog.errors import CatalogError
from catalog.ops import BundleToAdd, add_bundles, clear_non_head_objects, deprecate_bundles, remove_packages
from tests.catalog.ops.fbcjson import bundle_from_dict, read_stream

CHANNELS = "operators.operatorframework.io.bundle.channels.v1"
DEFAULT_CHANNEL = "operators.operatorframework.io.bundle.channel.default.v1"


def bundle_to_add(testdata: Path, image: str) -> BundleToAdd:
    """The bundle behind ``quay.io/example/bundles/<package>:<version>``: opm's render of
    ``bundles/<package>-<version>/`` with that image, and the channels its annotations name."""
    package, version = image.rsplit("/", 1)[1].split(":")
    key = f"{package}-{version}"
    blob = read_stream(testdata / "render-golden" / f"{key}.json")[0]
    bundle = bundle_from_dict(blob)
    bundle.image = image
    annotations = yaml.safe_load((testdata / "bundles" / key / "metadata" / "annotations.yaml").read_text())
    ann = annotations["annotations"]
    return BundleToAdd.from_annotations(bundle, ann[CHANNELS], ann.get(DEFAULT_CHANNEL, ""))


@dataclass
class Outcome:
    config: DeclarativeConfig
    failed_step: int | None = None
    error: str = ""


def run_step(testdata: Path, cfg: DeclarativeConfig, step: dict) -> DeclarativeConfig:
    op = step["op"]
    if op == "add":
        items = [bundle_to_add(testdata, i) for i in step["bundles_or_packages"]]
        result = add_bundles(cfg, items, step["mode"])
        out = result.config
        if step["mode"] != "replaces":
            out = clear_non_head_objects(out)  # opm cleared non-head manifests in the whole index
        return out
    if op == "rm":
        return remove_packages(cfg, step["bundles_or_packages"]).config
    if op == "deprecatetruncate":
        return deprecate_bundles(
            cfg, step["bundles_or_packages"], allow_package_removal=step.get("allow_package_removal", False)
        ).config
    raise AssertionError(f"unknown step {op}")


def replay(testdata: Path, scenario: Path) -> Outcome:
    steps = json.loads((scenario / "scenario.json").read_text())["steps"]
    cfg = DeclarativeConfig()
    for i, step in enumerate(steps):
        try:
            cfg = run_step(testdata, cfg, step)
        except CatalogError as exc:
            return Outcome(cfg, i, str(exc))
    return Outcome(cfg)


def opm_error_text(step: dict) -> str:
    """The ``error="..."`` (or ``msg="..."``) part of opm's log line, unescaped."""
    line = step["error"]
    for key in ('error="', 'msg="'):
        if key in line:
            start = line.rindex(key) + len(key)
            text = line[start:]
            end = text.find('"', 0)
            while end > 0 and text[end - 1] == "\\":
                end = text.find('"', end + 1)
            return text[:end].replace('\\"', '"')
    return line
