"""Lifting bundle-object payloads for loads that only validate: same outcome, never fooled."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from catalog import declcfg as d
from catalog.errors import CatalogError
from catalog.load import add_document, catalog_files, parse_documents, shared_values
from catalog.object_lift import lift_bundle_objects, plausible_base64, stand_ins_in_place
from catalog.validate import validate_config


def _payload(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _bundle(properties: list[dict], name: str = "a.v1") -> dict:
    return {"schema": "olm.bundle", "name": name, "package": "a", "image": "r/a:1", "properties": properties}


def _object(data: object) -> dict:
    return {"type": "olm.bundle.object", "value": {"data": data}}


def _stream(*docs: dict) -> bytes:
    """A JSON stream as opm writes one (indented, one blob after another)."""
    return b"".join(json.dumps(doc, indent=4).encode() + b"\n" for doc in docs)


def _load(data: bytes, lift: bool) -> d.DeclarativeConfig:
    cfg = d.DeclarativeConfig()
    with shared_values():
        for obj in parse_documents(data, "catalog.json", lift_objects=lift):
            add_document(cfg, obj)
    return cfg


def _outcome(data: bytes, lift: bool) -> str:
    """What loading and validating gives: the error's text, or the bundles' names."""
    try:
        cfg = _load(data, lift)
        validate_config(cfg)
    except CatalogError as exc:
        return f"error: {exc}"
    return "ok: " + ",".join(b.name for b in cfg.bundles)


def _without_payloads(docs: list) -> list:
    """The documents with every bundle object's payload blanked (what lifting may change)."""
    out = json.loads(json.dumps(docs))
    for doc in out:
        for prop in doc.get("properties", []) if isinstance(doc, dict) else []:
            if prop.get("type") == "olm.bundle.object":
                prop["value"]["data"] = ""
    return out


def test_plausible_base64_follows_padding_rules() -> None:
    assert plausible_base64(b"QUJD") and plausible_base64(b"QUI=") and plausible_base64(b"QQ==")
    assert plausible_base64(b"")
    assert not plausible_base64(b"QUJ")  # not a multiple of four
    assert not plausible_base64(b"Q===") and not plausible_base64(b"Q=JD")  # padding inside or too long
    assert not plausible_base64(b"QU-D") and not plausible_base64(b"QU\\/")


@pytest.mark.parametrize("entry", ["a.v1", "a.v0"])
def test_payloads_are_lifted_and_the_rest_parses_the_same(entry: str) -> None:
    data = _stream(
        {"schema": "olm.package", "name": "a", "defaultChannel": "stable"},
        {"schema": "olm.channel", "package": "a", "name": "stable", "entries": [{"name": entry}]},
        _bundle([{"type": "olm.package", "value": {"packageName": "a", "version": "1.0.0"}},
                 _object(_payload('{"kind":"ClusterServiceVersion"}')), _object(_payload("x" * 1000))]),
    )  # fmt: skip
    lifted, count = lift_bundle_objects(data)
    assert count == 2 and len(lifted) < len(data) - 1000
    docs = parse_documents(data, lift_objects=True)
    assert _without_payloads(docs) == _without_payloads(parse_documents(data))
    payloads = [p["value"]["data"] for p in docs[2]["properties"] if p["type"] == "olm.bundle.object"]
    assert all(len(p) == 32 and plausible_base64(p.encode()) for p in payloads)
    # valid, or the same error (the bundle is in no channel)
    assert _outcome(data, True) == _outcome(data, False)
    assert _outcome(data, False).startswith("ok: a.v1" if entry == "a.v1" else "error: ")


@pytest.mark.parametrize(
    "payload",
    ["not base64!", "QUJ", "Q===", 17, None, "QUJD\\n"],
    ids=["alphabet", "length", "padding", "number", "null", "escape"],
)
def test_a_payload_the_fast_test_refuses_stays_and_fails_as_before(payload: object) -> None:
    data = _stream({"schema": "olm.package", "name": "a"}, _bundle([_object(payload)]))
    assert lift_bundle_objects(data)[1] == 0
    assert _outcome(data, True) == _outcome(data, False)


