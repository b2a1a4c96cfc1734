"""Typed reading of bundle properties (opm's ``alpha/property``), with Go's decoding errors.

A property value is parsed JSON (see :mod:`catalog.declcfg`). opm decodes the values of the known
types into Go structs with ``encoding/json``; a value of the wrong JSON type fails with Go's
``json: cannot unmarshal ...`` text, wrapped as ``parse property[%d] of type %q: %v``. This module
checks values against the same Go types, so the same catalogs fail with the same words, without
decoding ``olm.bundle.object`` payloads (their base64 text is kept as it is).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from catalog.declcfg import (
    PROP_BUNDLE_OBJECT,
    PROP_CHANNEL,
    PROP_CSV_METADATA,
    PROP_GVK,
    PROP_GVK_REQUIRED,
    PROP_PACKAGE,
    PROP_PACKAGE_REQUIRED,
    Property,
)
from catalog.errors import CatalogError
from catalog.goquote import go_quote
from catalog.jsonutil import MISSING  # a property whose ``value`` is absent: decoding it fails


class PropertyParseError(CatalogError):
    """``parse property[%d] of type %q: %v`` as opm's ``property.ParseError``."""

    def __init__(self, index: int, type_: str, reason: str) -> None:
        self.index, self.type, self.reason = index, type_, reason
        super().__init__(f"parse property[{index}] of type {go_quote(type_)}: {reason}")


# ---------------------------------------------------------------------------------------------
# A small model of Go types, enough to reproduce encoding/json's UnmarshalTypeError texts.


class _TypeError(Exception):
    def __init__(self, what: str, type_name: str, struct: str | None, path: tuple[str, ...]) -> None:
        self.what, self.type_name, self.struct, self.path = what, type_name, struct, path

    def text(self) -> str:
        if self.struct is not None or self.path:
            return (
                f"json: cannot unmarshal {self.what} into Go struct field "
                f"{self.struct or ''}.{'.'.join(self.path)} of type {self.type_name}"
            )
        return f"json: cannot unmarshal {self.what} into Go value of type {self.type_name}"


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


# A Go type is a pair of functions: ``ok(value)`` answers fast whether the value decodes, and
# ``check(value, innermost struct name, field path)`` raises _TypeError on the first mismatch, as Go
# keeps the first error it meets walking the document in (sorted) key order. The slow walk only
# runs for values that are not ok.
_Check = Callable[[Any, "str | None", tuple[str, ...]], None]


@dataclass(frozen=True, slots=True)
class _GoType:
    ok: Callable[[Any], bool]
    check: _Check


def _string(type_name: str = "string") -> _GoType:
    def ok(v: Any) -> bool:
        return v is None or v.__class__ is str

    def check(v: Any, struct: str | None, path: tuple[str, ...]) -> None:
        if not ok(v):
            raise _TypeError(_json_kind(v), type_name, struct, path)

    return _GoType(ok, check)


def _bool() -> _GoType:
    def ok(v: Any) -> bool:
        return v is None or v.__class__ is bool

    def check(v: Any, struct: str | None, path: tuple[str, ...]) -> None:
        if not ok(v):
            raise _TypeError(_json_kind(v), "bool", struct, path)

    return _GoType(ok, check)


def _int(bits: int, type_name: str) -> _GoType:
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1

    def check(v: Any, struct: str | None, path: tuple[str, ...]) -> None:
        if v is None:
            return
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise _TypeError(_json_kind(v), type_name, struct, path)
        if isinstance(v, float) and not v.is_integer():
            raise _TypeError(f"number {_go_number(v)}", type_name, struct, path)
        if not lo <= int(v) <= hi or (isinstance(v, float) and abs(v) >= 1e21):
            raise _TypeError(f"number {_go_number(v)}", type_name, struct, path)

    def ok(v: Any) -> bool:
        try:
            check(v, None, ())
        except _TypeError:
            return False
        return True

    return _GoType(ok, check)


def _go_number(v: float | int) -> str:
    """A number as opm's re-encoding (through float64) writes it."""
    if isinstance(v, int):
        return str(v)
    if v.is_integer() and abs(v) < 1e21:
        return str(int(v))
    r = repr(v)
    if "e" in r:
        mant, exp = r.split("e")
        sign = exp[0] if exp[0] in "+-" else "+"
        digits = exp.lstrip("+-").lstrip("0") or "0"
        r = f"{mant}e{sign}{digits.zfill(2)}"
    return r


def _any() -> _GoType:
    def ok(v: Any) -> bool:
        return True

    def check(v: Any, struct: str | None, path: tuple[str, ...]) -> None:
        return None

    return _GoType(ok, check)


