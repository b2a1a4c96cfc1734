"""JSON the way Go's ``encoding/json`` writes it, built on orjson.

opm decodes every blob into ``map[string]any`` and encodes it again, so a loaded catalog is in a
canonical shape: object keys sorted, every number a float64 printed by Go's rules, U+2028/U+2029
escaped. :func:`normalize` brings a parsed value into that shape once, at load time; after that the
encoders here only have to keep the order they are given.

* :func:`compact` — opm's canonical compact form (keys sorted), the identity of a property value.
* :func:`compact_ordered` — compact, keys in the order the dicts hold them (what opm does with a
  ``json.RawMessage``).
* :func:`marshal_html` — Go's ``json.Marshal``: keys sorted and ``<``, ``>``, ``&`` escaped, as in
  the ``olm.bundle.object`` payloads of a rendered bundle.
* :func:`indent` — the 4-space indented form ``opm render -o json`` prints.
* :func:`go_fields` — which struct field each key of an object fills when Go decodes it.
* :func:`html_raw` — a raw value as ``json.Marshal`` re-encodes it (keys sorted, HTML escaped).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import orjson

__all__ = [
    "MISSING",
    "GoFloat",
    "HtmlStr",
    "compact",
    "compact_ordered",
    "dumps_indented",
    "go_fields",
    "go_float_text",
    "go_fold",
    "go_g",
    "go_value_text",
    "html_raw",
    "indent",
    "marshal_html",
    "normalize",
]

_MAX_EXACT = 2**53
_INF = float("inf")
_HTML = re.compile(rb"[<>&]|\xe2\x80[\xa8\xa9]")
_HTML_ESCAPES = {
    b"<": b"\\u003c",
    b">": b"\\u003e",
    b"&": b"\\u0026",
    "\u2028".encode(): b"\\u2028",
    "\u2029".encode(): b"\\u2029",
}
_INDENT = re.compile(rb"\n( +)")


MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()
"""A value whose key is absent altogether, as Go's nil ``json.RawMessage``: it encodes as ``null``,
but decoding it fails (``unexpected end of JSON input``)."""


class GoFloat(float):
    """A float64 that is not a whole number, or too big for an int64: printed as Go prints it."""

    __slots__ = ()


class HtmlStr(str):
    """A string that Go had already encoded with HTML escaping (``<`` as ``\\u003c``) inside a raw
    JSON value opm copies verbatim: written back with those escapes."""

    __slots__ = ()


def go_float_text(f: float) -> str:
    """Go's ``encoding/json`` text for a float64 (``'f'`` format, ``'e'`` outside [1e-6, 1e21))."""
    if f != f or f in (float("inf"), float("-inf")):
        raise ValueError(f"json: unsupported value: {f!r}")
    a = abs(f)
    if a != 0 and (a < 1e-6 or a >= 1e21):
        text = repr(f)
        if "e" not in text:  # repr may use fixed notation where Go switches to exponent form
            digits, exp10 = _shortest(f)
            mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
            text = f"{'-' if f < 0 else ''}{mant}e{exp10}"
        mant, exp = text.split("e")
        sign, num = (exp[0], exp[1:]) if exp[0] in "+-" else ("+", exp)
        num = num.lstrip("0") or "0"
        if sign == "+" and len(num) < 2:
            num = num.rjust(2, "0")
        return f"{mant}e{sign}{num}"
    if f == 0:
        return "-0" if str(f).startswith("-") else "0"
    text = format(Decimal(repr(f)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _number(value: float | int) -> Any:
    """Map a parsed number to the value Go's float64 round trip gives."""
    if isinstance(value, int):
        if -_MAX_EXACT <= value <= _MAX_EXACT:
            return value
        value = float(value)
    if value != value or value in (_INF, -_INF):
        raise ValueError(
            f"json: unsupported value: {'NaN' if value != value else ('+Inf' if value > 0 else '-Inf')}"
        )
    if value == 0 and str(value).startswith("-"):
        return GoFloat(value)
    if value.is_integer() and abs(value) < 1e21:
        if abs(value) <= _MAX_EXACT:
            return int(value)
        if abs(value) < 2**63:
            return int(Decimal(repr(value)))  # Go prints the shortest digits, padded with zeros
    return GoFloat(value)


def normalize(value: Any) -> Any:
    """Return ``value`` as opm's decode/encode round trip leaves it: keys sorted, numbers float64."""
    t = type(value)
    if t is str or t is bool or value is None:
        return value
    if t is dict:
        if len(value) == 1:  # the common {"data": "..."} of olm.bundle.object
            for k, v in value.items():
                tv = type(v)
                return {k: v if tv is str else normalize(v)}
        keys = list(value)
        if keys == sorted(keys):  # already canonical if every value is a plain scalar
            for v in value.values():
                if not (v.__class__ is str or v.__class__ is bool or v is None):
                    break
            else:
                return value
        return {k: normalize(value[k]) for k in sorted(keys)}
    if t is list:
        return [normalize(v) for v in value]
    if t is int or t is float:
        return _number(value)
    if isinstance(value, GoFloat):
        return value
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return _number(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dict):
        return {str(k): normalize(value[k]) for k in sorted(value)}
    if isinstance(value, (list, tuple)):
        return [normalize(v) for v in value]
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def _default(obj: Any) -> Any:
    if obj is MISSING:
        return None
    if isinstance(obj, GoFloat):
        return orjson.Fragment(go_float_text(obj).encode())
    if isinstance(obj, HtmlStr):
        return orjson.Fragment(_html_escape(orjson.dumps(str(obj))))
    if isinstance(obj, str):
        return str(obj)
    if isinstance(obj, bool):
        return bool(obj)
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, dict):
        return dict(obj)
    if isinstance(obj, (tuple, list)):
        return list(obj)
    raise TypeError(f"not a JSON value: {type(obj).__name__}")


def _html_escape(data: bytes) -> bytes:
    return _HTML.sub(lambda m: _HTML_ESCAPES[m.group(0)], data)


# Every encoder passes subclasses (HtmlStr) to _default.
_OPTS = orjson.OPT_PASSTHROUGH_SUBCLASS


def _escape_ls_ps(data: bytes) -> bytes:
    if b"\xe2\x80" in data:
        data = data.replace("\u2028".encode(), b"\\u2028").replace("\u2029".encode(), b"\\u2029")
    return data


def compact(value: Any) -> bytes:
    """opm's canonical compact JSON of a value: keys sorted, no HTML escaping, Go number format."""
    return _escape_ls_ps(orjson.dumps(value, default=_default, option=_OPTS | orjson.OPT_SORT_KEYS))


def compact_ordered(value: Any) -> bytes:
    """Compact JSON keeping dict order (how opm re-emits a ``json.RawMessage``)."""
    return _escape_ls_ps(orjson.dumps(value, default=_default, option=_OPTS))


def marshal_html(value: Any) -> bytes:
    """Go's ``json.Marshal``: keys sorted, compact, ``<``, ``>``, ``&``, U+2028/9 escaped."""
    return _html_escape(orjson.dumps(value, default=_default, option=_OPTS | orjson.OPT_SORT_KEYS))


def html_raw(value: Any) -> Any:
    """A raw JSON value as Go's ``json.Marshal`` leaves it: keys sorted, strings HTML-escaped."""
    if isinstance(value, str):
        return HtmlStr(value)
    if isinstance(value, dict):
        return {k: html_raw(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [html_raw(v) for v in value]
    return value


def go_fold(s: str) -> str:
    """Fold case for comparing a JSON key with a Go struct field name."""
    return s.lower() if s.isascii() else s.casefold()


_FIELD_SETS: dict[tuple[str, ...], frozenset[str]] = {}


def go_fields(obj: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """Go's ``encoding/json`` field matching of ``obj`` against struct fields ``names``.

    A key fills the field of its exact name, else the field it equals case-insensitively; keys are
    taken in sorted order, so of several matching the last wins; unmatched keys are dropped.
    """
    exact = _FIELD_SETS.get(names)
    if exact is None:
        exact = _FIELD_SETS[names] = frozenset(names)
    if obj.keys() <= exact:
        return obj
    by_fold = {go_fold(n): n for n in names}
    out: dict[str, Any] = {}
    for key in sorted(obj):
        field = key if key in exact else by_fold.get(go_fold(key))
        if field is not None:
            out[field] = obj[key]
    return out


def _double(m: re.Match[bytes]) -> bytes:
    return b"\n" + m.group(1) * 2


def indent(data: bytes) -> bytes:
    """Turn orjson's 2-space indented output into Go's ``SetIndent("", "    ")`` form."""
    return _INDENT.sub(_double, data)


def dumps_indented(value: Any) -> bytes:
    """One value as ``json.Encoder`` with 4-space indent and no HTML escaping writes it (no newline)."""
    return _escape_ls_ps(indent(orjson.dumps(value, default=_default, option=_OPTS | orjson.OPT_INDENT_2)))


def go_value_text(value: Any) -> str:
    """Go's ``%v`` of a decoded JSON value (used inside opm's error messages)."""
    if value is None:
        return "<nil>"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return go_g(float(value))
    if isinstance(value, dict):
        inner = " ".join(f"{k}:{go_value_text(value[k])}" for k in sorted(value))
        return f"map[{inner}]"
    if isinstance(value, list):
        return "[" + " ".join(go_value_text(v) for v in value) + "]"
    return str(value)


def go_type_text(value: Any) -> str:
    """The Go type name ``fmt`` prints for a decoded JSON value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "map[string]interface {}"
    return "[]interface {}"


def go_g(f: float) -> str:
    """``strconv.FormatFloat(f, 'g', -1, 64)``: what ``%v`` and ``%g`` print for a float64."""
    if f == 0:
        return "-0" if str(f).startswith("-") else "0"
    digits, exp = _shortest(f)
    sign = "-" if f < 0 else ""
    if exp < -4 or exp >= 6:  # Go decides with precision 6 when printing the shortest digits
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        es = "-" if exp < 0 else "+"
        return f"{sign}{mant}e{es}{abs(exp):02d}"
    if exp >= len(digits) - 1:
        return sign + digits + "0" * (exp - len(digits) + 1)
    if exp >= 0:
        return sign + digits[: exp + 1] + "." + digits[exp + 1 :]
    return sign + "0." + "0" * (-exp - 1) + digits


def _shortest(f: float) -> tuple[str, int]:
    """Shortest round-trip decimal digits of ``|f|`` and the decimal exponent of the first digit."""
    text = repr(abs(f))
    mant, _, exp = text.partition("e")
    e = int(exp) if exp else 0
    if "." in mant:
        whole, frac = mant.split(".")
    else:
        whole, frac = mant, ""
    if frac == "0":
        frac = ""
    digits = (whole + frac).lstrip("0")
    if whole.strip("0"):
        exp10 = e + len(whole.lstrip("0")) - 1
    else:
        exp10 = e - (len(frac) - len(frac.lstrip("0"))) - 1
    return digits.rstrip("0") or "0", exp10
