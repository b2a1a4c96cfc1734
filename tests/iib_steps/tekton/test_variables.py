"""Substitution of ``$(...)`` references: literal, once, arrays expanded as whole elements."""

from __future__ import annotations

import pytest

from iib_steps.tekton.runner.errors import RunError
from iib_steps.tekton.runner.variables import lookup_in, substitute_list, substitute_string, substitute_value

PARAMS = {
    "s": "one",
    "a": ["x", "y"],
    "o": {"k": "v", "other": "w"},
    "dotted.name": "dot",
    "tricky": "$(params.s) `id` ; \n ü",
}


def look(expr: str):
    if expr.startswith("params"):
        return lookup_in(PARAMS, expr[len("params") :], expr)
    return None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$(params.s)", "one"),
        ("pre-$(params.s)-$(params.s)", "pre-one-one"),
        ("$(params['s'])", "one"),
        ('$(params["dotted.name"])', "dot"),
        ("$(params.dotted.name)", "dot"),
        ("$(params.o.k)", "v"),
        ("$(params.a[1])", "y"),
        ("$(params.unknown) stays", "$(params.unknown) stays"),
        ("$(context.nothing)", "$(context.nothing)"),
        ("$(params.tricky)", "$(params.s) `id` ; \n ü"),
    ],
)
def test_strings(text: str, expected: str) -> None:
    assert substitute_string(text, look, "t") == expected


def test_arrays_expand_as_whole_elements_only() -> None:
    assert substitute_list(["--x", "$(params.a[*])", "$(params.s)"], look, "t") == ["--x", "x", "y", "one"]
    with pytest.raises(RunError, match="is an array and cannot be used inside a string"):
        substitute_string("--list=$(params.a[*])", look, "t")


def test_values_keep_their_type() -> None:
    assert substitute_value("$(params.a[*])", look, "t") == ["x", "y"]
    assert substitute_value("$(params.o[*])", look, "t") == {"k": "v", "other": "w"}
    assert substitute_value(["$(params.a[*])", "z"], look, "t") == ["x", "y", "z"]
    assert substitute_value({"key": "$(params.s)"}, look, "t") == {"key": "one"}


def test_an_index_out_of_range_says_so() -> None:
    with pytest.raises(RunError, match="out of range: the array has 2 items"):
        substitute_string("$(params.a[5])", look, "t")