def _slice(elem: _GoType, type_name: str) -> _GoType:
    elem_ok, elem_check = elem.ok, elem.check

    def ok(v: Any) -> bool:
        if v is None:
            return True
        if v.__class__ is not list:
            return False
        return all(map(elem_ok, v))

    def check(v: Any, struct: str | None, path: tuple[str, ...]) -> None:
        if v is None:
            return
        if not isinstance(v, list):
            raise _TypeError(_json_kind(v), type_name, struct, path)
        for item in v:
            elem_check(item, struct, path)

    return _GoType(ok, check)


def _map(elem: _GoType, type_name: str) -> _GoType:
    elem_ok, elem_check = elem.ok, elem.check

    def ok(v: Any) -> bool:
        if v is None:
            return True
        if v.__class__ is not dict:
            return False
        return all(map(elem_ok, v.values()))

    def check(v: Any, struct: str | None, path: tuple[str, ...]) -> None:
        if v is None:
            return
        if not isinstance(v, dict):
            raise _TypeError(_json_kind(v), type_name, struct, path)
        for key in sorted(v):
            elem_check(v[key], struct, (*path, key))

    return _GoType(ok, check)


_S = _string()


def _fold(name: str) -> str:
    return name.lower().upper()


def _struct(name: str, type_name: str, fields: dict[str, _GoType]) -> _GoType:
    exact_ok = {k: t.ok for k, t in fields.items()}
    folded = {_fold(k): (k, t) for k, t in fields.items()}

    def field_ok(key: str, x: Any) -> bool:
        f = exact_ok.get(key)
        if f is None:
            hit = folded.get(_fold(key))
            if hit is None:
                return True  # Go ignores unknown keys
            f = hit[1].ok
        return f(x)

    plain_strings = frozenset(k for k, t in fields.items() if t is _S)
    others_ok = {k: f for k, f in exact_ok.items() if k not in plain_strings}

    def ok(v: Any) -> bool:
        if v is None:
            return True
        if v.__class__ is not dict:
            return False
        for key, x in v.items():
            if key in plain_strings:  # inlined string check: most fields are strings
                if x.__class__ is not str and x is not None:
                    return False
                continue
            f = others_ok.get(key)
            if f is None:
                if not field_ok(key, x):
                    return False
            elif not f(x):
                return False
        return True

    def check(v: Any, struct: str | None, path: tuple[str, ...]) -> None:
        if v is None:
            return
        if not isinstance(v, dict):
            raise _TypeError(_json_kind(v), type_name, struct, path)
        for key in sorted(v):
            t = fields.get(key)
            field_name = key
            if t is None:
                hit = folded.get(_fold(key))
                if hit is None:
                    continue
                field_name, t = hit
            t.check(v[key], name, (*path, field_name))

    return _GoType(ok, check)


_STRINGS = _slice(_S, "[]string")
_STRING_MAP = _map(_S, "map[string]string")


def _descriptor(name: str) -> _GoType:
    return _struct(
        name,
        f"v1alpha1.{name}",
        {
            "path": _S,
            "displayName": _S,
            "description": _S,
            "x-descriptors": _STRINGS,
            "value": _any(),
        },
    )


_RESOURCES = _slice(
    _struct("APIResourceReference", "v1alpha1.APIResourceReference", {"name": _S, "kind": _S, "version": _S}),
    "[]v1alpha1.APIResourceReference",
)
_DESCRIPTORS = {
    "statusDescriptors": _slice(_descriptor("StatusDescriptor"), "[]v1alpha1.StatusDescriptor"),
    "specDescriptors": _slice(_descriptor("SpecDescriptor"), "[]v1alpha1.SpecDescriptor"),
    "actionDescriptors": _slice(_descriptor("ActionDescriptor"), "[]v1alpha1.ActionDescriptor"),
}
_CRD_DESCRIPTION = _struct(
    "CRDDescription",
    "v1alpha1.CRDDescription",
    {
        "name": _S,
        "version": _S,
        "kind": _S,
        "displayName": _S,
        "description": _S,
        "resources": _RESOURCES,
        **_DESCRIPTORS,
    },
)
_API_SERVICE_DESCRIPTION = _struct(
    "APIServiceDescription",
    "v1alpha1.APIServiceDescription",
    {
        "name": _S,
        "group": _S,
        "version": _S,
        "kind": _S,
        "deploymentName": _S,
        "containerPort": _int(32, "int32"),
        "displayName": _S,
        "description": _S,
        "resources": _RESOURCES,
        **_DESCRIPTORS,
    },
)
_APP_LINK = _struct("AppLink", "v1alpha1.AppLink", {"name": _S, "url": _S})

