"""Binding params to a Task's or Pipeline's declarations, and reading ``-p`` options."""

from __future__ import annotations

import pytest

from iib_steps.tekton.runner.durations import format_duration, parse_duration
from iib_steps.tekton.runner.errors import RunError
from iib_steps.tekton.runner.params import bind_params, parse_cli_params

SPECS = [
    {"name": "s", "default": "d"},
    {"name": "a", "type": "array", "default": ["1"]},
    {"name": "o", "type": "object", "properties": {"k": {}, "j": {}}, "default": {"k": "dk", "j": "dj"}},
    {"name": "required"},
    {"name": "choice", "enum": ["x", "y"], "default": "x"},
]


def test_defaults_fill_in_and_objects_merge() -> None:
    bound = bind_params(SPECS, {"required": "r", "o": {"k": "given"}}, "t")
    assert bound == {"s": "d", "a": ["1"], "o": {"k": "given", "j": "dj"}, "required": "r", "choice": "x"}


@pytest.mark.parametrize(
    ("given", "reason", "text"),
    [
        ({}, "ParameterMissing", "param required is required"),
        ({"required": ["x"]}, "ParameterTypeMismatch", "is a string"),
        ({"required": "r", "a": "x"}, "ParameterTypeMismatch", "is an array"),
        ({"required": "r", "choice": "z"}, "InvalidParamValue", "not one of x, y"),
    ],
)
def test_bad_values_fail_with_tektons_reason(given: dict, reason: str, text: str) -> None:
    with pytest.raises(RunError, match=text) as caught:
        bind_params(SPECS, given, "t")
    assert caught.value.reason == reason


def test_cli_params_like_tkn() -> None:
    parsed = parse_cli_params(["s=a=b,c", "a=x,y", "a=z", "o.k=v", 'o={"j": "w"}', "required="], SPECS)
    assert parsed == {"s": "a=b,c", "a": ["x", "y", "z"], "o": {"k": "v", "j": "w"}, "required": ""}
    with pytest.raises(RunError, match="is not declared"):
        parse_cli_params(["nope=1"], SPECS)
    with pytest.raises(RunError, match="is not name=value"):
        parse_cli_params(["novalue"], SPECS)


@pytest.mark.parametrize(
    ("text", "seconds", "go"),
    [
        ("1h", 3600, "1h0m0s"),
        ("90s", 90, "1m30s"),
        ("1m30s", 90, "1m30s"),
        ("500ms", 0.5, "500ms"),
        ("0", 0, "0s"),
    ],
)
def test_durations(text: str, seconds: float, go: str) -> None:
    assert parse_duration(text) == seconds
    assert format_duration(seconds) == go


def test_a_bad_duration_is_one_line() -> None:
    with pytest.raises(RunError, match="is not a duration"):
        parse_duration("5 minutes")
