"""The ``olm.csv.metadata`` property value built from a ClusterServiceVersion, as opm builds it.

opm decodes the CSV JSON into operator-framework/api's ``v1alpha1.ClusterServiceVersion`` and
re-encodes a subset of it (``property.CSVMetadata``). The value therefore follows those Go structs:
their field order, ``omitempty`` (struct-typed fields are always written, e.g.
``"apiServiceDefinitions": {}``), case-insensitive field matching on decode, and the descriptor
``value`` fields kept as the raw (HTML-escaped) JSON they were.
"""

from __future__ import annotations

from typing import Any

from catalog.errors import CatalogError
from catalog.jsonutil import go_fields, html_raw

__all__ = ["csv_metadata_value"]

# A field: (json name, kind, omitempty). Kinds: "str", "bool", "int", "raw", "strlist",
# "strmap", ("list", STRUCT), ("struct", STRUCT).
_Struct = tuple[tuple[str, Any, bool], ...]

_GVK: _Struct = (("group", "str", False), ("version", "str", False), ("kind", "str", False))
_APP_LINK: _Struct = (("name", "str", True), ("url", "str", True))
_MAINTAINER: _Struct = (("name", "str", True), ("email", "str", True))
_INSTALL_MODE: _Struct = (("type", "str", False), ("supported", "bool", False))
_RESOURCE_REF: _Struct = (("name", "str", False), ("kind", "str", False), ("version", "str", False))
_DESCRIPTOR: _Struct = (
    ("path", "str", False),
    ("displayName", "str", True),
    ("description", "str", True),
    ("x-descriptors", "strlist", True),
    ("value", "raw", True),
)
_DESCRIPTOR_LISTS: _Struct = (
    ("resources", ("list", _RESOURCE_REF), True),
    ("statusDescriptors", ("list", _DESCRIPTOR), True),
    ("specDescriptors", ("list", _DESCRIPTOR), True),
    ("actionDescriptors", ("list", _DESCRIPTOR), True),
)
_CRD_DESCRIPTION: _Struct = (
    ("name", "str", False),
    ("version", "str", False),
    ("kind", "str", False),
    ("displayName", "str", True),
    ("description", "str", True),
    *_DESCRIPTOR_LISTS,
)
_API_SERVICE_DESCRIPTION: _Struct = (
    ("name", "str", False),
    ("group", "str", False),
    ("version", "str", False),
    ("kind", "str", False),
    ("deploymentName", "str", True),
    ("containerPort", "int", True),
    ("displayName", "str", True),
    ("description", "str", True),
    *_DESCRIPTOR_LISTS,
)
_CRDS: _Struct = (
    ("owned", ("list", _CRD_DESCRIPTION), True),
    ("required", ("list", _CRD_DESCRIPTION), True),
)
_API_SERVICES: _Struct = (
    ("owned", ("list", _API_SERVICE_DESCRIPTION), True),
    ("required", ("list", _API_SERVICE_DESCRIPTION), True),
)


def _type_error(value: Any, path: str, gotype: str) -> CatalogError:
    kind = {str: "string", bool: "bool", dict: "object", list: "array"}.get(type(value), "number")
    return CatalogError(f"json: cannot unmarshal {kind} into Go struct field {path} of type {gotype}")


def _decode(kind: Any, value: Any, path: str) -> Any:
    """Decode ``value`` as the Go type ``kind`` and return what Go would encode back (or None = zero)."""
    if value is None:
        return None
    if kind == "str":
        if not isinstance(value, str):
            raise _type_error(value, path, "string")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise _type_error(value, path, "bool")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise _type_error(value, path, "int32")
        return value
    if kind == "raw":
        return html_raw(value)
    if kind == "strlist":
        if not isinstance(value, list):
            raise _type_error(value, path, "[]string")
        return [_decode("str", v, path) or "" for v in value]
    if kind == "strmap":
        if not isinstance(value, dict):
            raise _type_error(value, path, "map[string]string")
        return {k: _decode("str", value[k], path) or "" for k in sorted(value)}
    tag, struct = kind
    if tag == "list":
        if not isinstance(value, list):
            raise _type_error(value, path, "[]" + path.rsplit(".", 1)[-1])
        return [_encode_struct(struct, v, path) for v in value]
    return _encode_struct(struct, value, path)