def test_the_pattern_inside_a_string_is_caught_and_the_original_parsed() -> None:
    # The type's text closes a string here, and a "value"/"data" pair follows inside another
    # property's value: the span found is no bundle object's payload, so nothing may change.
    data = (
        b'{"schema": "olm.package", "name": "a"}\n'
        b'{"schema": "olm.bundle", "name": "a.v1", "package": "a", "image": "r/a:1", "properties": ['
        b'{"type": "olm.package", "value": {"packageName": "a", "version": "1.0.0"}},'
        b'{"type": "custom", "value": {"note": "x\\"olm.bundle.object", "value": {"data": "QUJD"}}}]}\n'
    )
    assert lift_bundle_objects(data)[1] == 1
    assert parse_documents(data, lift_objects=True) == parse_documents(data)


def test_a_lifted_payload_shadowed_by_a_later_key_is_caught() -> None:
    # Go (and orjson) keep the last of two equal keys: the lifted first one never reaches the loader.
    data = (
        b'{"schema": "olm.package", "name": "a"}\n'
        b'{"schema": "olm.bundle", "name": "a.v1", "package": "a", "image": "r/a:1", "properties": ['
        b'{"type": "olm.bundle.object", "value": {"data": "QUJD", "data": 5}}]}\n'
    )
    assert lift_bundle_objects(data)[1] == 1
    assert parse_documents(data, lift_objects=True) == parse_documents(data)
    assert _outcome(data, True) == _outcome(data, False) and "cannot unmarshal number" in _outcome(
        data, False
    )


def test_keys_that_go_could_match_another_way_make_the_stand_ins_not_count() -> None:
    doc = _bundle([_object("QUJD")])
    docs = parse_documents(json.dumps(doc).encode(), lift_objects=True)
    assert docs[0]["properties"][0]["value"]["data"] != "QUJD"  # lifted
    doc["Properties"] = []  # the loader might read this one: no stand-in may count
    data = json.dumps(doc).encode()
    lifted, count = lift_bundle_objects(data)
    assert count == 1 and not stand_ins_in_place(parse_documents(lifted), count)
    assert parse_documents(data, lift_objects=True) == parse_documents(data)


def test_yaml_files_are_parsed_as_ever() -> None:
    data = (
        b"schema: olm.bundle\nname: a.v1\nproperties:\n- type: olm.bundle.object\n  value:\n    data: QUJD\n"
    )
    assert parse_documents(data, lift_objects=True) == parse_documents(data)


def test_a_real_catalog_loads_and_validates_the_same_lifted(testdata: Path) -> None:
    root = testdata / "sqlite" / "migrated-expected"  # opm's JSON, with bundle objects
    lifted_files = 0
    plain, lifted = d.DeclarativeConfig(), d.DeclarativeConfig()
    with shared_values():
        for path in catalog_files(root):
            data = path.read_bytes()
            lifted_files += lift_bundle_objects(data)[1] > 0
            for obj in parse_documents(data, str(path)):
                add_document(plain, obj)
            for obj in parse_documents(data, str(path), lift_objects=True):
                add_document(lifted, obj)
    assert lifted_files == 3
    validate_config(lifted)
    assert [(b.package, b.name, b.image, len(b.properties)) for b in lifted.bundles] == [
        (b.package, b.name, b.image, len(b.properties)) for b in plain.bundles
    ]
    assert [c.name for c in lifted.channels] == [c.name for c in plain.channels]


def test_invalid_catalogs_fail_with_the_same_words_lifted(testdata: Path) -> None:
    cases = sorted(p for p in (testdata / "validate").iterdir() if (p / "catalog").is_dir())
    assert cases
    for case in cases:
        outcomes = set()
        for lift in (False, True):
            try:
                cfg = d.DeclarativeConfig()
                with shared_values():
                    for path in catalog_files(case / "catalog"):
                        for obj in parse_documents(path.read_bytes(), str(path), lift_objects=lift):
                            add_document(cfg, obj)
                validate_config(cfg)
                outcomes.add("valid")
            except CatalogError as exc:
                outcomes.add(str(exc))
        assert len(outcomes) == 1, case.name
