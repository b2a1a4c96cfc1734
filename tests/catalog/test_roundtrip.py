"""Property-based: whatever loads, writes back idempotently, and its YAML form loads to the same blobs."""

from __future__ import annotations

import json

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.errors import CatalogError
from catalog.load import load_bytes
from catalog.write import to_json_bytes, to_yaml_text

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    # -0.0 becomes 0.0: opm's YAML output loses the sign (JSON keeps it; see test_load).
    st.floats(allow_nan=False, allow_infinity=False).map(lambda f: f + 0.0),
    st.text(max_size=12),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
_blob = st.fixed_dictionaries(
    {
        "schema": st.sampled_from(
            ["olm.package", "olm.channel", "olm.bundle", "olm.deprecations", "x.custom"]
        ),
        "name": st.text(max_size=6),
        "package": st.text(max_size=6),
    },
    optional={
        "properties": st.lists(
            st.fixed_dictionaries({"type": st.text(max_size=8), "value": _values}), max_size=3
        ),
        "extra": _values,
        "entries": st.lists(
            st.fixed_dictionaries(
                {"name": st.text(max_size=5)}, optional={"skips": st.lists(st.text(max_size=4), max_size=2)}
            ),
            max_size=2,
        ),
    },
)
_noise = st.lists(
    st.sampled_from(
        [*"{}[]:,\"'-#\n \t!&*?|>%@`ayn01.eE+~\\", "schema", "olm.package", "name", "---", "null"]
    ),
    max_size=40,
).map("".join)


@settings(max_examples=300, suppress_health_check=list(HealthCheck), deadline=None)
@given(st.lists(_blob, min_size=1, max_size=3), st.booleans())
def test_load_write_round_trip(blobs: list[dict], as_yaml: bool) -> None:
    if as_yaml:
        data = yaml.safe_dump_all(blobs, allow_unicode=True).encode()
    else:
        data = "".join(json.dumps(b, ensure_ascii=False) + "\n" for b in blobs).encode()
    try:
        cfg = load_bytes(data)
    except CatalogError:
        return
    out = to_json_bytes(cfg)
    assert to_json_bytes(load_bytes(out)) == out
    assert to_json_bytes(load_bytes(to_yaml_text(cfg).encode())) == out


@settings(max_examples=300, suppress_health_check=list(HealthCheck), deadline=None)
@given(_noise)
def test_any_input_loads_or_fails_with_a_catalog_error(text: str) -> None:
    try:
        load_bytes(text.encode())
    except CatalogError as exc:
        assert str(exc)