def _is_empty(kind: Any, value: Any) -> bool:
    if isinstance(kind, tuple) and kind[0] == "struct":
        return False  # encoding/json never omits a struct
    if value is None:
        return True
    return value in ("", False, 0) or (isinstance(value, (list, dict)) and not value)


def _zero(kind: Any) -> Any:
    if kind == "str":
        return ""
    if kind == "bool":
        return False
    if kind == "int":
        return 0
    if isinstance(kind, tuple) and kind[0] == "struct":
        return _encode_struct(kind[1], {}, "")
    return None


def _encode_struct(struct: _Struct, value: Any, path: str) -> dict[str, Any]:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise _type_error(value, path, "struct")
    fields = go_fields(value, tuple(f[0] for f in struct))
    out: dict[str, Any] = {}
    for name, kind, omitempty in struct:
        decoded = _decode(kind, fields.get(name), f"{path}.{name}" if path else name)
        if omitempty and _is_empty(kind, decoded):
            continue
        out[name] = _zero(kind) if decoded is None else decoded
    return out


def csv_metadata_value(csv: dict[str, Any]) -> dict[str, Any]:
    """``property.MustBuildCSVMetadata`` of a CSV manifest (parsed JSON), in Go field order."""
    top = go_fields(csv, ("metadata", "spec"))
    meta = top.get("metadata") or {}
    spec = top.get("spec") or {}
    if not isinstance(meta, dict) or not isinstance(spec, dict):
        raise CatalogError("json: cannot unmarshal CSV: metadata and spec must be objects")
    meta = go_fields(meta, ("annotations", "labels"))
    spec = go_fields(
        spec,
        (
            "apiservicedefinitions",
            "customresourcedefinitions",
            "description",
            "displayName",
            "installModes",
            "keywords",
            "links",
            "maintainers",
            "maturity",
            "minKubeVersion",
            "nativeAPIs",
            "provider",
        ),
    )
    fields: tuple[tuple[str, Any, bool, Any, str], ...] = (
        ("annotations", "strmap", True, meta.get("annotations"), "ObjectMeta.metadata.annotations"),
        (
            "apiServiceDefinitions",
            ("struct", _API_SERVICES),
            True,
            spec.get("apiservicedefinitions"),
            "ClusterServiceVersionSpec.spec.apiservicedefinitions",
        ),
        (
            "crdDescriptions",
            ("struct", _CRDS),
            True,
            spec.get("customresourcedefinitions"),
            "ClusterServiceVersionSpec.spec.customresourcedefinitions",
        ),
        ("description", "str", True, spec.get("description"), "ClusterServiceVersionSpec.spec.description"),
        ("displayName", "str", True, spec.get("displayName"), "ClusterServiceVersionSpec.spec.displayName"),
        (
            "installModes",
            ("list", _INSTALL_MODE),
            True,
            spec.get("installModes"),
            "InstallMode.spec.installModes",
        ),
        ("keywords", "strlist", True, spec.get("keywords"), "ClusterServiceVersionSpec.spec.keywords"),
        ("labels", "strmap", True, meta.get("labels"), "ObjectMeta.metadata.labels"),
        ("links", ("list", _APP_LINK), True, spec.get("links"), "AppLink.spec.links"),
        ("maintainers", ("list", _MAINTAINER), True, spec.get("maintainers"), "Maintainer.spec.maintainers"),
        ("maturity", "str", True, spec.get("maturity"), "ClusterServiceVersionSpec.spec.maturity"),
        (
            "minKubeVersion",
            "str",
            True,
            spec.get("minKubeVersion"),
            "ClusterServiceVersionSpec.spec.minKubeVersion",
        ),
        ("nativeAPIs", ("list", _GVK), True, spec.get("nativeAPIs"), "GroupVersionKind.spec.nativeAPIs"),
        ("provider", ("struct", _APP_LINK), True, spec.get("provider"), "AppLink.spec.provider"),
    )
    out: dict[str, Any] = {}
    for name, kind, omitempty, raw, path in fields:
        decoded = _decode(kind, raw, path)
        if omitempty and _is_empty(kind, decoded):
            continue
        out[name] = _zero(kind) if decoded is None else decoded
    return out
