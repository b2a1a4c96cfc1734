"""Groups packed in the background are byte for byte what packing at build time gives, and a group
whose packages changed meanwhile is not offered."""

from __future__ import annotations

import shutil

from iib_steps.catalog_layers import group_layer_spec, group_of, partition
from iib_steps.images.layers import write_layer
from iib_steps.operations.prepack import Prepacker
from tests.iib_steps.images.conftest import make_catalog

PACKAGES = tuple(f"pkg-{i}" for i in range(12))


def test_background_layers_equal_layers_packed_at_build_time(tmp_path):
    configs = make_catalog(tmp_path / "configs", PACKAGES, big=200_000)
    prepacker = Prepacker(configs, 4, tmp_path / "pre")
    present = partition(PACKAGES, 4)
    for group, members in present.items():
        blob = prepacker.take(group, members)
        assert blob is not None
        assert blob.digest == write_layer(group_layer_spec(configs, members), tmp_path / "now").digest


def test_a_group_whose_packages_differ_is_not_offered(tmp_path):
    configs = make_catalog(tmp_path / "configs", PACKAGES)
    prepacker = Prepacker(configs, 4, tmp_path / "pre")
    gone = PACKAGES[0]
    shutil.rmtree(configs / gone)  # removed by the request
    group = group_of(gone, 4)
    members = partition([p.name for p in configs.iterdir()], 4).get(group, [])
    assert prepacker.take(group, members) is None
    prepacker.stop()
