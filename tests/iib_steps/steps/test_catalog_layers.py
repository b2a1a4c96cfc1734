"""Stable catalog layers: unchanged groups are byte-identical, the tree extracts to /configs."""

from __future__ import annotations

import shutil
import tarfile

from iib_steps.catalog_layers import build_layers, group_of, partition, reusable_groups


def make_configs(root, packages):
    for name, files in packages.items():
        (root / name).mkdir(parents=True)
        for fname, text in files.items():
            (root / name / fname).write_text(text)
    return root


PACKAGES = {f"pkg-{i}": {"catalog.json": f'{{"schema":"olm.package","name":"pkg-{i}"}}\n'} for i in range(20)}


def test_group_is_stable_and_in_range():
    assert group_of("kube-green", 16) == group_of("kube-green", 16)
    assert all(0 <= group_of(f"p{i}", 7) < 7 for i in range(100))
    groups = partition([f"p{i}" for i in range(100)], 4)
    assert sorted(n for names in groups.values() for n in names) == sorted(f"p{i}" for i in range(100))
    assert len(groups) == 4  # 100 names fill 4 groups


def test_same_tree_gives_identical_blobs(tmp_path):
    a = make_configs(tmp_path / "a" / "configs", PACKAGES)
    b = make_configs(tmp_path / "b" / "configs", PACKAGES)
    la = build_layers(a, tmp_path / "la", 4)
    lb = build_layers(b, tmp_path / "lb", 4)
    assert [x.digest for x in la] == [x.digest for x in lb]
    assert all(x.path.read_bytes() == y.path.read_bytes() for x, y in zip(la, lb, strict=True))


def test_a_change_to_one_package_changes_one_layer(tmp_path):
    configs = make_configs(tmp_path / "configs", PACKAGES)
    before = {x.group: x.digest for x in build_layers(configs, tmp_path / "l1", 4)}
    (configs / "pkg-3" / "catalog.json").write_text('{"schema":"olm.package","name":"pkg-3","x":1}\n')
    after = {x.group: x.digest for x in build_layers(configs, tmp_path / "l2", 4)}
    changed = {g for g in after if after[g] != before.get(g)}
    assert changed == {group_of("pkg-3", 4)}
    reuse, rebuild = reusable_groups(before, ["pkg-3"], 4, after)
    assert rebuild == {group_of("pkg-3", 4)} and reuse == set(after) - rebuild


def test_removed_group_is_not_reused(tmp_path):
    configs = make_configs(tmp_path / "configs", {"only": {"c.json": "{}"}})
    before = {x.group: x for x in build_layers(configs, tmp_path / "l1", 8)}
    shutil.rmtree(configs / "only")
    assert build_layers(configs, tmp_path / "l2", 8) == []
    reuse, rebuild = reusable_groups(before, ["only"], 8, [])
    assert reuse == set() and rebuild == set()


def test_layers_extract_to_the_configs_tree(tmp_path):
    configs = make_configs(tmp_path / "configs", PACKAGES)
    (configs / "pkg-1" / "sub").mkdir()
    (configs / "pkg-1" / "sub" / "more.yaml").write_text("schema: olm.bundle\n")
    root = tmp_path / "root"
    for layer in build_layers(configs, tmp_path / "layers", 3):
        with tarfile.open(layer.path) as tar:
            names = tar.getnames()
            assert names[0] == "configs" and tar.getmembers()[0].isdir()
            assert all(m.mtime == 0 and m.uid == 0 for m in tar.getmembers())
            tar.extractall(root, filter="data")
    for name, files in PACKAGES.items():
        for fname, text in files.items():
            assert (root / "configs" / name / fname).read_text() == text
    assert (root / "configs" / "pkg-1" / "sub" / "more.yaml").read_text() == "schema: olm.bundle\n"
