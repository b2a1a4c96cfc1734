"""Files opm cannot decode: Go's json.Decoder and go-yaml's words, as opm v1.73.0 prints them.

Messages from ``load_fs`` carry the file name in front (opm names no file); opm's text follows whole.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.decode_errors import go_indent, pretty_error
from catalog.errors import CatalogError
from catalog.gojson_scan import first_error, quote_char
from catalog.load import load_bytes, load_fs

PKG = b'{"schema": "olm.package", "name": "a", "defaultChannel": "stable"}\n'


def _error(data: bytes) -> str:
    with pytest.raises(CatalogError) as info:
        load_bytes(data)
    return str(info.value)


def test_a_json_value_cut_short_is_unexpected_eof() -> None:
    assert _error(b'{"schema": "olm.package", "name": "fo') == "unexpected EOF"
    assert _error(PKG + b'{"schema": "olm.channel", "entries": [') == "unexpected EOF"


def test_a_json_syntax_error_names_the_offset_of_the_byte() -> None:
    # The offset counts every byte of the stream up to and including the offending '}'.
    data = b'{"schema": "olm.package", "name": "a", "defaultChannel": "stable"]'
    assert data.index(b"]") + 1 == 66
    assert _error(data) == "json: offset 66: invalid character ']' after object key:value pair"
    # In the second value: the offset runs on from the first (a YAML reading fails there too).
    second = PKG + b'{"schema": "olm.channel", "name": ]}\n'
    assert len(PKG) + len(b'{"schema": "olm.channel", "name": ]') == 102
    assert _error(second) == "json: offset 102: invalid character ']' looking for beginning of value"
    assert _error(b'{"schema": "olm.package", "name": "a", "x": tru ]}') == (
        "json: offset 48: invalid character ' ' in literal true (expecting 'e')"
    )


def test_after_two_good_values_the_message_is_bare() -> None:
    # apimachinery stops wrapping once the stream is surely JSON (more than one value read).
    data = PKG + PKG.replace(b'"a"', b'"b"') + b'{"schema": }\n'
    assert _error(data) == "invalid character '}' looking for beginning of value"


def test_yaml_syntax_errors_are_go_yamls_with_its_line_numbers() -> None:
    # Parser errors count lines from 0 in go-yaml, scanner errors from 1.
    assert _error(b"schema: olm.package\nname: [a, b\n") == (
        "error converting YAML to JSON: yaml: line 2: did not find expected ',' or ']'"
    )
    assert _error(b"schema: olm.package\n  name: a\n") == (
        "error converting YAML to JSON: yaml: line 2: mapping values are not allowed in this context"
    )
    assert _error(b"schema: olm.package\nentries:\n- a\nname: x\n- b\n") == (
        "error converting YAML to JSON: yaml: line 4: did not find expected key"
    )
    # At the end of a last line without a newline libyaml has moved on to the next line.
    assert _error(b"[a, b") == "error converting YAML to JSON: yaml: line 1: did not find expected ',' or ']'"
    # On the first line go-yaml gives no line at all.
    assert (
        _error(b"a: b: c\n")
        == "error converting YAML to JSON: yaml: mapping values are not allowed in this context"
    )


def test_an_alias_to_no_anchor() -> None:
    assert _error(b"schema: olm.package\nname: *n\n") == (
        "error converting YAML to JSON: yaml: unknown anchor 'n' referenced"
    )


def test_a_yaml_document_that_is_no_object() -> None:
    assert _error(b"[1, 2]\n") == (
        "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type "
        "map[string]interface {} at offset 1 (indicated by <==)\n[ <== \n    1,\n    2\n]"
    )
    assert _error(b"- name: a\n") == (
        "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type "
        'map[string]interface {} at offset 1 (indicated by <==)\n[ <== \n    {\n        "name": "a"\n    }\n]'
    )
    assert _error(b"42\n") == (
        "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number into Go value of type "
        "map[string]interface {} at offset 2 (indicated by <==)\n42 <=="
    )
    assert _error(b"just text\n") == (
        "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go value of type "
        'map[string]interface {} at offset 11 (indicated by <==)\n"just text" <=='
    )


def test_a_json_value_that_is_no_object_comes_bare() -> None:
    assert _error(PKG + b"[1, 2]\n") == (
        "json: cannot unmarshal array into Go value of type map[string]interface {} at offset 1 "
        "(indicated by <==)\n[ <== \n    1,\n    2\n]"
    )
    assert _error(PKG + b"true\n") == (
        "json: cannot unmarshal bool into Go value of type map[string]interface {} at offset 4 "
        "(indicated by <==)\ntrue <=="
    )


@pytest.mark.parametrize(
    "data",
    [b"# only a comment\n", b"   \n\n", b"---\n", b"schema: olm.package\nname: a\n---\n# nothing\n"],
)
def test_empty_yaml_documents_are_empty_blobs(data: bytes) -> None:
    assert _error(data) == "object '' is missing root schema field"


def test_an_empty_file_holds_nothing() -> None:
    assert load_bytes(b"").packages == []


def test_load_fs_puts_the_file_name_in_front(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "catalog.json").write_bytes(b'{"schema": "olm.package", "name": "fo')
    with pytest.raises(CatalogError) as info:
        load_fs(tmp_path)
    assert str(info.value) == f"{tmp_path / 'a' / 'catalog.json'}: unexpected EOF"
    (tmp_path / "a" / "catalog.json").write_bytes(b"schema: olm.package\nname: [a, b\n")
    with pytest.raises(CatalogError) as info:
        load_fs(tmp_path)
    assert str(info.value) == (
        f"{tmp_path / 'a' / 'catalog.json'}: error converting YAML to JSON: yaml: line 2: "
        "did not find expected ',' or ']'"
    )


def test_errors_come_in_document_order() -> None:
    # opm decodes and adds one document at a time: the first bad document is the one reported.
    data = b"schema: olm.package\nSchema: x\n---\nname: [a\n"
    assert _error(data) == (
        'error unmarshaling JSON: while decoding JSON: duplicate keys for key "schema": [Schema schema]'
    )


def test_a_flow_mapping_file_is_yaml_after_all() -> None:
    # Starts with '{' but is no JSON: apimachinery tries YAML, which reads it.
    cfg = load_bytes(b"{schema: olm.package, name: a, defaultChannel: stable}\n")
    assert [p.name for p in cfg.packages] == ["a"]


def test_go_indent_and_marker() -> None:
    assert go_indent(b'{"a":[1,{}],"b":[],"c":"x, y: [z]"}') == (
        b'{\n    "a": [\n        1,\n        {}\n    ],\n    "b": [],\n    "c": "x, y: [z]"\n}'
    )
    # The marker goes before the pretty byte that follows the last matched one: here the space.
    assert pretty_error(b'{"a":1}', "boom", 5) == 'boom at offset 5 (indicated by <==)\n{\n    "a": <==  1\n}'
    assert pretty_error(b"", "boom", 0) == "boom"


def test_scanner_reports_like_go() -> None:
    err = first_error(b'{"a": "\x01"}')
    assert err is not None and (err.message, err.offset) == ("invalid character '\\x01' in string literal", 8)
    assert first_error(b'{"a": 1}\n{"b": 2}\n') is None
    assert quote_char(ord("'")) == "'\\''"
    assert quote_char(ord('"')) == "'\"'"
    assert quote_char(0xC3) == "'Ã'"
    assert quote_char(0xA0) == "'\\u00a0'"


def test_nan_is_no_json() -> None:
    # Go's scanner refuses the literal; YAML then reads the line as a flow mapping holding "NaN".
    assert _error(b'{"schema": "x.y", "a": NaN]') == (
        "json: offset 24: invalid character 'N' looking for beginning of value"
    )
    assert load_bytes(b'{"schema": "x.y", "a": NaN}').others[0].blob == {"a": "NaN", "schema": "x.y"}


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"schema: \x01\n", "control characters are not allowed"),
        (b"schema: \xff\n", "invalid leading UTF-8 octet"),
    ],
)
def test_bytes_yaml_cannot_read(data: bytes, problem: str) -> None:
    assert _error(data) == f"error converting YAML to JSON: yaml: {problem}"
