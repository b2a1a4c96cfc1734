"""A catalog not built here, checked and packed group by group in worker processes, gives exactly what
loading it whole in one process gives: the same catalog, the same layers, the same record; and a
catalog whose groups cannot stand alone (a blob of another package, an invalid package, files at the
top) falls back to the whole load, with its result or its error unchanged."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

from catalog.load import load_fs
from catalog.validate import validate_config
from iib_steps.catalog_layers import VALIDATED_LABEL, group_layer_spec, partition
from iib_steps.images.build import build_index_image
from iib_steps.images.inspect import ImageReader, get_layers
from iib_steps.images.layers import LayerSpec, write_layer
from iib_steps.operations.group_check import available_cpus, check_groups
from tests.conftest import TESTDATA, need_shared
from tests.iib_steps.steps.conftest import World

SAMPLE = TESTDATA / "catalogs" / "community-v4.16-sample"
GROUPS = 4  # the worlds' catalog_layer_groups
CHECKED = "every layer group loads and validates on its own"
WHOLE = "loading the whole catalog in one process"


def sample_copy(dest: Path) -> Path:
    need_shared(TESTDATA)
    shutil.copytree(SAMPLE, dest)
    return dest


def test_every_group_is_packed_as_at_build_time(tmp_path):
    configs = sample_copy(tmp_path / "configs")
    members = partition([p.name for p in configs.iterdir()], GROUPS)
    result = check_groups(configs, members, tmp_path / "layers", workers=2)
    assert result.failed is None
    assert sorted(result.groups) == sorted(members)
    for group, names in members.items():
        expected = write_layer(group_layer_spec(configs, names), tmp_path / "now")
        assert result.groups[group].layer.digest == expected.digest
    images = {i for checked in result.groups.values() for i in checked.bundle_images}
    assert images == {b.image for b in load_fs(configs).bundles if b.image}


def test_a_blob_of_another_package_fails_the_check(tmp_path):
    configs = sample_copy(tmp_path / "configs")
    stray = {"schema": "olm.package", "name": "stray-operator", "defaultChannel": "alpha"}
    (configs / "kube-green" / "stray.json").write_text(json.dumps(stray))
    members = partition([p.name for p in configs.iterdir()], GROUPS)
    result = check_groups(configs, members, tmp_path / "layers", workers=2)
    assert result.failed is not None and "another package" in result.failed


def test_an_invalid_package_fails_the_check(tmp_path):
    configs = sample_copy(tmp_path / "configs")
    path = configs / "kube-green" / "catalog.yaml"
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d and d.get("schema") != "olm.package"]
    path.write_text(yaml.safe_dump_all(docs))  # channels and bundles of a package that is not there
    members = partition([p.name for p in configs.iterdir()], GROUPS)
    result = check_groups(configs, members, tmp_path / "layers", workers=2)
    assert result.failed is not None and "kube-green" in result.failed


def test_available_cpus_is_at_least_one():
    assert available_cpus() >= 1


# --------------------------------------------------------------------------------------------------
# End to end, on an index in IIB's single-layer layout


@pytest.fixture
def settings_with(tmp_path):
    def make(world: World, workers: int) -> dict[str, str]:
        data = yaml.safe_load(world.settings.read_text())
        path = tmp_path / f"settings-{workers}.yaml"
        path.write_text(yaml.safe_dump({**data, "catalog_workers": workers}))
        return {"IIB_STEPS_CONFIG": str(path)}

    return make


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


REQUESTS = {
    "add": lambda w: ["add", "--bundles", w.bundles["kube-green-0.3.0"],
                      "--bundles", w.bundles["kube-green-0.3.1"]],
    "rm": lambda w: ["rm", "--operators", "kairos-operator"],
}  # fmt: skip


def outputs_of(world: World, settings_with, args: list[str], index: str) -> dict[int, tuple[str, str]]:
    """The output image and stderr of the request with one worker (whole load) and with two."""
    out = {}
    for workers in (1, 2):
        rid = world.next_id()
        proc = world.run(*args, "--request-id", rid, "--from-index", index, env=settings_with(world, workers))
        out[workers] = (world.output(rid), proc.stderr)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("request_type", sorted(REQUESTS))
def test_checked_groups_give_what_the_whole_load_gives(
    reg_world: World, settings_with, tmp_path, request_type
):
    configs = sample_copy(tmp_path / "configs")
    shutil.rmtree(configs / "kube-green")  # added back by the add request
    index = foreign_index(reg_world, configs, f"iib-{reg_world.next_id()}")
    out = outputs_of(reg_world, settings_with, REQUESTS[request_type](reg_world), index)
    assert CHECKED not in out[1][1] and CHECKED in out[2][1], out[2][1]
    trees = {}
    for workers, (image, _) in out.items():
        extract = tmp_path / f"out-{workers}"
        reg_world.catalog_of(image, extract)  # validates as a whole
        trees[workers] = tree(extract)
    assert trees[1] == trees[2]
    layers = {
        w: [x.descriptor.digest for x in get_layers(i, client=reg_world.client)] for w, (i, _) in out.items()
    }
    assert layers[1] == layers[2]
    labels = {w: ImageReader(i, reg_world.client).default_arch_image().labels for w, (i, _) in out.items()}
    assert labels[1][VALIDATED_LABEL] == labels[2][VALIDATED_LABEL]


def foreign_index(world: World, configs: Path, tag: str) -> str:
    ref = world.ref(f"index:{tag}")
    build_index_image(
        world.binary,
        [LayerSpec.directory(configs, "/configs")],
        [ref],
        labels={
            "com.redhat.index.delivery.version": "v4.16",
            "com.redhat.index.delivery.distribution_scope": "prod",
        },
        client=world.client,
        work_dir=world.tmp / f"build-{tag}",
    )
    return ref


@pytest.mark.slow
def test_groups_that_do_not_stand_alone_fall_back_to_the_whole_load(
    reg_world: World, settings_with, tmp_path
):
    configs = sample_copy(tmp_path / "configs")
    shutil.rmtree(configs / "kube-green")  # added back by the add request
    # kairos-operator's channels live in ecr-secret-operator's directory: valid as a whole, not group
    # by group.
    kairos = configs / "kairos-operator" / "catalog.yaml"
    docs = list(yaml.safe_load_all(kairos.read_text()))
    channels = [d for d in docs if d and d.get("schema") == "olm.channel"]
    kairos.write_text(yaml.safe_dump_all([d for d in docs if d and d.get("schema") != "olm.channel"]))
    (configs / "ecr-secret-operator" / "kairos-channels.yaml").write_text(yaml.safe_dump_all(channels))
    validate_config(load_fs(configs))
    index = foreign_index(reg_world, configs, f"mixed-{reg_world.next_id()}")
    out = outputs_of(reg_world, settings_with, REQUESTS["add"](reg_world), index)
    assert WHOLE in out[2][1] and "another package" in out[2][1], out[2][1]
    trees = {}
    for workers, (image, _) in out.items():
        reg_world.catalog_of(image, tmp_path / f"out-{workers}")
        trees[workers] = tree(tmp_path / f"out-{workers}")
    assert trees[1] == trees[2]


@pytest.mark.slow
def test_an_invalid_catalog_fails_with_the_whole_loads_error(reg_world: World, settings_with, tmp_path):
    configs = sample_copy(tmp_path / "configs")
    shutil.rmtree(configs / "kube-green")
    path = configs / "kairos-operator" / "catalog.yaml"
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d and d.get("schema") != "olm.package"]
    path.write_text(yaml.safe_dump_all(docs))
    index = foreign_index(reg_world, configs, f"invalid-{reg_world.next_id()}")
    errors = {}
    for workers in (1, 2):
        rid = reg_world.next_id()
        args = [*REQUESTS["add"](reg_world), "--request-id", rid, "--from-index", index]
        proc = reg_world.run(*args, check=False, env=settings_with(reg_world, workers))
        assert proc.returncode != 0
        assert not reg_world.exists(reg_world.output(rid))
        errors[workers] = proc.stderr.strip().splitlines()[-1]
    assert errors[1] == errors[2]
    assert "invalid" in errors[2] and "kairos-operator" in errors[2]


@pytest.mark.slow
def test_what_memory_does_not_handle_is_checked_from_files(reg_world: World, settings_with, tmp_path):
    configs = sample_copy(tmp_path / "configs")
    shutil.rmtree(configs / "kube-green")  # added back by the add request
    (configs / "ecr-secret-operator" / ".indexignore").write_text("*.md\n")
    (configs / "ecr-secret-operator" / "README.md").write_text("not a catalog file\n")
    index = foreign_index(reg_world, configs, f"ignore-{reg_world.next_id()}")
    out = outputs_of(reg_world, settings_with, REQUESTS["add"](reg_world), index)
    assert "reading the catalog into memory failed" in out[2][1] and CHECKED in out[2][1], out[2][1]
    trees = {}
    for workers, (image, _) in out.items():
        reg_world.catalog_of(image, tmp_path / f"out-{workers}")
        trees[workers] = tree(tmp_path / f"out-{workers}")
    assert trees[1] == trees[2] and "ecr-secret-operator/README.md" in trees[2]


@pytest.mark.slow
def test_a_request_failing_after_the_check_fails_as_the_whole_load_does(
    reg_world: World, settings_with, tmp_path
):
    # The sample index already holds these kube-green bundles' CSVs: the add fails once the catalog
    # is checked, while the workers may still be packing; nothing is pushed, the error is the same.
    errors = {}
    for workers in (1, 2):
        rid = reg_world.next_id()
        args = [*REQUESTS["add"](reg_world), "--request-id", rid, "--from-index", reg_world.index]
        proc = reg_world.run(*args, check=False, env=settings_with(reg_world, workers))
        assert proc.returncode == 1, proc.stderr
        assert not reg_world.exists(reg_world.output(rid))
        errors[workers] = proc.stderr.strip().splitlines()[-1]
        assert (CHECKED in proc.stderr) == (workers == 2), proc.stderr
    assert errors[1] == errors[2] and "Bundle already added" in errors[2]


@pytest.mark.slow
def test_on_one_cpu_the_default_checks_in_one_worker(reg_world: World, settings_with, tmp_path):
    configs = sample_copy(tmp_path / "configs")
    shutil.rmtree(configs / "kube-green")  # added back by the add request
    index = foreign_index(reg_world, configs, f"one-cpu-{reg_world.next_id()}")
    args = [*REQUESTS["add"](reg_world), "--from-index", index]
    cpus = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cpus)})  # the step inherits it: one CPU
    try:
        default = reg_world.next_id()
        proc = reg_world.run(*args, "--request-id", default, env=settings_with(reg_world, 0))
    finally:
        os.sched_setaffinity(0, cpus)
    assert "on 1 process as they are read" in proc.stderr and CHECKED in proc.stderr, proc.stderr
    whole = reg_world.next_id()
    proc = reg_world.run(*args, "--request-id", whole, env=settings_with(reg_world, 1))
    assert CHECKED not in proc.stderr
    digests = {
        rid: [x.descriptor.digest for x in get_layers(reg_world.output(rid), client=reg_world.client)]
        for rid in (default, whole)
    }
    assert digests[default] == digests[whole]
