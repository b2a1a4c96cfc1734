"""The incremental path: an index built here carries a validation record; a request on it reads and
packs only the layer groups it touches, and gives exactly what the full path gives; an index whose
record does not match its layers (tampered, or built by someone else) gets the full path, full
validation included. In a registry and in OCI layouts."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from iib_steps.catalog_layers import (
    LAYER_MAP_LABEL,
    VALIDATED_LABEL,
    group_layer_spec,
    group_of,
    parse_layer_map,
    partition,
    record_matches,
)
from iib_steps.images import manifests as mt
from iib_steps.images.extract import extract_index_catalog
from iib_steps.images.inspect import ImageReader, get_layers
from iib_steps.images.layers import LayerBlob, write_layer
from iib_steps.images.manifests import Descriptor, ImageIndex, ImageManifest, RawManifest
from iib_steps.images.reference import parse_image
from iib_steps.images.stores import open_store
from tests.iib_steps.steps.conftest import World

pytestmark = pytest.mark.slow

GROUPS = 4  # the worlds' catalog_layer_groups
INCREMENTAL = "its validation record matches"
FULL = "reading the whole catalog"


@pytest.fixture(params=["registry", "oci"])
def world(request) -> World:
    return request.getfixturevalue("reg_world" if request.param == "registry" else "oci_world")


def labels_of(world: World, image: str) -> dict[str, str]:
    return ImageReader(image, world.client).default_arch_image().labels


def built_here(world: World) -> str:
    """An index built here (from the sample index, IIB's single layer): kube-green removed."""
    rid = world.next_id()
    world.run("rm", "--request-id", rid, "--from-index", world.index, "--operators", "kube-green")
    return world.output(rid)


def rewrite_index(
    world: World,
    src: str,
    tag: str,
    edit_labels: Callable[[dict[str, str]], None],
    swap: tuple[str, LayerBlob] | None = None,
) -> str:
    """A copy of the index ``src`` under ``tag`` with its config labels edited for every arch and,
    with ``swap=(diff_id, layer)``, that layer replaced."""
    loc = parse_image(src)
    store = open_store(loc, world.client)
    top = store.get_manifest(loc.reference).parse()
    assert isinstance(top, ImageIndex)
    children = []
    for desc in top.manifests:
        man = store.get_manifest(desc.digest).parse()
        assert isinstance(man, ImageManifest)
        config = json.loads(store.read_blob(man.config.digest))
        layers = list(man.layers)
        if swap is not None:
            old, blob = swap
            i = config["rootfs"]["diff_ids"].index(old)
            config["rootfs"]["diff_ids"][i] = blob.diff_id
            layers[i] = Descriptor(layers[i].media_type, blob.digest, blob.size)
            if not store.has_blob(blob.digest):
                store.put_blob_file(blob.digest, blob.size, blob.path)
        edit_labels(config["config"]["Labels"])
        config_bytes = json.dumps(config).encode()
        store.put_blob_bytes(mt.sha256_digest(config_bytes), config_bytes)
        new = ImageManifest(
            man.media_type,
            Descriptor(man.config.media_type, mt.sha256_digest(config_bytes), len(config_bytes)),
            tuple(layers),
        )
        raw = RawManifest(new.to_bytes(), new.media_type)
        store.put_manifest(raw)
        children.append(raw.descriptor(desc.platform))
    index = ImageIndex(top.media_type, tuple(children))
    store.put_manifest(RawManifest(index.to_bytes(), index.media_type), tag)
    return world.output(tag)


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_an_index_built_here_records_what_was_validated(world: World):
    out = built_here(world)
    labels = labels_of(world, out)
    layer_map = parse_layer_map(labels, GROUPS)
    assert layer_map and VALIDATED_LABEL in labels
    img = ImageReader(out, world.client).default_arch_image()
    assert record_matches(labels, layer_map, img.diff_ids)
    record = json.loads(labels[VALIDATED_LABEL])
    assert record["validator"].startswith("opm-v1.73.0")


REQUESTS = {
    "add": lambda w: ["add", "--bundles", w.bundles["kube-green-0.3.0"],
                      "--bundles", w.bundles["kube-green-0.3.1"]],
    "rm": lambda w: ["rm", "--operators", "kairos-operator"],
    "add-deprecations": lambda w: [
        "add-deprecations",
        "--operator-package",
        "ecr-secret-operator",
        "--deprecation-schema",
        json.dumps({"schema": "olm.deprecations", "package": "ecr-secret-operator", "entries": []}),
    ],
}  # fmt: skip


@pytest.mark.parametrize("request_type", sorted(REQUESTS))
def test_incremental_and_full_paths_give_the_same_catalog(world: World, tmp_path, request_type):
    ours = built_here(world)
    # The same image as someone else would have built it: same layers, no record.
    foreign = rewrite_index(
        world, ours, f"foreign-{world.next_id()}", lambda labels: labels.pop(VALIDATED_LABEL)
    )
    outputs = {}
    for name, index in (("incremental", ours), ("full", foreign)):
        rid = world.next_id()
        proc = world.run(*REQUESTS[request_type](world), "--request-id", rid, "--from-index", index)
        assert (INCREMENTAL if name == "incremental" else FULL) in proc.stderr, proc.stderr
        outputs[name] = world.output(rid)
    trees = {}
    for name, image in outputs.items():
        world.catalog_of(image, tmp_path / name)  # every output validates as a whole
        trees[name] = tree(tmp_path / name)
    assert trees["incremental"] == trees["full"]
    layers = {
        n: [x.descriptor.digest for x in get_layers(i, client=world.client)] for n, i in outputs.items()
    }
    assert layers["incremental"] == layers["full"]
    # Both outputs carry a record, so the next request on either is incremental.
    for image in outputs.values():
        labels = labels_of(world, image)
        diff_ids = ImageReader(image, world.client).default_arch_image().diff_ids
        assert record_matches(labels, parse_layer_map(labels, GROUPS) or {}, diff_ids)


def test_the_incremental_path_reads_only_the_touched_group(reg_world: World, tmp_path):
    world = reg_world
    ours = built_here(world)
    rid = world.next_id()
    proc = world.run("rm", "--request-id", rid, "--from-index", ours, "--operators", "kairos-operator")
    assert f"{INCREMENTAL}; read 1 of" in proc.stderr
    before = [x.descriptor.digest for x in get_layers(ours, client=world.client)]
    after = [x.descriptor.digest for x in get_layers(world.output(rid), client=world.client)]
    assert len(before) - len(after) in (0, 1)  # one group repacked (or emptied and dropped)
    assert len(set(after) - set(before)) <= 1


def _broken_group_layer(world: World, index: str, package: str, tmp: Path) -> tuple[str, LayerBlob]:
    """(the diff_id of the layer holding ``package``, a copy of it where ``package`` is invalid)."""
    configs = tmp / "configs"
    extract_index_catalog(index, configs, client=world.client)
    group = group_of(package, GROUPS)
    members = partition([p.name for p in configs.iterdir()], GROUPS)[group]
    with open(configs / package / "catalog.json", "a") as fh:
        fh.write(json.dumps({"schema": "olm.channel", "name": "broken", "package": package,
                             "entries": [{"name": "no-such-bundle.v0.0.1"}]}) + "\n")  # fmt: skip
    blob = write_layer(group_layer_spec(configs, members), tmp / "blobs")
    layer_map = parse_layer_map(labels_of(world, index), GROUPS) or {}
    return layer_map[group], blob


def test_an_index_whose_record_does_not_match_gets_a_full_validation(world: World, tmp_path):
    ours = built_here(world)
    victim = "shipwright-operator"
    assert group_of(victim, GROUPS) != group_of("kube-green", GROUPS)
    old, blob = _broken_group_layer(world, ours, victim, tmp_path)

    def new_map(labels: dict[str, str]) -> None:  # the layer map follows the swap; the record cannot
        layer_map = json.loads(labels[LAYER_MAP_LABEL])
        layer_map["layers"] = {g: (blob.diff_id if d == old else d) for g, d in layer_map["layers"].items()}
        labels[LAYER_MAP_LABEL] = json.dumps(layer_map)

    tampered = rewrite_index(world, ours, f"tampered-{world.next_id()}", new_map, swap=(old, blob))
    add = ["add", "--bundles", world.bundles["kube-green-0.3.0"]]
    proc = world.run(*add, "--request-id", world.next_id(), "--from-index", tampered, check=False)
    assert proc.returncode == 1 and FULL in proc.stderr, proc.stderr
    assert "the resulting catalog is invalid" in proc.stderr and victim in proc.stderr

    # Control: with a record naming the swapped layers (forged), only kube-green's group is read and
    # validated, so the broken package goes unnoticed: the record alone decides what is validated.
    def forged(labels: dict[str, str]) -> None:
        new_map(labels)
        record = json.loads(labels[VALIDATED_LABEL])
        record["layers"] = [blob.diff_id if d == old else d for d in record["layers"]]
        labels[VALIDATED_LABEL] = json.dumps(record)

    forged_index = rewrite_index(world, ours, f"forged-{world.next_id()}", forged, swap=(old, blob))
    proc = world.run(*add, "--request-id", world.next_id(), "--from-index", forged_index)
    assert INCREMENTAL in proc.stderr


def test_a_layer_that_is_not_what_the_config_says_falls_back_to_the_full_path(reg_world: World, tmp_path):
    world = reg_world
    ours = built_here(world)
    old, blob = _broken_group_layer(world, ours, "kairos-operator", tmp_path)

    def same_map(labels: dict[str, str]) -> None:
        pass

    # The blob of kairos-operator's group swapped, the config's diff_id and both labels left as they
    # were: the record matches the config, but the blob read does not hash to its diff_id.
    loc = parse_image(ours)
    store = open_store(loc, world.client)
    store.put_blob_file(blob.digest, blob.size, blob.path)
    swapped = rewrite_index(world, ours, f"swapped-{world.next_id()}", same_map, swap=(old, blob))
    top = store.get_manifest(parse_image(swapped).reference).parse()
    assert isinstance(top, ImageIndex)
    # Put the old diff_id back into each config (so only the blob differs).
    for desc in top.manifests:
        man = store.get_manifest(desc.digest).parse()
        config = json.loads(store.read_blob(man.config.digest))
        assert blob.diff_id in config["rootfs"]["diff_ids"]
    spoofed = rewrite_index(
        world, swapped, f"spoofed-{world.next_id()}", same_map, swap=(blob.diff_id, _relabelled(blob, old))
    )
    proc = world.run(
        "rm", "--request-id", world.next_id(), "--from-index", spoofed, "--operators", "kairos-operator",
        check=False,
    )  # fmt: skip
    assert "is not sha256:" in proc.stderr and FULL in proc.stderr, proc.stderr


def _relabelled(blob: LayerBlob, diff_id: str) -> LayerBlob:
    """The same blob, claiming another diff_id."""
    from dataclasses import replace

    return replace(blob, diff_id=diff_id)
