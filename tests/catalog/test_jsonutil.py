"""Go encoding/json compatibility: numbers through float64, escaping, indentation."""

from __future__ import annotations

import pytest

from catalog.jsonutil import (
    GoFloat,
    HtmlStr,
    compact,
    compact_ordered,
    dumps_indented,
    marshal_html,
    normalize,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, b"1"),
        (2.5, b"2.5"),
        (1e-6, b"0.000001"),
        (1.5e-7, b"1.5e-7"),
        (1e20, b"100000000000000000000"),
        (1e21, b"1e+21"),
        (12345678901234567890, b"12345678901234567000"),
        (2**53 + 1, b"9007199254740992"),
        (-0.0, b"-0"),
        (0.1, b"0.1"),
        (123456789.125, b"123456789.125"),
    ],
)
def test_numbers_print_as_go_prints_a_float64(value: float, text: bytes) -> None:
    assert compact(normalize(value)) == text


def test_normalize_sorts_keys_at_every_level_and_keeps_lists_in_order() -> None:
    value = normalize({"b": [{"z": 1, "a": 2}], "a": {"d": None, "c": True}})
    assert list(value) == ["a", "b"] and list(value["a"]) == ["c", "d"] and list(value["b"][0]) == ["a", "z"]


def test_compact_sorts_keys_compact_ordered_keeps_them() -> None:
    value = {"version": "1.0.0", "packageName": "foo"}
    assert compact(value) == b'{"packageName":"foo","version":"1.0.0"}'
    assert compact_ordered(value) == b'{"version":"1.0.0","packageName":"foo"}'


def test_escaping_catalog_output_vs_json_marshal() -> None:
    value = {"s": "<a & b>\u2028é"}
    assert compact(value) == '{"s":"<a & b>\\u2028é"}'.encode()
    assert marshal_html(value) == '{"s":"\\u003ca \\u0026 b\\u003e\\u2028é"}'.encode()
    assert compact({"s": HtmlStr(">=1.0")}) == b'{"s":"\\u003e=1.0"}'
    assert compact({"s": "\x1b\b\f\n"}) == b'{"s":"\\u001b\\b\\f\\n"}'


def test_indent_is_four_spaces_like_go_set_indent() -> None:
    assert dumps_indented({"a": [1, {"b": []}], "c": {}}) == (
        b'{\n    "a": [\n        1,\n        {\n            "b": []\n        }\n    ],\n    "c": {}\n}'
    )


def test_gofloat_is_still_a_float() -> None:
    f = normalize(0.5)
    assert isinstance(f, GoFloat) and f == 0.5
