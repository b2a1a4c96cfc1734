"""merge-index-image on binaryless indexes built from nothing (``add --binary-image scratch`` with no
from_index), as a colleague reported it: such indexes carry IIB's default OCP version v4.5, so the
com.redhat.openshift.versions rules decide what survives. In a registry and in OCI layouts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.iib_steps.steps.conftest import World

pytestmark = pytest.mark.slow

SCRATCH = ("--binary-image", "scratch")


@pytest.fixture(params=["registry", "oci"])
def world(request) -> World:
    return request.getfixturevalue("reg_world" if request.param == "registry" else "oci_world")


def scratch_settings(world: World, path: Path, allow_unlabelled: bool = False) -> str:
    """The world's settings with binaryless builds for v4.5 (IIB's OCP version for an index built
    from nothing) and, with ``allow_unlabelled``, bundles without an OCP label allowed for the world's
    images when the request says ignore_bundle_ocp_version."""
    settings = yaml.safe_load(world.settings.read_text())
    settings["binary_image_config"] = {"prod": {"v4.5": "scratch"}}
    if allow_unlabelled:
        settings["no_ocp_label_allow_list"] = [world.base]
    path.write_text(yaml.safe_dump(settings))
    return str(path)


def index_of(world: World, config: str, *bundles: str) -> str:
    rid = world.next_id()
    names = json.dumps([world.bundles[b] for b in bundles])
    world.run(
        "add", "--config", config, "--request-id", rid, *SCRATCH, "--add-arches", "amd64", "--bundles", names
    )
    return world.output(rid)


def merge(world: World, config: str, *args: str) -> tuple[str, str]:
    rid = world.next_id()
    proc = world.run("merge-index-image", "--config", config, "--request-id", rid, *SCRATCH, *args)
    return world.output(rid), proc.stderr


def test_unlabelled_source_and_newer_target_bundles_all_go_and_the_log_says_why(world: World, tmp_path):
    config = scratch_settings(world, tmp_path / "settings.yaml")
    source = index_of(world, config, "kube-green-0.3.0")
    target = index_of(world, config, "dbaas-operator-0.5.0")
    out, stderr = merge(world, config, "--source-from-index", source, "--target-index", target)
    # Both indexes say v4.5: kube-green-0.3.0 has no com.redhat.openshift.versions label and
    # dbaas-operator-0.5.0 asks for v4.10 or later, so IIB deprecates both, packages and all.
    assert world.catalog_of(out, tmp_path / "catalog").package_names() == set()
    notes = [line for line in stderr.splitlines() if "not meant for OCP v4.5" in line]
    assert len(notes) == 1, stderr
    assert "kube-green" in notes[0] and "(no label)" in notes[0]
    assert "dbaas" in notes[0] and "(v4.10)" in notes[0]
    assert "the merged catalog is empty" in stderr


def test_what_the_rules_keep_is_the_source_plus_what_it_lacks(world: World, tmp_path):
    config = scratch_settings(world, tmp_path / "settings.yaml", allow_unlabelled=True)
    source = index_of(world, config, "kube-green-0.3.0")
    target = index_of(world, config, "bpfman-operator-0.5.6", "dbaas-operator-0.5.0", "kube-green-0.3.0")
    out, stderr = merge(
        world, config, "--source-from-index", source, "--target-index", target, "--ignore-bundle-ocp-version"
    )
    # Unlabelled bundles are allowed here; dbaas-operator (v4.10 or later) still does not fit v4.5.
    cfg = world.catalog_of(out, tmp_path / "catalog")
    assert cfg.package_names() == {"kube-green", "bpfman-operator"}
    assert sorted(b.name for b in cfg.bundles) == ["bpfman-operator.v0.5.6", "kube-green.v0.3.0"]
    assert "dbaas" in stderr and "the merged catalog is empty" not in stderr


def test_an_empty_target_index_is_none(world: World, tmp_path):
    config = scratch_settings(world, tmp_path / "settings.yaml", allow_unlabelled=True)
    source = index_of(world, config, "kube-green-0.3.0")
    rid = world.next_id()
    world.run(
        "merge-index-image", "--config", config, "--request-id", rid, *SCRATCH,
        "--source-from-index", source, "--target-index", "", "--ignore-bundle-ocp-version",
        "--request-json", str(tmp_path / "r.json"),
    )  # fmt: skip
    cfg = world.catalog_of(world.output(rid), tmp_path / "catalog")
    assert cfg.package_names() == {"kube-green"}
    request = json.loads((tmp_path / "r.json").read_text())
    assert request["target_index"] is None and request["target_index_resolved"] is None
    assert request["index_image"] == world.output(rid)


def test_a_merged_index_records_its_validation_so_the_next_request_is_incremental(world: World, tmp_path):
    from iib_steps.catalog_layers import VALIDATED_LABEL, parse_layer_map, record_matches
    from iib_steps.images.inspect import ImageReader

    config = scratch_settings(world, tmp_path / "settings.yaml", allow_unlabelled=True)
    source = index_of(world, config, "kube-green-0.3.0")
    target = index_of(world, config, "bpfman-operator-0.5.6", "kube-green-0.3.0")
    out, _ = merge(
        world, config, "--source-from-index", source, "--target-index", target, "--ignore-bundle-ocp-version"
    )
    image = ImageReader(out, world.client).default_arch_image()
    layer_map = parse_layer_map(image.labels, 4) or {}
    assert VALIDATED_LABEL in image.labels and record_matches(image.labels, layer_map, image.diff_ids)
    rid = world.next_id()
    proc = world.run(
        "rm",
        "--config",
        config,
        "--request-id",
        rid,
        *SCRATCH,
        "--from-index",
        out,
        "--operators",
        "kube-green",
    )
    assert "its validation record matches" in proc.stderr, proc.stderr
    assert world.catalog_of(world.output(rid), tmp_path / "after").package_names() == {"bpfman-operator"}
