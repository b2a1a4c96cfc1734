"""``iib-step catalog migrate|rm|deprecate|apply-fragment|add-deprecations|merge|create-empty``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from catalog.load import load_file, load_fs
from catalog.validate import validate_config


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "iib_steps.cli", "catalog", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_migrate_writes_exactly_opms_files(testdata: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run("migrate", str(testdata / "sqlite" / "bundles.db"), str(out), "-o", "json")
    assert proc.returncode == 0, proc.stderr
    assert _files(out) == _files(testdata / "sqlite" / "migrated-expected")


def test_migrate_reads_iibs_hidden_database_in_an_image_root(testdata: Path, tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    hidden = root / "var" / "lib" / "iib" / "_hidden"
    hidden.mkdir(parents=True)
    shutil.copy(testdata / "sqlite" / "bundles.db", hidden / "do.not.edit.db")
    proc = run("migrate", str(root), str(tmp_path / "out"), "-o", "yaml")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "etcd",
        "prometheus",
        "strimzi-kafka-operator",
    ]
    assert (tmp_path / "out" / "etcd" / "catalog.yaml").read_text().startswith("---\n")


def test_migrate_refuses_a_used_output_dir_in_one_line(testdata: Path, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x").write_text("keep me")
    proc = run("migrate", str(testdata / "sqlite" / "bundles.db"), str(tmp_path / "out"))
    assert proc.returncode == 1
    assert proc.stderr == f'error: output dir "{tmp_path / "out"}" must be empty\n'
    assert (tmp_path / "out" / "x").read_text() == "keep me"


def _sample(testdata: Path, tmp_path: Path) -> Path:
    catalog = tmp_path / "catalog"
    shutil.copytree(testdata / "catalogs" / "community-v4.16-sample", catalog)
    return catalog


def test_rm_in_place_rewrites_only_that_package(testdata: Path, tmp_path: Path) -> None:
    catalog = _sample(testdata, tmp_path)
    before = _files(catalog)
    proc = run("rm", str(catalog), "--package", "kube-green")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "removed kube-green\n"
    after = _files(catalog)
    assert {k: v for k, v in before.items() if not k.startswith("kube-green/")} == after
    validate_config(load_fs(catalog))


def test_rm_unknown_package_is_one_line_and_changes_nothing(testdata: Path, tmp_path: Path) -> None:
    catalog = _sample(testdata, tmp_path)
    before = _files(catalog)
    proc = run("rm", str(catalog), "--package", "no-such-operator")
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "no package found for packagename no-such-operator" in proc.stderr
    assert _files(catalog) == before


def test_deprecate_then_fragment_then_deprecations(testdata: Path, tmp_path: Path) -> None:
    catalog = _sample(testdata, tmp_path)
    cfg = load_fs(catalog)
    middle = next(b for b in cfg.bundles if b.name == "kube-green.v0.5.0")
    proc = run("deprecate", str(catalog), "--bundle", middle.image)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "changed kube-green\n"
    names = {b.name for b in load_fs(catalog).bundles if b.package == "kube-green"}
    assert "kube-green.v0.4.1" not in names and "kube-green.v0.5.1" in names

    fragment = tmp_path / "fragment"
    shutil.copytree(testdata / "catalogs" / "community-v4.20" / "kube-green", fragment / "kube-green")
    proc = run("apply-fragment", str(catalog), str(fragment))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "changed kube-green",
        "note: package kube-green replaced from the fragment",
    ]
    assert sorted(p.name for p in (catalog / "kube-green").iterdir()) == ["catalog.json"]

    schema = tmp_path / "deprecation.json"
    schema.write_text(
        json.dumps(
            {
                "schema": "olm.deprecations",
                "package": "kube-green",
                "entries": [{"reference": {"schema": "olm.package"}, "message": "kube-green is retired"}],
            }
        )
    )
    proc = run("add-deprecations", str(catalog), str(schema))
    assert proc.returncode == 0, proc.stderr
    cfg = load_fs(catalog)
    validate_config(cfg)
    assert [d.entries[0].message for d in cfg.deprecations if d.package == "kube-green"] == [
        "kube-green is retired"
    ]


def test_merge_and_create_empty(testdata: Path, tmp_path: Path) -> None:
    source = _sample(testdata, tmp_path)
    assert (
        run("rm", str(source), "--package", "kube-green", "--package", "ecr-secret-operator").returncode == 0
    )
    merged = tmp_path / "merged"
    target = testdata / "catalogs" / "community-v4.16-sample"
    proc = run("merge", str(source), str(target), str(merged), "--mode", "semver")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[:2] == ["changed ecr-secret-operator", "changed kube-green"]
    assert {b.name for b in load_fs(merged).bundles} == {b.name for b in load_fs(target).bundles}
    empty = tmp_path / "empty"
    proc = run("create-empty", str(merged), str(empty))
    assert proc.returncode == 0, proc.stderr
    assert empty.is_dir() and not any(empty.iterdir())


def test_add_bundle_dirs_in_place_gives_opms_catalog(testdata: Path, tmp_path: Path) -> None:
    """kube-green added in replaces mode from bundle directories, then a gap refused as opm did."""
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    versions = ["0.3.0", "0.3.1", "0.4.0"]
    args = []
    for v in versions:
        args += [
            "--bundle",
            f"{testdata / 'bundles' / f'kube-green-{v}'}=quay.io/example/bundles/kube-green:{v}",
        ]
    proc = run("add", str(catalog), *args, "--mode", "replaces")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "changed kube-green\n"
    cfg = load_fs(catalog)
    validate_config(cfg)
    alpha = next(c for c in cfg.channels if c.name == "alpha")
    assert [(e.name, e.replaces) for e in alpha.entries or []] == [
        ("kube-green.v0.3.0", ""),
        ("kube-green.v0.3.1", "kube-green.v0.3.0"),
        ("kube-green.v0.4.0", "kube-green.v0.3.1"),
    ]
    proc = run("add", str(catalog), "--bundle", str(testdata / "bundles" / "kube-green-0.5.0"))
    assert proc.returncode == 1
    assert (
        proc.stderr
        == "error: Invalid bundle kube-green.v0.5.0, replaces nonexistent bundle kube-green.v0.4.1\n"
    )


def test_render_template_from_bundle_dirs(testdata: Path, tmp_path: Path) -> None:
    template = tmp_path / "semver.yaml"
    template.write_text(
        "Schema: olm.semver\nStable:\n  Bundles:\n"
        "  - Image: quay.io/example/bundles/kube-green:0.5.0\n"
        "  - Image: quay.io/example/bundles/kube-green:0.5.1\n"
    )
    dirs = []
    for v in ("0.5.0", "0.5.1"):
        dirs += [
            "--bundle-dir",
            f"{testdata / 'bundles' / f'kube-green-{v}'}=quay.io/example/bundles/kube-green:{v}",
        ]
    proc = run("render-template", str(template), *dirs)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out.json"
    out.write_text(proc.stdout)
    cfg = load_file(out)
    validate_config(cfg)
    assert cfg.packages[0].default_channel == "stable-v0.5"
    assert [(e.name, e.skips) for e in cfg.channels[0].entries or []] == [
        ("kube-green.v0.5.0", []),
        ("kube-green.v0.5.1", ["kube-green.v0.5.0"]),
    ]


def test_rm_takes_the_package_deprecations_kept_elsewhere(testdata: Path, tmp_path: Path) -> None:
    """IIB keeps deprecations in _operator-deprecations-content/<pkg>/: rm removes that file too."""
    catalog = _sample(testdata, tmp_path)
    extra = catalog / "_operator-deprecations-content" / "kube-green" / "kube-green.json"
    extra.parent.mkdir(parents=True)
    extra.write_text(
        json.dumps(
            {
                "schema": "olm.deprecations",
                "package": "kube-green",
                "entries": [{"reference": {"schema": "olm.package"}, "message": "retired"}],
            }
        )
    )
    proc = run("rm", str(catalog), "--package", "kube-green")
    assert proc.returncode == 0, proc.stderr
    assert not (catalog / "_operator-deprecations-content").exists()
    validate_config(load_fs(catalog))


def test_in_place_refuses_a_file_shared_with_other_packages(testdata: Path, tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    sample = testdata / "catalogs" / "community-v4.16-sample"
    both = (sample / "kube-green" / "catalog.yaml").read_text() + (
        sample / "shipwright-operator" / "catalog.yaml"
    ).read_text()
    (catalog / "all.yaml").write_text(both)
    proc = run("rm", str(catalog), "--package", "kube-green")
    assert proc.returncode == 1
    assert "also holds shipwright-operator: it cannot be rewritten in place; use --output" in proc.stderr
    proc = run("rm", str(catalog), "--package", "kube-green", "--output", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["shipwright-operator"]


def test_migrate_takes_over_an_iib_index_hidden_database_over_configs(testdata: Path, tmp_path: Path) -> None:
    """An IIB-built FBC image: /configs plus the hidden database; the database's packages win."""
    root = tmp_path / "rootfs"
    hidden = root / "var" / "lib" / "iib" / "_hidden"
    hidden.mkdir(parents=True)
    shutil.copy(testdata / "sqlite" / "bundles.db", hidden / "do.not.edit.db")
    shutil.copytree(testdata / "catalogs" / "community-v4.16-sample", root / "configs")
    out = tmp_path / "out"
    proc = run(
        "migrate", str(root), str(out), "--configs", str(root / "configs"),
        "--migrate-level", "bundle-object-to-csv-metadata",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    cfg = load_fs(out)
    validate_config(cfg)
    assert {p.name for p in cfg.packages} == {p.name for p in load_fs(root / "configs").packages} | {
        "etcd",
        "prometheus",
        "strimzi-kafka-operator",
    }
    etcd = next(b for b in cfg.bundles if b.name == "etcdoperator.v0.9.2")
    assert [p.type for p in etcd.properties][-1] == "olm.csv.metadata"
    assert all(p.type != "olm.bundle.object" for p in etcd.properties)


def test_a_bundle_image_is_recorded_verbatim_not_expanded_as_a_template(testdata: Path) -> None:
    """``DIR=IMAGE`` names the image the directory came from; ``{{`` in it is no template."""
    from iib_steps.commands.catalog_ops import _bundle_from_dir

    image = "quay.io/example/{{.Package}}:{{.Version}}"
    item = _bundle_from_dir(f"{testdata / 'bundles' / 'kube-green-0.5.0'}={image}")
    assert item.bundle.image == image
    assert image in [r.image for r in item.bundle.related_images]


def test_render_template_keeps_bundle_dir_images_verbatim(testdata: Path, tmp_path: Path) -> None:
    image = "quay.io/example/{{.Package}}:0.5.0"
    template = tmp_path / "basic.yaml"
    template.write_text(
        "schema: olm.template.basic\nentries:\n"
        "- schema: olm.package\n  name: kube-green\n  defaultChannel: alpha\n"
        "- schema: olm.channel\n  package: kube-green\n  name: alpha\n"
        "  entries:\n  - name: kube-green.v0.5.0\n"
        f"- schema: olm.bundle\n  image: '{image}'\n"
    )
    bundle_dir = f"{testdata / 'bundles' / 'kube-green-0.5.0'}={image}"
    proc = run("render-template", str(template), "--bundle-dir", bundle_dir)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out.json"
    out.write_text(proc.stdout)
    assert [b.image for b in load_file(out).bundles] == [image]