_CHECKERS: dict[str, _GoType] = {
    PROP_PACKAGE: _struct("Package", "property.Package", {"packageName": _S, "version": _S, "release": _S}),
    PROP_PACKAGE_REQUIRED: _struct(
        "PackageRequired", "property.PackageRequired", {"packageName": _S, "versionRange": _S}
    ),
    PROP_GVK: _struct("GVK", "property.GVK", {"group": _S, "kind": _S, "version": _S}),
    PROP_GVK_REQUIRED: _struct(
        "GVKRequired", "property.GVKRequired", {"group": _S, "kind": _S, "version": _S}
    ),
    PROP_BUNDLE_OBJECT: _struct("BundleObject", "property.BundleObject", {"data": _string("[]uint8")}),
    PROP_CHANNEL: _struct("Channel", "property.Channel", {"channelName": _S, "priority": _int(64, "int")}),
    PROP_CSV_METADATA: _struct(
        "CSVMetadata",
        "property.CSVMetadata",
        {
            "annotations": _STRING_MAP,
            "apiServiceDefinitions": _struct(
                "APIServiceDefinitions",
                "v1alpha1.APIServiceDefinitions",
                {
                    "owned": _slice(_API_SERVICE_DESCRIPTION, "[]v1alpha1.APIServiceDescription"),
                    "required": _slice(_API_SERVICE_DESCRIPTION, "[]v1alpha1.APIServiceDescription"),
                },
            ),
            "crdDescriptions": _struct(
                "CustomResourceDefinitions",
                "v1alpha1.CustomResourceDefinitions",
                {
                    "owned": _slice(_CRD_DESCRIPTION, "[]v1alpha1.CRDDescription"),
                    "required": _slice(_CRD_DESCRIPTION, "[]v1alpha1.CRDDescription"),
                },
            ),
            "description": _S,
            "displayName": _S,
            "installModes": _slice(
                _struct(
                    "InstallMode",
                    "v1alpha1.InstallMode",
                    {"type": _string("v1alpha1.InstallModeType"), "supported": _bool()},
                ),
                "[]v1alpha1.InstallMode",
            ),
            "keywords": _STRINGS,
            "labels": _STRING_MAP,
            "links": _slice(_APP_LINK, "[]v1alpha1.AppLink"),
            "maintainers": _slice(
                _struct("Maintainer", "v1alpha1.Maintainer", {"name": _S, "email": _S}),
                "[]v1alpha1.Maintainer",
            ),
            "maturity": _S,
            "minKubeVersion": _S,
            "nativeAPIs": _slice(
                _struct("GroupVersionKind", "v1.GroupVersionKind", {"group": _S, "version": _S, "kind": _S}),
                "[]v1.GroupVersionKind",
            ),
            "provider": _APP_LINK,
        },
    ),
}


def check_value(type_: str, value: Any) -> str | None:
    """Go's decoding error for a property value of a known type, or None when it decodes."""
    if value is MISSING:
        return "unexpected end of JSON input"
    go_type = _CHECKERS.get(type_)
    if go_type is None or go_type.ok(value):
        return None
    try:
        go_type.check(value, None, ())
    except _TypeError as exc:
        return exc.text()
    return None


# ---------------------------------------------------------------------------------------------
# The typed values


def _get(value: Any, name: str) -> Any:
    """Field ``name`` of a decoded Go struct: exact key, else a case-insensitive match."""
    if value.__class__ is not dict:
        return None
    if value.keys() <= _EXACT_NAMES:  # the usual case: no key needs case folding
        return value.get(name)
    want = _fold(name)
    hit = None
    for key in sorted(value):  # opm decodes the re-encoded blob, whose keys are sorted
        if key == name or _fold(key) == want:
            hit = value[key]  # every match sets the field: the last one wins
    return hit


_EXACT_NAMES = frozenset(
    {"packageName", "version", "release", "versionRange", "group", "kind", "data", "channelName", "priority"}
)


_STR_OR_NONE = frozenset({str, type(None)})
_PLAIN_TYPES = frozenset(
    {PROP_GVK, PROP_GVK_REQUIRED, PROP_BUNDLE_OBJECT, PROP_PACKAGE, PROP_PACKAGE_REQUIRED}
)


def _str(value: Any, name: str) -> str:
    v = _get(value, name)
    return v if isinstance(v, str) else ""


@dataclass(frozen=True, slots=True)
class PackageProperty:
    package_name: str
    version: str
    release: str = ""


