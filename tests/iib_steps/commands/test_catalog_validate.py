"""``iib-step catalog validate``: the same output and exit status as ``opm validate``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import yaml

from catalog.validate import ValidationResult
from iib_steps.commands.catalog_validate import logrus_fatal_line, render_json, render_yaml
from iib_steps.operations.group_check import validates_in_groups


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "iib_steps.cli", "catalog", "validate", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_json_output_is_opms_bytes(testdata: Path) -> None:
    for case in ("bad-skiprange", "valid", "duplicate-package"):
        proc = run(str(testdata / "validate" / case / "catalog"), "-o", "json")
        expected = (testdata / "validate" / case / "expected.json").read_text()
        assert proc.stdout == expected.rstrip("\n") + "\n", case
        assert proc.returncode == (0 if json.loads(expected)["passed"] else 1)
        assert proc.stderr == ""


def test_yaml_output(testdata: Path) -> None:
    proc = run(str(testdata / "validate" / "cycle" / "catalog"), "-o", "yaml")
    assert proc.returncode == 1
    doc = yaml.safe_load(proc.stdout)
    expected = json.loads((testdata / "validate" / "cycle" / "expected.json").read_text())
    assert doc == expected
    assert proc.stdout.startswith("error:\n  message: |-\n    invalid index:\n")


def test_default_output_is_a_logrus_fatal_line(testdata: Path) -> None:
    proc = run(str(testdata / "validate" / "duplicate-package" / "catalog"))
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert re.fullmatch(r'time="[^"]+" level=fatal msg="duplicate package \\"kube-green\\""\n', proc.stderr)


def test_valid_catalog_prints_nothing(testdata: Path) -> None:
    proc = run(str(testdata / "validate" / "valid" / "catalog"))
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


def test_bad_arguments_are_one_line(tmp_path: Path) -> None:
    proc = run(str(tmp_path), "-o", "xml")
    assert (proc.returncode, proc.stderr) == (
        1,
        'error: invalid --output value "xml", expected (json|yaml)\n',
    )
    proc = run(str(tmp_path / "absent"))
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "no such file or directory" in proc.stderr


def test_renderers() -> None:
    failed = ValidationResult(False, 'invalid index:\n└── a <b> & "c"')
    assert render_json(failed) == (
        '{\n  "passed": false,\n  "error": {\n'
        '    "message": "invalid index:\\n└── a \\u003cb\\u003e \\u0026 \\"c\\""\n  }\n}'
    )
    assert render_json(ValidationResult(True)) == '{\n  "passed": true\n}'
    assert render_yaml(ValidationResult(True)) == "passed: true\n"
    assert yaml.safe_load(render_yaml(failed)) == {"passed": False, "error": {"message": failed.message}}


def test_logrus_line_quoting() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert (
        logrus_fatal_line("plain-text.ok", when)
        == 'time="2026-01-02T03:04:05Z" level=fatal msg=plain-text.ok'
    )
    assert logrus_fatal_line("a b\nc", when) == 'time="2026-01-02T03:04:05Z" level=fatal msg="a b\\nc"'
    assert logrus_fatal_line("", when) == 'time="2026-01-02T03:04:05Z" level=fatal msg='


def test_workers_give_opms_words_on_every_case(testdata: Path) -> None:
    # valid catalogs pass package by package in workers; invalid ones fall back to the whole load
    for case in sorted((testdata / "validate").iterdir()):
        if not (case / "catalog").is_dir():
            continue
        alone = run(str(case / "catalog"), "-o", "json", "--workers", "1")
        parallel = run(str(case / "catalog"), "-o", "json", "--workers", "2")
        assert (parallel.returncode, parallel.stdout) == (alone.returncode, alone.stdout), case.name


def test_packages_that_stand_alone_are_validated_in_workers(testdata: Path) -> None:
    assert validates_in_groups(testdata / "catalogs" / "community-v4.16-sample", 2)
    assert not validates_in_groups(testdata / "validate" / "cycle" / "catalog", 2)  # invalid


def test_a_blob_in_another_packages_directory_is_decided_by_the_whole_load(tmp_path: Path) -> None:
    # valid as a whole, but b's directory holds a's channel: no package-by-package answer
    def blobs(name: str) -> list[str]:
        return [
            f'{{"schema":"olm.package","name":"{name}","defaultChannel":"stable"}}',
            f'{{"schema":"olm.bundle","name":"{name}.v1","package":"{name}","image":"r/{name}:1",'
            f'"properties":[{{"type":"olm.package","value":{{"packageName":"{name}","version":"1.0.0"}}}}]}}',
        ]

    def channel(name: str) -> str:
        entries = f'[{{"name":"{name}.v1"}}]'
        return f'{{"schema":"olm.channel","package":"{name}","name":"stable","entries":{entries}}}'

    for name, extra in (("a", []), ("b", [channel("b"), channel("a")])):
        (tmp_path / name).mkdir()
        (tmp_path / name / "catalog.json").write_text("\n".join(blobs(name) + extra) + "\n")
    assert not validates_in_groups(tmp_path, 2)
    proc = run(str(tmp_path), "--workers", "2")
    assert (proc.returncode, proc.stderr) == (0, "")
    (tmp_path / "b" / "catalog.json").write_text("\n".join([*blobs("b"), channel("b")]) + "\n")
    proc = run(str(tmp_path), "-o", "json", "--workers", "2")  # a has no channel now: the whole load's words
    assert proc.returncode == 1 and "a.v1" in proc.stdout
    assert proc.stdout == run(str(tmp_path), "-o", "json", "--workers", "1").stdout
