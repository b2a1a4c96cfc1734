"""catalog.validate against opm's own answers (testdata/validate) and the real catalogs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog.errors import CatalogError
from catalog.validate import ValidationResult, validate_dir
from tests.conftest import TESTDATA

CASES = sorted(p.name for p in (TESTDATA / "validate").iterdir()) if (TESTDATA / "validate").is_dir() else []
CATALOGS = (
    sorted(p.name for p in (TESTDATA / "catalogs").iterdir()) if (TESTDATA / "catalogs").is_dir() else []
)


def tree_lines(message: str) -> object:
    """A tree message as nested (line, children) with siblings sorted: opm's sibling order is random."""
    lines = message.split("\n")

    def depth_and_text(line: str) -> tuple[int, str]:
        depth = 0
        while line[:4] in ("├── ", "└── ", "│   ", "    "):
            line = line[4:]
            depth += 1
        return depth, line

    parsed = [depth_and_text(line) for line in lines]

    def build(i: int, depth: int) -> tuple[list, int]:
        children: list = []
        while i < len(parsed) and parsed[i][0] == depth:
            text = parsed[i][1]
            sub, i = build(i + 1, depth + 1)
            children.append((text, sub))
        return sorted(children), i

    nodes, end = build(0, 0)
    assert end == len(parsed), message
    return nodes


@pytest.mark.parametrize("case", CASES)
def test_validate_cases_match_opm(testdata: Path, case: str) -> None:
    expected = json.loads((testdata / "validate" / case / "expected.json").read_text())
    result = validate_dir(testdata / "validate" / case / "catalog")
    assert result.passed is expected["passed"]
    if expected["passed"]:
        assert result == ValidationResult(True)
    else:
        want = expected["error"]["message"]
        assert tree_lines(result.message) == tree_lines(want)
        # single-branch trees have only one order: then the text is exactly opm's
        if "├──" not in want:
            assert result.message == want


def test_the_validate_cases_are_there(testdata: Path) -> None:
    assert len(CASES) >= 12


@pytest.mark.parametrize("catalog", CATALOGS)
def test_real_catalogs_pass(testdata: Path, catalog: str) -> None:
    result = validate_dir(testdata / "catalogs" / catalog)
    assert result == ValidationResult(True), result.message


def test_tree_comparison_ignores_sibling_order_only() -> None:
    a = "root:\n├── b\n└── a:\n    └── x"
    b = "root:\n├── a:\n│   └── x\n└── b"
    assert tree_lines(a) == tree_lines(b)
    assert tree_lines(a) != tree_lines("root:\n├── b\n└── a:\n    └── y")


def test_load_errors_are_validation_failures(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{"schema": "olm.package", "name": 3}')
    from catalog.load import load_fs

    with pytest.raises(CatalogError) as exc:
        load_fs(tmp_path)
    assert validate_dir(tmp_path) == ValidationResult(False, str(exc.value))


def test_not_a_directory(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("")
    with pytest.raises(CatalogError) as exc:
        validate_dir(f)
    assert str(exc.value) == f'"{f}" is not a directory'
    with pytest.raises(CatalogError, match="no such file or directory"):
        validate_dir(tmp_path / "absent")


def _sample(testdata: Path):
    from catalog.load import load_fs

    return load_fs(testdata / "catalogs" / "community-v4.16-sample")


def _channel(cfg, package: str, name: str):
    return next(c for c in cfg.channels if (c.package, c.name) == (package, name))


def test_real_catalog_mutations_give_opms_messages(testdata: Path) -> None:
    """Break a real catalog in the ways §2 lists; several packages fail at once, in name order."""
    from catalog.convert import convert_to_model

    cfg = _sample(testdata)
    # ecr-secret-operator: the head also skips the bundle it replaces, so the chain stops there
    # (opm v1.58+); v0.4.0, replaced only by that skipped bundle and skipped by nobody, is stranded
    ecr = _channel(cfg, "ecr-secret-operator", "alpha")
    ecr.entries[0].skips = ["ecr-secret-operator.v0.4.1", "ecr-secret-operator.v0.3.2"]
    # kube-green: close the chain into a loop
    kg = _channel(cfg, "kube-green", "alpha")
    kg.entries[0].replaces = "kube-green.v0.4.0"
    # shipwright-operator: a second head
    sw = _channel(cfg, "shipwright-operator", "alpha")
    sw.entries[0].replaces = ""
    # odf-node-recovery-operator: a skipRange blang refuses
    odf = _channel(cfg, "odf-node-recovery-operator", "alpha")
    odf.entries[1].skip_range = "<1.1.0 ||"
    with pytest.raises(CatalogError) as exc:
        convert_to_model(cfg)
    assert str(exc.value) == (
        "invalid index:\n"
        '├── invalid package "ecr-secret-operator":\n'
        '│   └── invalid channel "alpha":\n'
        "│       └── channel contains one or more stranded bundles: ecr-secret-operator.v0.4.0\n"
        '├── invalid package "kube-green":\n'
        '│   └── invalid channel "alpha":\n'
        "│       └── detected cycle in replaces chain of upgrade graph: kube-green.v0.4.0 -> "
        "kube-green.v0.3.1 -> kube-green.v0.3.0 -> kube-green.v0.4.0\n"
        '├── invalid package "odf-node-recovery-operator":\n'
        '│   └── invalid channel "alpha":\n'
        '│       └── invalid bundle "odf-node-recovery-operator.v1.1.0":\n'
        "│           └── invalid skipRange \"<1.1.0 ||\": Last element in range is '||'\n"
        '└── invalid package "shipwright-operator":\n'
        '    └── invalid channel "alpha":\n'
        "        └── multiple channel heads found in graph: "
        "shipwright-operator.v0.13.0, shipwright-operator.v0.9.0"
    )


def test_real_catalog_duplicate_versions(testdata: Path) -> None:
    from catalog.convert import convert_to_model
    from catalog.declcfg import PROP_PACKAGE

    cfg = _sample(testdata)
    for b in cfg.bundles:
        if b.name == "odf-node-recovery-operator.v1.1.0":
            for p in b.properties:
                if p.type == PROP_PACKAGE:
                    p.value = {**p.value, "version": "1.0.0"}
    with pytest.raises(CatalogError) as exc:
        convert_to_model(cfg)
    assert str(exc.value) == (
        "invalid index:\n"
        '└── invalid package "odf-node-recovery-operator":\n'
        "    └── duplicate versions found in bundles: "
        "[{1.0.0: [odf-node-recovery-operator.v1.0.0, odf-node-recovery-operator.v1.1.0]}]"
    )