@dataclass(frozen=True, slots=True)
class PackageRequired:
    package_name: str
    version_range: str


@dataclass(frozen=True, slots=True)
class GVK:
    group: str
    kind: str
    version: str


@dataclass(slots=True)
class Properties:
    """The properties of one bundle by type (opm's ``property.Properties``).

    ``bundle_objects`` holds the base64 text of each ``olm.bundle.object`` (never decoded here) and
    ``csv_metadatas`` the parsed JSON of each ``olm.csv.metadata``; ``others`` every property of
    another type, as it came.
    """

    packages: list[PackageProperty] = field(default_factory=list)
    packages_required: list[PackageRequired] = field(default_factory=list)
    gvks: list[GVK] = field(default_factory=list)
    gvks_required: list[GVK] = field(default_factory=list)
    bundle_objects: list[str] = field(default_factory=list)
    channels: list[tuple[str, int]] = field(default_factory=list)
    csv_metadatas: list[dict[str, Any]] = field(default_factory=list)
    others: list[Property] = field(default_factory=list)


# Loading shares repeated values (catalog.load._Shared): a value object checked once needs no second
# check. Entries hold the value itself, so an id is never reused while it is cached; bounded.
_CHECKED: dict[tuple[int, str], tuple[Any, str | None]] = {}
_CHECKED_MAX = 4096


def _checked(type_: str, value: Any) -> str | None:
    if value.__class__ is not dict:
        return check_value(type_, value)
    key = (id(value), type_)
    hit = _CHECKED.get(key)
    if hit is not None and hit[0] is value:
        return hit[1]
    err = check_value(type_, value)
    if len(_CHECKED) >= _CHECKED_MAX:
        _CHECKED.clear()
    _CHECKED[key] = (value, err)
    return err


def parse_properties(props: list[Property]) -> Properties:
    """Read every property by type; raise :class:`PropertyParseError` on the first bad value."""
    out = Properties()
    for i, prop in enumerate(props):
        t, v = prop.type, prop.value
        if v.__class__ is dict and t in _PLAIN_TYPES and v.keys() <= _EXACT_NAMES:
            # the everyday case, read directly: known keys, and the struct's fields are strings
            if t in (PROP_GVK, PROP_GVK_REQUIRED):
                g, k, ver = v.get("group"), v.get("kind"), v.get("version")
                if _STR_OR_NONE.issuperset((g.__class__, k.__class__, ver.__class__)):
                    (out.gvks if t == PROP_GVK else out.gvks_required).append(
                        GVK(g or "", k or "", ver or "")
                    )
                    continue
            elif t == PROP_BUNDLE_OBJECT:
                data = v.get("data")
                if data.__class__ is str:
                    out.bundle_objects.append(data)
                    continue
            elif t == PROP_PACKAGE:
                n, ver, rel = v.get("packageName"), v.get("version"), v.get("release")
                if _STR_OR_NONE.issuperset((n.__class__, ver.__class__, rel.__class__)):
                    out.packages.append(PackageProperty(n or "", ver or "", rel or ""))
                    continue
            elif t == PROP_PACKAGE_REQUIRED:
                n, rng = v.get("packageName"), v.get("versionRange")
                if _STR_OR_NONE.issuperset((n.__class__, rng.__class__)):
                    out.packages_required.append(PackageRequired(n or "", rng or ""))
                    continue
        err = _checked(t, v)
        if err is not None:
            raise PropertyParseError(i, t, err)
        if t == PROP_PACKAGE:
            out.packages.append(
                PackageProperty(_str(v, "packageName"), _str(v, "version"), _str(v, "release"))
            )
        elif t == PROP_PACKAGE_REQUIRED:
            out.packages_required.append(PackageRequired(_str(v, "packageName"), _str(v, "versionRange")))
        elif t == PROP_GVK:
            out.gvks.append(GVK(_str(v, "group"), _str(v, "kind"), _str(v, "version")))
        elif t == PROP_GVK_REQUIRED:
            out.gvks_required.append(GVK(_str(v, "group"), _str(v, "kind"), _str(v, "version")))
        elif t == PROP_BUNDLE_OBJECT:
            out.bundle_objects.append(_str(v, "data"))
        elif t == PROP_CHANNEL:
            prio = _get(v, "priority")
            out.channels.append((_str(v, "channelName"), int(prio) if isinstance(prio, (int, float)) else 0))
        elif t == PROP_CSV_METADATA:
            out.csv_metadatas.append(v if isinstance(v, dict) else {})
        else:
            out.others.append(prop)
    return out
