"""``iib-step catalog render`` / ``fmt`` run as a user runs them (a subprocess, real files)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from catalog.load import load_fs
from catalog.write import to_json_bytes


def iib_step(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "iib_steps.cli", *map(str, args)],
        capture_output=True,
        timeout=120,
        check=False,
    )


def test_render_prints_exactly_what_opm_prints(testdata: Path) -> None:
    name = "dbaas-operator-0.5.0"
    run = iib_step("catalog", "render", testdata / "bundles" / name)
    assert run.returncode == 0, run.stderr
    assert run.stdout == (testdata / "render-golden" / f"{name}.json").read_bytes()
    run = iib_step(
        "catalog",
        "render",
        testdata / "bundles" / name,
        "--alpha-image-ref-template",
        "quay.io/example/{{.Package}}-bundle:v{{.Version}}",
        "--migrate-level",
        "bundle-object-to-csv-metadata",
    )
    assert run.stdout == (testdata / "render-golden-csv-metadata" / f"{name}.json").read_bytes()


def test_render_yaml_of_a_catalog_dir(testdata: Path) -> None:
    root = testdata / "catalogs" / "community-v4.16-sample"
    run = iib_step("catalog", "render", root, "-o", "yaml")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(b"---\n")
    expected = b"".join(
        p.read_bytes() for p in sorted(root.glob("*/catalog.yaml"), key=lambda p: p.parent.name)
    )
    assert run.stdout == expected  # the catalog was written by opm: render gives the same bytes


def test_bad_input_is_one_line_and_exit_1(tmp_path: Path) -> None:
    run = iib_step("catalog", "render", tmp_path / "missing")
    assert run.returncode == 1
    assert run.stderr.decode().count("\n") == 1 and run.stderr.startswith(b"error: render reference")
    run = iib_step("catalog", "render", tmp_path, "--migrate-level", "nope")
    assert (run.returncode, run.stderr) == (1, b'error: unknown migration level "nope"\n')


def test_fmt_rewrites_a_catalog_in_opm_layout(tmp_path: Path) -> None:
    cat = tmp_path / "cat"
    (cat / "misc").mkdir(parents=True)
    (cat / "misc" / "all.yaml").write_text(
        "schema: olm.package\nname: b\n---\nschema: olm.package\nname: a\n---\nschema: my.custom\nx: 1\n"
    )
    before = to_json_bytes(load_fs(cat))
    run = iib_step("catalog", "fmt", cat)
    assert run.returncode == 0, run.stderr
    files = sorted(p.relative_to(cat).as_posix() for p in cat.rglob("*") if p.is_file())
    assert files == ["a/catalog.json", "b/catalog.json", "catalog.json"]
    assert to_json_bytes(load_fs(cat)) == before


def test_fmt_leaves_a_broken_catalog_untouched(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("schema: olm.package\nname: [\n")
    run = iib_step("catalog", "fmt", tmp_path)
    assert run.returncode == 1 and run.stderr.startswith(b"error: ")
    assert [p.name for p in tmp_path.iterdir()] == ["c.yaml"]
