"""The memory path in one process tree: checked packages, packed groups equal to packing the files,
and a worker that dies makes the path fail (so the caller takes the next one) rather than hang."""

from __future__ import annotations

import os
import shutil

from iib_steps.catalog_layers import group_layer_spec, partition
from iib_steps.images.build import build_index_image
from iib_steps.images.layers import LayerSpec, write_layer
from iib_steps.operations import stream_check
from iib_steps.operations.stream_check import check_streamed
from tests.iib_steps.images.conftest import client_for, make_binary_image
from tests.iib_steps.steps.test_group_check import sample_copy

GROUPS = 4


def die(*_args: object) -> None:
    """A worker's task that kills the worker (as the out-of-memory killer would)."""
    os._exit(3)


def foreign(tmp_path, configs) -> str:
    binary = f"oci:{tmp_path / 'binary'}:v1"
    make_binary_image(binary, tmp_path / "bin", client_for(), arches=("amd64",))
    ref = f"oci:{tmp_path / 'index'}:v1"
    build_index_image(
        binary,
        [LayerSpec.directory(configs, "/configs")],
        [ref],
        client=client_for(),
        work_dir=tmp_path / "w",
    )
    return ref


def test_packages_are_checked_and_groups_packed_as_from_files(tmp_path):
    configs = sample_copy(tmp_path / "configs")
    index = foreign(tmp_path, configs)
    result = check_streamed(index, client_for(), GROUPS, tmp_path / "layers", workers=2)
    try:
        assert result.failed is None
        members = partition([p.name for p in configs.iterdir()], GROUPS)
        assert result.members == members
        layers = result.pending_layers()
        for group, names in members.items():
            assert (
                layers[group].wait().digest
                == write_layer(group_layer_spec(configs, names), tmp_path / "f").digest
            )
        out = tmp_path / "out"
        out.mkdir()
        result.write_packages(sorted(configs_names := [p.name for p in configs.iterdir()]), out)
        for name in configs_names:
            for path in (configs / name).rglob("*"):
                if path.is_file():
                    assert (out / path.relative_to(configs)).read_bytes() == path.read_bytes()
    finally:
        result.close()


def test_a_worker_that_dies_fails_the_path_without_hanging(tmp_path, monkeypatch):
    configs = sample_copy(tmp_path / "configs")
    shutil.rmtree(configs / "kube-green")
    index = foreign(tmp_path, configs)
    monkeypatch.setattr(stream_check, "_check_package", die)
    result = check_streamed(index, client_for(), GROUPS, tmp_path / "layers", workers=2)
    assert result.failed is not None and "could not run" in result.failed
    assert not result.rejected  # the caller tries the files path, not the whole load
    assert result.pool is None
    result.close()
