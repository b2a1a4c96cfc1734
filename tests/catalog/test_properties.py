"""catalog.properties: typed property reading with Go's decoding errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.declcfg import Property
from catalog.properties import (
    GVK,
    MISSING,
    PackageProperty,
    PackageRequired,
    PropertyParseError,
    parse_properties,
)


def test_parse_by_type() -> None:
    props = parse_properties(
        [
            Property("olm.gvk", {"group": "g", "kind": "K", "version": "v1"}),
            Property("olm.gvk.required", {"group": "h", "kind": "L", "version": "v2"}),
            Property("olm.package", {"packageName": "foo", "version": "1.0.0", "release": "2"}),
            Property("olm.package.required", {"packageName": "bar", "versionRange": ">=1.0.0"}),
            Property("olm.bundle.object", {"data": "eyJraW5kIjoiQ1NWIn0="}),
            Property("olm.csv.metadata", {"displayName": "Foo"}),
            Property("olm.channel", {"channelName": "alpha", "priority": 2}),
            Property("olm.maxOpenShiftVersion", "4.12"),
        ]
    )
    assert props.gvks == [GVK("g", "K", "v1")]
    assert props.gvks_required == [GVK("h", "L", "v2")]
    assert props.packages == [PackageProperty("foo", "1.0.0", "2")]
    assert props.packages_required == [PackageRequired("bar", ">=1.0.0")]
    assert props.bundle_objects == ["eyJraW5kIjoiQ1NWIn0="]  # kept as base64 text
    assert props.csv_metadatas == [{"displayName": "Foo"}]
    assert props.channels == [("alpha", 2)]
    assert [p.type for p in props.others] == ["olm.maxOpenShiftVersion"]


def test_keys_match_case_insensitively_last_sorted_key_wins() -> None:
    props = parse_properties(
        [Property("olm.package", {"PackageName": "a", "packagename": "b", "Version": "1.0.0"})]
    )
    assert props.packages == [PackageProperty("b", "1.0.0")]


def test_null_values_decode_to_zero_values() -> None:
    props = parse_properties([Property("olm.package", None), Property("olm.gvk", {"group": None})])
    assert props.packages == [PackageProperty("", "")]
    assert props.gvks == [GVK("", "", "")]


@pytest.mark.parametrize(
    ("prop", "error"),
    [
        (
            Property("olm.package", {"packageName": "foo", "version": 1}),
            "json: cannot unmarshal number into Go struct field Package.version of type string",
        ),
        (
            Property("olm.package", "foo"),
            "json: cannot unmarshal string into Go value of type property.Package",
        ),
        (
            Property("olm.gvk", [1]),
            "json: cannot unmarshal array into Go value of type property.GVK",
        ),
        (
            Property("olm.package.required", {"versionRange": True}),
            "json: cannot unmarshal bool into Go struct field PackageRequired.versionRange of type string",
        ),
        (
            Property("olm.bundle.object", {"data": {}}),
            "json: cannot unmarshal object into Go struct field BundleObject.data of type []uint8",
        ),
        (
            Property("olm.channel", {"priority": 1.5}),
            "json: cannot unmarshal number 1.5 into Go struct field Channel.priority of type int",
        ),
        (
            Property("olm.csv.metadata", {"installModes": [{"supported": "yes", "type": "OwnNamespace"}]}),
            "json: cannot unmarshal string into Go struct field "
            "InstallMode.installModes.supported of type bool",
        ),
        (
            Property("olm.csv.metadata", {"keywords": "k"}),
            "json: cannot unmarshal string into Go struct field CSVMetadata.keywords of type []string",
        ),
        (
            Property("olm.csv.metadata", {"annotations": {"b": 1, "a": 2}}),
            "json: cannot unmarshal number into Go struct field CSVMetadata.annotations.a of type string",
        ),
        (
            Property(
                "olm.csv.metadata", {"crdDescriptions": {"owned": [{"specDescriptors": [{"path": 3}]}]}}
            ),
            "json: cannot unmarshal number into Go struct field "
            "SpecDescriptor.crdDescriptions.owned.specDescriptors.path of type string",
        ),
        (
            Property(
                "olm.csv.metadata", {"apiServiceDefinitions": {"owned": [{"containerPort": 99999999999}]}}
            ),
            "json: cannot unmarshal number 99999999999 into Go "
            "struct field APIServiceDescription.apiServiceDefinitions.owned.containerPort of type int32",
        ),
        (
            Property("olm.foo", MISSING),
            "unexpected end of JSON input",
        ),
    ],
)
def test_parse_errors(prop: Property, error: str) -> None:
    with pytest.raises(PropertyParseError) as exc:
        parse_properties([prop])
    assert str(exc.value) == f'parse property[0] of type "{prop.type}": {error}'


def test_error_names_the_index_of_the_first_bad_property() -> None:
    with pytest.raises(PropertyParseError) as exc:
        parse_properties([Property("olm.gvk", {}), Property("olm.gvk", 3), Property("olm.package", 4)])
    assert exc.value.index == 1
    assert str(exc.value).startswith('parse property[1] of type "olm.gvk"')


def test_value_nested_errors_come_in_sorted_key_order() -> None:
    with pytest.raises(PropertyParseError) as exc:
        parse_properties([Property("olm.csv.metadata", {"maturity": 1, "keywords": 2})])
    assert "CSVMetadata.keywords" in str(exc.value)


_KEYS = st.sampled_from(
    ["packageName", "PackageName", "version", "release", "versionRange", "group", "Group", "kind"]
)
_KEYS = st.one_of(_KEYS, st.sampled_from(["data", "DATA", "other", "channelName"]))
_SCALARS = st.one_of(st.none(), st.text(max_size=3), st.integers(-3, 3), st.booleans())
_VALUES = st.one_of(
    _SCALARS, st.dictionaries(_KEYS, st.one_of(_SCALARS, st.lists(_SCALARS, max_size=2)), max_size=4)
)
_TYPES = st.sampled_from(
    ["olm.gvk", "olm.gvk.required", "olm.package", "olm.package.required", "olm.bundle.object"]
)


@settings(max_examples=300)
@given(st.lists(st.tuples(_TYPES, _VALUES), max_size=4))
def test_the_fast_path_reads_what_the_go_type_walk_reads(items: list) -> None:
    import catalog.properties as props_module

    props = [Property(t, v) for t, v in items]

    def outcome():
        try:
            return props_module.parse_properties(props)
        except PropertyParseError as exc:
            return str(exc)

    fast = outcome()
    saved = props_module._PLAIN_TYPES
    props_module._PLAIN_TYPES = frozenset()
    try:
        slow = outcome()
    finally:
        props_module._PLAIN_TYPES = saved
    assert fast == slow
