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
    with pytest.raises(CatalogError, match="is not a directory"):
        validate_dir(f)
    with pytest.raises(CatalogError, match="no such file or directory"):
        validate_dir(tmp_path / "absent")
