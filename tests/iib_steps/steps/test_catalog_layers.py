"""Stable catalog layers: a stable partition, byte-identical layers for unchanged groups, and a
layer set that extracts to the whole /configs tree."""

from __future__ import annotations

import shutil
import tarfile

from iib_steps.catalog_layers import group_layer_spec, group_of, partition
from iib_steps.images.layers import write_layer

PACKAGES = {f"pkg-{i}": f'{{"schema":"olm.package","name":"pkg-{i}"}}\n' for i in range(20)}


def make_configs(root, packages):
    for name, text in packages.items():
        (root / name).mkdir(parents=True)
        (root / name / "catalog.json").write_text(text)
    return root


def layers(configs, out, groups):
    names = [p.name for p in configs.iterdir()]
    return {
        g: write_layer(group_layer_spec(configs, members), out)
        for g, members in partition(names, groups).items()
    }


def test_group_is_stable_and_in_range():
    # pinned: changing the function would stop every existing index from reusing its layers
    assert group_of("kube-green", 16) == 15
    assert all(0 <= group_of(f"p{i}", 7) < 7 for i in range(100))
    groups = partition([f"p{i}" for i in range(100)], 4)
    assert sorted(n for names in groups.values() for n in names) == sorted(f"p{i}" for i in range(100))
    assert len(groups) == 4


def test_same_tree_gives_identical_blobs(tmp_path):
    a = layers(make_configs(tmp_path / "a", PACKAGES), tmp_path / "la", 4)
    b = layers(make_configs(tmp_path / "b", PACKAGES), tmp_path / "lb", 4)
    assert {g: x.digest for g, x in a.items()} == {g: x.digest for g, x in b.items()}


def test_a_change_to_one_package_changes_one_layer(tmp_path):
    configs = make_configs(tmp_path / "configs", PACKAGES)
    before = {g: x.digest for g, x in layers(configs, tmp_path / "l1", 4).items()}
    (configs / "pkg-3" / "catalog.json").write_text('{"schema":"olm.package","name":"pkg-3","x":1}\n')
    after = {g: x.digest for g, x in layers(configs, tmp_path / "l2", 4).items()}
    assert {g for g in after if after[g] != before[g]} == {group_of("pkg-3", 4)}
    shutil.rmtree(configs / "pkg-3")
    gone = {g: x.digest for g, x in layers(configs, tmp_path / "l3", 4).items()}
    assert {g for g in gone if gone[g] != before[g]} == {group_of("pkg-3", 4)}


def test_layers_extract_to_the_configs_tree(tmp_path):
    configs = make_configs(tmp_path / "configs", PACKAGES)
    (configs / "pkg-1" / "sub").mkdir()
    (configs / "pkg-1" / "sub" / "more.yaml").write_text("schema: olm.bundle\n")
    root = tmp_path / "root"
    for layer in layers(configs, tmp_path / "layers", 3).values():
        with tarfile.open(layer.path) as tar:
            assert all(m.mtime == 0 and m.uid == 0 for m in tar.getmembers())
            tar.extractall(root, filter="data")
    for name, text in PACKAGES.items():
        assert (root / "configs" / name / "catalog.json").read_text() == text
    assert (root / "configs" / "pkg-1" / "sub" / "more.yaml").read_text() == "schema: olm.bundle\n"
