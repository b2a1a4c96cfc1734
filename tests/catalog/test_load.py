"""Loading catalogs as opm's declcfg.LoadFS does: sniffing, .indexignore, keys, typed blobs, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog import declcfg as d
from catalog.errors import CatalogError
from catalog.load import catalog_files, load_bytes, load_file, load_fs
from catalog.write import to_json_bytes


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.mark.parametrize("name", ["community-v4.20", "community-v4.16-sample"])
def test_real_catalogs_load(testdata: Path, name: str) -> None:
    root = testdata / "catalogs" / name
    cfg = load_fs(root)
    dirs = sorted(p.name for p in root.iterdir() if p.is_dir())
    names = {p.name for p in cfg.packages}
    assert len(names) == len(cfg.packages) == len(dirs)
    assert len(cfg.bundles) == {"community-v4.20": 803, "community-v4.16-sample": 30}[name]
    assert all(b.package in names and b.name and b.properties for b in cfg.bundles)
    assert all(c.entries for c in cfg.channels)


def test_json_stream_of_concatenated_objects_with_or_without_newlines() -> None:
    docs = (
        b'{"schema":"olm.package","name":"a"}{"schema":"olm.package","name":"b"}\n'
        b'  {"schema":"olm.package",\n"name":"c"}'
    )
    assert [p.name for p in load_bytes(docs).packages] == ["a", "b", "c"]


def test_yaml_multi_document_and_sniffing_only_by_the_first_byte(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "a/catalog.txt": "---\nschema: olm.package\nname: a\n---\n"
            "schema: olm.channel\npackage: a\nname: s\nentries:\n- name: a.v1\n",
            "b/README": '   \n {"schema": "olm.package", "name": "b"}',
        },
    )
    cfg = load_fs(tmp_path)
    assert [p.name for p in cfg.packages] == ["a", "b"]
    assert cfg.channels[0].entries == [d.ChannelEntry("a.v1")]


def test_yaml_values_follow_go_yaml_v2_not_yaml_1_1_of_pyyaml() -> None:
    cfg = load_bytes(
        b"schema: my.thing\ndate: 2021-10-13\nyes: y\nnum: 1e3\nhex: 0x1F\nsexa: 1:20\nver: 1.0\n"
    )
    assert cfg.others[0].blob == {
        "date": "2021-10-13",
        "hex": 31,
        "num": 1000,
        "schema": "my.thing",
        "sexa": "1:20",
        "true": True,
        "ver": 1,
    }


def test_case_insensitive_meta_keys_and_struct_fields() -> None:
    cfg = load_bytes(
        b"Schema: olm.bundle\nNAME: b.v1\nPackage: b\nImage: quay.io/b:1\n"
        b"Properties:\n- Type: olm.package\n  Value: {packageName: b, version: 1.0.0}\n"
        b"---\nschema: custom.one\nPackage: b\nName: nm\n"
    )
    b = cfg.bundles[0]
    assert (b.name, b.package, b.image) == ("b.v1", "b", "quay.io/b:1")
    assert b.properties == [d.Property("olm.package", {"packageName": "b", "version": "1.0.0"})]
    assert (cfg.others[0].package, cfg.others[0].name) == ("b", "nm")


def test_property_values_are_key_sorted_like_opms_meta_reencoding() -> None:
    cfg = load_bytes(
        b'{"schema":"olm.bundle","name":"x","properties":[{"type":"t","value":{"z":1,"a":{"y":2,"b":3}}}]}'
    )
    value = cfg.bundles[0].properties[0].value
    assert list(value) == ["a", "z"] and list(value["a"]) == ["b", "y"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"foo: bar\n", 'object \'{"foo":"bar"}\n\' is missing root schema field'),
        # A YAML document is converted to JSON and then decoded: those errors come wrapped.
        (b"# only a comment\n", "object '' is missing root schema field"),
        (b"schema: olm.package\nname: a\n---\n\n", "object '' is missing root schema field"),
        (
            b"schema: a\nSchema: b\n",
            'error unmarshaling JSON: while decoding JSON: duplicate keys for key "schema": [Schema schema]',
        ),
        (
            b"schema: 1\n",
            "error unmarshaling JSON: while decoding JSON: "
            'expected value for key "schema" to be a string, got %!t(float64=1): 1',
        ),
        (b'{"schema": 1}', 'expected value for key "schema" to be a string, got %!t(float64=1): 1'),
        (b'{"schema": "x.y"}\nnull\n', "object 'null\n' is missing root schema field"),
        (
            b"schema: olm.package\nname: a\ndefaultChannel: [a]\n",
            "parse package: json: cannot unmarshal array into Go struct field "
            "Package.defaultChannel of type string",
        ),
        (
            b"schema: olm.channel\nname: c\nentries: [{name: 1}]\n",
            "parse channel: json: cannot unmarshal number into Go struct field "
            "ChannelEntry.entries.name of type string",
        ),
        (
            b"schema: olm.bundle\nproperties: {}\n",
            "parse bundle: json: cannot unmarshal object into Go struct field "
            "Bundle.properties of type []property.Property",
        ),
        (
            b"schema: olm.deprecations\nentries: x\n",
            "parse deprecation: json: cannot unmarshal string into Go struct field "
            "Deprecation.entries of type []declcfg.DeprecationEntry",
        ),
        (b"---x\n", "invalid Yaml document separator: x"),
        (
            b'{"schema":"olm.bundle","name":"b","package":"p",'
            b'"properties":[{"type":"olm.bundle.object","value":{"data":"!!"}}]}',
            'read bundle objects: package "p", bundle "b": parse property at index 0 as bundle object: '
            "illegal base64 data at input byte 0",
        ),
    ],
)
def test_load_errors_carry_opms_text(data: bytes, message: str) -> None:
    with pytest.raises(CatalogError) as info:
        load_bytes(data)
    assert str(info.value) == message


def test_a_broken_file_aborts_the_whole_load_with_one_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"a/catalog.yaml": "schema: olm.package\nname: a\n", "b/catalog.json": '{"schema": "olm.package",'},
    )
    with pytest.raises(CatalogError) as info:
        load_fs(tmp_path)
    assert "b/catalog.json" in str(info.value) and "\n" not in str(info.value)


def test_indexignore_at_any_level(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            ".indexignore": "README.md\n/docs/\n*.bak\n",
            "README.md": "not a catalog",
            "docs/x.yaml": "oops",
            "a/catalog.yaml": "schema: olm.package\nname: a\n",
            "a/catalog.yaml.bak": "broken",
            "a/.indexignore": "notes*\n!notes-keep.yaml\n",
            "a/notes.txt": "broken",
            "a/notes-keep.yaml": "schema: olm.package\nname: kept\n",
            "b/notes.txt": "schema: olm.package\nname: b\n",
        },
    )
    rel = [p.relative_to(tmp_path).as_posix() for p in catalog_files(tmp_path)]
    assert rel == ["a/catalog.yaml", "a/notes-keep.yaml", "b/notes.txt"]
    assert [p.name for p in load_fs(tmp_path).packages] == ["a", "kept", "b"]


def test_without_indexignore_every_file_is_tried(tmp_path: Path) -> None:
    write(tmp_path, {"a/catalog.yaml": "schema: olm.package\nname: a\n", "README.md": "# Catalog\n"})
    with pytest.raises(CatalogError, match="missing root schema field"):
        load_fs(tmp_path)


def test_missing_root_and_file_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="no such file or directory"):
        load_fs(tmp_path / "nope")
    with pytest.raises(CatalogError, match="no such file or directory"):
        load_file(tmp_path / "nope.yaml")


def test_null_entries_and_icon_survive_a_round_trip() -> None:
    data = (
        b'{"schema":"olm.channel","name":"c","package":"p","entries":null}\n'
        b'{"schema":"olm.package","name":"p","defaultChannel":"c","icon":{"base64data":"aGk=","mediatype":"image/png"}}'
    )
    cfg = load_bytes(data)
    assert cfg.channels[0].entries is None
    assert cfg.packages[0].icon == d.Icon("aGk=", "image/png")
    assert to_json_bytes(load_bytes(to_json_bytes(cfg))) == to_json_bytes(cfg)


def test_a_file_starting_with_a_brace_that_is_not_json_is_read_as_yaml() -> None:
    cfg = load_bytes(b"{schema: olm.package, name: flow}\n---\nschema: olm.package\nname: block\n")
    assert [p.name for p in cfg.packages] == ["flow", "block"]


def test_json_stream_written_by_other_tools_with_blank_lines_and_odd_spacing() -> None:
    data = b'{"schema":"olm.package","name":"a"}\n\n\n{"schema":"olm.package","name":"b"} \n {"schema":"x.y"}'
    cfg = load_bytes(data)
    assert [p.name for p in cfg.packages] == ["a", "b"] and cfg.others[0].schema == "x.y"


def test_others_keep_every_field_and_deprecations_are_typed() -> None:
    cfg = load_bytes(
        b"schema: olm.deprecations\npackage: p\nentries:\n- reference: {schema: olm.bundle, name: p.v1}\n"
        b"  message: gone\n---\nschema: vendor.custom\npackage: p\nnested: {b: 1, a: [x, 2.50]}\n"
    )
    dep = cfg.deprecations[0]
    assert dep.entries == [d.DeprecationEntry(d.PackageScopedReference("olm.bundle", "p.v1"), "gone")]
    assert cfg.others[0].blob == {
        "nested": {"a": ["x", 2.5], "b": 1},
        "package": "p",
        "schema": "vendor.custom",
    }
    out = to_json_bytes(cfg)
    assert to_json_bytes(load_bytes(out)) == out


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"schema: x.y\nb: .nan\n", "error converting YAML to JSON: json: unsupported value: NaN"),
        (b"schema: x.y\nb: -.inf\n", "error converting YAML to JSON: json: unsupported value: -Inf"),
        (b"schema: x.y\nb: !!set {a: null}\n", "error converting YAML to JSON: not a JSON value: set"),
    ],
)
def test_yaml_values_json_cannot_hold_are_one_line_errors(data: bytes, message: str) -> None:
    with pytest.raises(CatalogError) as info:
        load_bytes(data)
    assert str(info.value) == message


def test_yaml_binary_becomes_a_string_as_in_go_yaml() -> None:
    assert load_bytes(b"schema: x.y\nb: !!binary aGk=\n").others[0].blob["b"] == "hi"


_NO_VALUE = (
    b'{"schema":"olm.package","name":"p","defaultChannel":"c"}\n'
    b'{"schema":"olm.channel","package":"p","name":"c","entries":[{"name":"p.v1.0.0"}]}\n'
    b'{"schema":"olm.bundle","package":"p","name":"p.v1.0.0","image":"r/p:1","properties":['
    b'{"type":"olm.package","value":{"packageName":"p","version":"1.0.0"}},'
    b'{"type":"my.custom"%s}]}\n'
)


@pytest.mark.parametrize("value", [b"", b',"value":null'])
def test_a_property_without_value_fails_validation_as_opm(value: bytes) -> None:
    """No ``value`` key: opm loads it (writes it back as null) but fails to parse it at validate;
    an explicit null parses."""
    from catalog.validate import validate_config
    from catalog.write import to_yaml_text

    cfg = load_bytes(_NO_VALUE % value)
    assert b'{\n            "type": "my.custom",\n            "value": null\n' in to_json_bytes(cfg)
    assert "  value: null\n" in to_yaml_text(cfg)
    if value:
        validate_config(cfg)
        return
    with pytest.raises(CatalogError) as info:
        validate_config(cfg)
    assert str(info.value) == (
        'parse properties for bundle "p.v1.0.0": '
        'parse property[1] of type "my.custom": unexpected end of JSON input'
    )


def test_a_bundle_object_without_value_fails_the_load() -> None:
    data = b'{"schema":"olm.bundle","name":"b","package":"p","properties":[{"type":"olm.bundle.object"}]}'
    with pytest.raises(CatalogError) as info:
        load_bytes(data)
    assert str(info.value) == (
        'read bundle objects: package "p", bundle "b": parse property at index 0 as bundle object: '
        "unexpected end of JSON input"
    )


def test_negative_zero_stays_negative_as_go_float64_keeps_it() -> None:
    data = b'{"schema":"x.custom","name":"n","value":[-0, 0, -0.0],"date":"2024-01 -0"}\n'
    out = to_json_bytes(load_bytes(data))
    assert b'"value": [\n        -0,\n        0,\n        -0\n    ]' in out
    assert to_json_bytes(load_bytes(out)) == out


def test_repeated_property_values_are_one_object_within_a_load(tmp_path):
    """The same bundle in two packages (as in the catalog of every OpenShift version): its property
    values are loaded once and shared; the values equal what a separate load gives."""
    payload = "eyJraW5kIjogIkNsdXN0ZXJTZXJ2aWNlVmVyc2lvbiJ9" * 10
    metadata = {"displayName": "Op", "annotations": {"b": "2", "a": "1"}, "keywords": ["x"],
                "provider": {"name": "p"}, "maturity": "stable", "description": "d"}  # fmt: skip
    for pkg in ("op-v412", "op-v413"):
        blobs = [
            {"schema": "olm.package", "name": pkg},
            {"schema": "olm.bundle", "name": "op.v1.0.0", "package": pkg, "image": "quay.io/op:1",
             "properties": [{"type": "olm.package", "value": {"packageName": pkg, "version": "1.0.0"}},
                            {"type": "olm.bundle.object", "value": {"data": payload}},
                            {"type": "olm.csv.metadata", "value": metadata}]},
        ]  # fmt: skip
        (tmp_path / pkg).mkdir()
        (tmp_path / pkg / "catalog.json").write_text("\n".join(json.dumps(b) for b in blobs))
    cfg = load_fs(tmp_path)
    first, second = (b.properties for b in cfg.bundles)
    assert first[1].value is second[1].value and first[2].value is second[2].value
    assert first[0].value is not second[0].value  # different package names
    alone = load_file(tmp_path / "op-v413" / "catalog.json").bundles[0].properties
    assert [(p.type, p.value) for p in alone] == [(p.type, p.value) for p in second]
    assert list(second[2].value["annotations"]) == ["a", "b"]  # normalized: keys sorted
