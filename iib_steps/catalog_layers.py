"""Lay a catalog out in an index image as N stable layers, so that small changes upload small layers.

IIB puts the whole ``/configs`` tree in one layer, so adding one bundle recompresses and re-uploads
every package. Here each package directory goes to layer group ``sha256(name) mod N``, and each group
is one deterministic layer (:mod:`iib_steps.images.layers`: sorted entries, fixed owner, mode and
mtime, fixed gzip framing). An unchanged group gives a byte-identical blob whose digest the registry
already holds, and the image stays a plain ``/configs`` tree that ``opm serve`` reads (the layers
merge by overlay). :mod:`iib_steps.operations.imaging` records which layer holds which group in a
label, so that the next build reuses the unchanged groups without even packing them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

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
