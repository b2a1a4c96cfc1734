"""go-yaml v2 semantics for loading and dumping YAML (what opm reads and writes)."""

from __future__ import annotations

import pytest

from catalog.goyaml import dump_document, go_yaml_scalar, load_documents, load_one


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("y", True),
        ("No", False),
        ("on", True),
        ("~", None),
        ("", None),
        ("1e3", 1000.0),
        ("0x1F", 31),
        ("017", 15),
        ("1_000", 1000),
        (".5", 0.5),
        ("08", 8.0),
        ("1:20", "1:20"),
        ("2021-10-13", "2021-10-13"),
        ("1.0.0", "1.0.0"),
        ("+1", 1),
        ("v1", "v1"),
    ],
)
def test_plain_scalars_resolve_as_go_yaml_v2(text: str, value: object) -> None:
    assert go_yaml_scalar(text) == value
    assert type(go_yaml_scalar(text)) is type(value)


def test_loader_keeps_quoted_strings_and_converts_keys_like_sigs_yaml() -> None:
    assert load_one('a: "y"\n1: x\ntrue: z\nb: 2021-10-13T10:00:00Z\n') == {
        "a": "y",
        "1": "x",
        "true": "z",
        "b": "2021-10-13T10:00:00Z",
    }


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("true", '"true"'),
        ("y", '"y"'),
        ("1.0", '"1.0"'),
        ("0x10", '"0x10"'),
        ("2021-10-13", '"2021-10-13"'),
        ("2021-10-13T10:00:00", "2021-10-13T10:00:00"),
        ("2021-10-13T10:00:00Z", '"2021-10-13T10:00:00Z"'),
        ("1:20", '"1:20"'),
        ("", '""'),
        ("plain words", "plain words"),
        ("[DEPRECATED] x", "'[DEPRECATED] x'"),
        ("a: b", "'a: b'"),
        ("tail ", "'tail '"),
    ],
)
def test_strings_are_quoted_exactly_when_go_yaml_quotes_them(value: str, text: str) -> None:
    assert dump_document({"k": value}) == f"k: {text}\n"


def test_block_layout_sorted_keys_literal_blocks_and_numbers() -> None:
    assert dump_document({"z": [{"b": 1, "a": "x\ny"}], "a": 1.5, "m": None, "e": [], "f": {}}) == (
        "a: 1.5\ne: []\nf: {}\nm: null\nz:\n- a: |-\n    x\n    y\n  b: 1\n"
    )


def test_long_strings_fold_at_80_columns() -> None:
    text = dump_document({"d": " ".join(["word"] * 30)})
    assert max(len(line) for line in text.splitlines()) <= 82 and text.count("\n") > 1


def test_floats_use_gos_shortest_g_format() -> None:
    assert dump_document({"a": 1234567.5, "b": 0.5, "c": 1e-7}) == "a: 1.2345675e+06\nb: 0.5\nc: 1e-07\n"


def test_merge_keys_as_go_yaml_v2_reads_them() -> None:
    # A merge sets its keys where it stands: it overrides the keys before it, later keys override it.
    text = "base: &b {x: 1, z: 2}\nm:\n  x: 9\n  <<: *b\n  z: 3\n"
    assert load_one(text)["m"] == {"x": 1, "z": 3}
    assert next(iter(load_documents(text)))["m"] == {"x": 1, "z": 3}
    # A sequence of maps: earlier ones win.
    assert load_one("m:\n  <<: [{a: 1}, {a: 2, b: 2}]\n")["m"] == {"a": 1, "b": 2}
    # A quoted "<<" is an ordinary key; !!merge is a merge.
    assert load_one('m:\n  "<<": {a: 1}\n')["m"] == {"<<": {"a": 1}}
    assert load_one("m:\n  !!merge <<: {a: 1}\n")["m"] == {"a": 1}


def test_a_merge_of_no_map_is_go_yamls_error() -> None:
    from catalog.errors import CatalogError
    from catalog.load import load_bytes

    for text in (b"schema: x.y\n<<: 5\n", b"schema: x.y\n<<: [{a: 1}, 2]\n"):
        with pytest.raises(CatalogError) as info:
            load_bytes(text)
        assert str(info.value) == (
            "error converting YAML to JSON: yaml: map merge requires map or sequence of maps as the value"
        )
