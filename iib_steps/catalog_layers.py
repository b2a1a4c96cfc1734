"""Lay a catalog out in an index image as N stable layers, so that small changes upload small layers.

IIB puts the whole ``/configs`` tree in one layer, so adding one bundle recompresses and re-uploads
every package. Here each package directory goes to layer group ``sha256(name) mod N``, and each group
is one deterministic layer (:mod:`iib_steps.images.layers`: sorted entries, fixed owner, mode and
mtime, fixed gzip framing). An unchanged group gives a byte-identical blob whose digest the registry
already holds, and the image stays a plain ``/configs`` tree that ``opm serve`` reads (the layers
merge by overlay). :mod:`iib_steps.operations.imaging` records which layer holds which group in a
label, so that the next build reuses the unchanged groups without even packing them.

A second label, the validation record, names the catalog layers that passed validation together and
the validator's version. When an index carries a record that matches its layers, a request that
touches a few packages reads, edits, validates and uploads only the groups holding them: a package
lives in exactly one group (its directory, holding only its own blobs), so every rule of ``opm
validate`` that can involve a changed package sees all the blobs it needs within those groups.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from catalog.validate import VALIDATOR_VERSION
from iib_steps.images.layers import LayerSpec

CONFIGS_DIR = "/configs"


def group_of(name: str, groups: int) -> int:
    """The layer group of a package (or top-level file) name: stable across builds and machines."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") % groups


def partition(names: Iterable[str], groups: int) -> dict[int, list[str]]:
    """``{group: sorted names}`` for every group that has at least one name."""
    out: dict[int, list[str]] = {}
    for name in sorted(names):
        out.setdefault(group_of(name, groups), []).append(name)
    return out


def group_layer_spec(configs: Path, members: Iterable[str]) -> LayerSpec:
    """The layer holding ``/configs/<member>`` for each member (entries of the ``configs`` directory)."""
    return LayerSpec.directory(configs, CONFIGS_DIR, include=list(members))


# --------------------------------------------------------------------------------------------------
# Labels: which layer holds which group, and what was validated

LAYER_MAP_LABEL = "io.iib-tekton.catalog.layers"
VALIDATED_LABEL = "io.iib-tekton.catalog.validated"


def layer_map_label(groups: int, layers: Mapping[int, str]) -> str:
    """``{"groups": N, "layers": {group: diff_id}}`` as a label value."""
    by_group = {str(g): d for g, d in sorted(layers.items())}
    return json.dumps({"groups": groups, "layers": by_group}, separators=(",", ":"), sort_keys=True)


def parse_layer_map(labels: Mapping[str, str], groups: int) -> dict[int, str] | None:
    """The ``{group: diff_id}`` an index records, if it was laid out with ``groups`` groups."""
    raw = labels.get(LAYER_MAP_LABEL)
    if not raw:
        return None
    try:
        layout = json.loads(raw)
        if int(layout.get("groups", 0)) != groups:
            return None
        return {int(g): str(d) for g, d in layout.get("layers", {}).items()}
    except (ValueError, TypeError, AttributeError):
        return None


def validation_record(diff_ids: Sequence[str]) -> str:
    """The record that the catalog made of exactly these layers (bottom first) passed validation."""
    return json.dumps(
        {"validator": VALIDATOR_VERSION, "layers": list(diff_ids)}, separators=(",", ":"), sort_keys=True
    )


def catalog_diff_ids(layer_map: Mapping[int, str]) -> list[str]:
    """The catalog layers of a layer map in the order a build stacks them (by group)."""
    return [layer_map[g] for g in sorted(layer_map)]


def record_matches(
    labels: Mapping[str, str], layer_map: Mapping[int, str], image_diff_ids: Sequence[str]
) -> bool:
    """Whether an index's validation record vouches for the catalog it holds.

    It does when the image's topmost layers are exactly the catalog layers of its layer map (nothing
    stacked on them, nothing swapped) and the record names those layers and this validator.
    """
    expected = catalog_diff_ids(layer_map)
    if not expected or list(image_diff_ids[-len(expected) :]) != expected:
        return False
    try:
        record = json.loads(labels.get(VALIDATED_LABEL) or "null")
    except ValueError:
        return False
    return (
        isinstance(record, dict)
        and record.get("validator") == VALIDATOR_VERSION
        and record.get("layers") == expected
    )
