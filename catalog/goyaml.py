"""YAML with the semantics of go-yaml v2 (what opm reads and writes through ``sigs.k8s.io/yaml``).

Loading uses libyaml's C parser (``yaml.CSafeLoader``) with go-yaml v2's scalar resolution instead of
PyYAML's YAML 1.1 tables: ``y``/``n``/``yes``/``on``/... are booleans, numbers follow Go's
``strconv.ParseInt(s, 0, 64)`` / ``ParseFloat`` after underscores are dropped (``1e3`` is a number,
``1:20`` a string), and timestamps stay strings.

Dumping (:func:`dump_documents`) mirrors ``yaml.JSONToYAML``: keys sorted, block style, sequences
not indented under their key, strings with a newline as literal blocks, strings that go-yaml would
read back as something else double-quoted, width 80, unicode kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import yaml

from catalog.jsonutil import go_g

__all__ = [
    "GoYamlDumper",
    "GoYamlLoader",
    "dump_document",
    "dump_documents",
    "go_yaml_scalar",
    "load_documents",
    "load_one",
]

_BOOL_TRUE = {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"}
_BOOL_FALSE = {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"}
_NULLS = {"", "~", "null", "Null", "NULL"}
_SPECIAL_FLOATS = {
    ".inf": float("inf"),
    ".Inf": float("inf"),
    ".INF": float("inf"),
    "+.inf": float("inf"),
    "+.Inf": float("inf"),
    "+.INF": float("inf"),
    "-.inf": float("-inf"),
    "-.Inf": float("-inf"),
    "-.INF": float("-inf"),
    ".nan": float("nan"),
    ".NaN": float("nan"),
    ".NAN": float("nan"),
}
_YAML_STYLE_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_GO_INT = re.compile(r"^[-+]?(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|0[0-7]*|[1-9][0-9]*)$")
# go-yaml v2's timestamp layouts: "2006-1-2T15:4:5.999999999Z07:00" (also with a lower-case t),
# "2006-1-2 15:4:5.999999999" and "2006-1-2".
_DATE = r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
_TIME = r"[0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(?:\.[0-9]+)?"
_TIMESTAMP = re.compile(rf"^(?:{_DATE}|{_DATE}[Tt]{_TIME}(?:Z|[-+][0-9]{{2}}:[0-9]{{2}})|{_DATE} {_TIME})$")
_BASE60 = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")

_INT64_MIN, _INT64_MAX, _UINT64_MAX = -(2**63), 2**63 - 1, 2**64 - 1


def _parse_go_int(text: str) -> int | None:
    """``strconv.ParseInt(text, 0, 64)`` then ``ParseUint``; None when Go would refuse it."""
    if not _GO_INT.match(text):
        return None
    sign = -1 if text[0] == "-" else 1
    body = text.lstrip("+-")
    if body[:2] in ("0x", "0X"):
        value = int(body[2:], 16)
    elif body[:2] in ("0b", "0B"):
        value = int(body[2:], 2)
    elif body[:2] in ("0o", "0O"):
        value = int(body[2:], 8)
    elif len(body) > 1 and body[0] == "0":
        value = int(body[1:], 8)
    else:
        value = int(body)
    value *= sign
    if _INT64_MIN <= value <= _INT64_MAX:
        return value
    if text[0] not in "+-" and value <= _UINT64_MAX:
        return value
    return None


def go_yaml_scalar(text: str) -> Any:
    """What go-yaml v2 makes of an untagged plain scalar when decoding into ``interface{}``."""
    if text in _NULLS:
        return None
    if text in _BOOL_TRUE:
        return True
    if text in _BOOL_FALSE:
        return False
    if text in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[text]
    first = text[0]
    if first == ".":
        try:
            return float(text) if re.fullmatch(r"\.[0-9]+([eE][-+]?[0-9]+)?", text) else text
        except ValueError:
            return text
    if first.isdigit() or first in "+-":
        plain = text.replace("_", "")
        value = _parse_go_int(plain)
        if value is not None:
            return value
        if _YAML_STYLE_FLOAT.match(plain):
            try:
                return float(plain)
            except ValueError:
                return text
        if plain.startswith(("0b", "-0b")):
            try:
                return int(plain.replace("0b", "", 1), 2)
            except ValueError:
                return text
    return text


class GoYamlLoader(yaml.CSafeLoader):
    """libyaml's parser, go-yaml v2's idea of what a plain scalar is."""


# Plain scalars that go-yaml might read as something other than a string get this tag (see _resolve)
# and go through one constructor that applies go-yaml's rules.
_PLAIN_TAG = "tag:go-yaml,v2:plain"


def _go_key(key: Any) -> str:
    """The JSON key ``sigs.k8s.io/yaml`` makes of a YAML mapping key."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int):
        return str(key)
    if isinstance(key, float):
        return _go_g_float(float(f"{key:.7g}"))
    raise yaml.constructor.ConstructorError(None, None, f"unsupported map key of type: {type(key).__name__}")


def _construct_mapping(loader: GoYamlLoader, node: yaml.MappingNode) -> dict[str, Any]:
    out: dict[str, Any] = {}
    _fill_mapping(loader, node, out)  # go-yaml's merge keys, not PyYAML's
    return out


def _construct_plain(loader: GoYamlLoader, node: yaml.ScalarNode) -> Any:
    return go_yaml_scalar(node.value)


def _construct_bool(loader: GoYamlLoader, node: yaml.ScalarNode) -> Any:
    value = go_yaml_scalar(node.value)
    return value if isinstance(value, bool) else node.value


def _construct_int(loader: GoYamlLoader, node: yaml.ScalarNode) -> Any:
    value = go_yaml_scalar(node.value)
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else node.value


def _construct_null(loader: GoYamlLoader, node: yaml.ScalarNode) -> Any:
    return None


def _construct_timestamp(loader: GoYamlLoader, node: yaml.ScalarNode) -> Any:
    return node.value


GoYamlLoader.add_constructor(_PLAIN_TAG, _construct_plain)
GoYamlLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
GoYamlLoader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)
GoYamlLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
GoYamlLoader.add_constructor("tag:yaml.org,2002:float", _construct_int)
GoYamlLoader.add_constructor("tag:yaml.org,2002:null", _construct_null)
GoYamlLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


_STR_TAG = "tag:yaml.org,2002:str"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"
_PLAIN_FIRST = frozenset("-+.0123456789~nNyYtTfFoO")


def _resolve(self: GoYamlLoader, kind: type, value: str, implicit: tuple[bool, bool]) -> str:
    """Tag of an untagged node: plain scalars that go-yaml might read as non-strings get _PLAIN_TAG."""
    if kind is yaml.ScalarNode:
        if implicit[0] and (not value or value[0] in _PLAIN_FIRST):
            return _PLAIN_TAG
        return _STR_TAG
    return _SEQ_TAG if kind is yaml.SequenceNode else _MAP_TAG


GoYamlLoader.resolve = _resolve  # type: ignore[method-assign]


def _value(loader: GoYamlLoader, node: yaml.Node) -> Any:
    """A composed node as Python data, without PyYAML's generic constructor machinery."""
    cls = type(node)
    if cls is yaml.ScalarNode:
        tag = node.tag
        if tag == _STR_TAG:
            return node.value
        if tag == _PLAIN_TAG:
            return go_yaml_scalar(node.value)
        value = loader.construct_object(node, deep=True)
        if isinstance(value, bytes):  # !!binary: go-yaml hands the decoded bytes over as a string
            return value.decode("utf-8", errors="replace")
        return value
    if cls is yaml.SequenceNode:
        return [_value(loader, n) for n in node.value]
    if node.tag != _MAP_TAG:  # explicitly tagged (!!omap, custom tags): PyYAML's constructors
        return loader.construct_object(node, deep=True)
    out: dict[str, Any] = {}
    _fill_mapping(loader, node, out)
    return out


class GoYamlError(yaml.YAMLError):
    """An error go-yaml raises while decoding (printed as ``yaml: <problem>``, without a line)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


_MERGE_TAG = "tag:yaml.org,2002:merge"
_MERGE_NEEDS_MAP = "map merge requires map or sequence of maps as the value"


def _is_merge_key(node: yaml.Node) -> bool:
    """go-yaml v2's ``isMerge``: a plain ``<<`` (quoted is an ordinary key) or one tagged ``!!merge``."""
    if type(node) is not yaml.ScalarNode or node.value != "<<":
        return False
    return node.tag == _MERGE_TAG or (not node.style and node.tag == _STR_TAG)


def _fill_mapping(loader: GoYamlLoader, node: yaml.MappingNode, out: dict[str, Any]) -> None:
    """go-yaml v2's ``mapping``: pairs set in order, a merge key merging in where it stands (so it
    overrides the keys before it and the keys after it override it)."""
    for key_node, value_node in node.value:
        if _is_merge_key(key_node):
            _merge(loader, value_node, out)
            continue
        out[_go_key(_value(loader, key_node))] = _value(loader, value_node)


def _merge(loader: GoYamlLoader, node: yaml.Node, out: dict[str, Any]) -> None:
    """go-yaml v2's ``merge``: a mapping (or an alias of one), or a sequence of them merged from the
    last to the first, so that earlier ones win."""
    if type(node) is yaml.MappingNode:
        _fill_mapping(loader, node, out)
        return
    if type(node) is not yaml.SequenceNode:
        raise GoYamlError(_MERGE_NEEDS_MAP)
    for child in reversed(node.value):
        if type(child) is not yaml.MappingNode:
            raise GoYamlError(_MERGE_NEEDS_MAP)
        _fill_mapping(loader, child, out)


def load_one(text: str | bytes) -> Any:
    """Parse one YAML document (an empty one is ``None``), go-yaml v2 style."""
    loader = GoYamlLoader(text)
    try:
        node = loader.get_single_node()
        return None if node is None else _value(loader, node)
    finally:
        loader.dispose()


def load_documents(text: str | bytes) -> Iterator[Any]:
    """Parse every document of a YAML stream, go-yaml v2 style."""
    return yaml.load_all(text, Loader=GoYamlLoader)


# --------------------------------------------------------------------------------------------------
# Dumping


_WORDS_NON_STR = _NULLS | _BOOL_TRUE | _BOOL_FALSE | {"<<"}
_NUMERIC_FIRST = frozenset("+-.0123456789")


def _would_resolve_non_string(s: str) -> bool:
    """True when go-yaml v2 would read ``s`` back, unquoted, as something other than a string."""
    if not s or s[0] not in _NUMERIC_FIRST:
        return s in _WORDS_NON_STR
    if s in _SPECIAL_FLOATS:
        return True
    if _TIMESTAMP.match(s) or _BASE60.match(s):
        return True
    return not isinstance(go_yaml_scalar(s), str)


def _go_g_float(f: float) -> str:
    """``strconv.FormatFloat(f, 'g', -1, 64)`` with go-yaml v2's names for infinities and NaN."""
    if f != f:
        return ".nan"
    if f in (float("inf"), float("-inf")):
        return ".inf" if f > 0 else "-.inf"
    return go_g(f)


class GoYamlDumper(yaml.CSafeDumper):
    """libyaml's emitter; nodes come from :func:`_node`, which picks go-yaml v2's scalar styles.

    The emitter writes a scalar plain only if it would resolve back to its own tag, so
    :func:`_dump_resolve` recognizes exactly the forms :func:`_node` writes for non-strings.
    """


_DUMP_FIRST = frozenset("-0123456789.tfn")
_DUMP_FORMS = (
    ("tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$")),
    ("tag:yaml.org,2002:null", re.compile(r"^null$")),
    ("tag:yaml.org,2002:int", re.compile(r"^-?[0-9]+$")),
    ("tag:yaml.org,2002:float", re.compile(r"^(?:-?[0-9]+(?:\.[0-9]*)?(?:e[-+][0-9]+)?|-?\.inf|\.nan)$")),
)


def _dump_resolve(self: GoYamlDumper, kind: type, value: str, implicit: tuple[bool, bool]) -> str:
    """Which tag a scalar would read back as: only the exact forms the node builder writes."""
    if kind is yaml.ScalarNode:
        if implicit[0] and value and value[0] in _DUMP_FIRST:
            for tag, regex in _DUMP_FORMS:
                if regex.match(value):
                    return tag
        return _STR_TAG
    return _SEQ_TAG if kind is yaml.SequenceNode else _MAP_TAG


GoYamlDumper.resolve = _dump_resolve  # type: ignore[method-assign]


def _str_node(data: str) -> yaml.ScalarNode:
    if "\n" in data:
        style = "|"
    elif _would_resolve_non_string(data):
        style = '"'
    else:
        style = None
    return yaml.ScalarNode(_STR_TAG, data, style=style)


def _node(value: Any) -> yaml.Node:
    """The YAML node go-yaml v2 would write for a JSON value (keys sorted, block style)."""
    t = type(value)
    if t is str:
        return _str_node(value)
    if t is dict or isinstance(value, dict):
        return yaml.MappingNode(
            _MAP_TAG, [(_str_node(str(k)), _node(value[k])) for k in sorted(value)], flow_style=not value
        )
    if t is list or isinstance(value, (list, tuple)):
        return yaml.SequenceNode(_SEQ_TAG, [_node(v) for v in value], flow_style=not value)
    if value is None:
        return yaml.ScalarNode("tag:yaml.org,2002:null", "null")
    if t is bool:
        return yaml.ScalarNode("tag:yaml.org,2002:bool", "true" if value else "false")
    if isinstance(value, float):
        return yaml.ScalarNode("tag:yaml.org,2002:float", _go_g_float(value))
    if isinstance(value, int):
        return yaml.ScalarNode("tag:yaml.org,2002:int", str(int(value)))
    if isinstance(value, str):
        return _str_node(str(value))
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def dump_document(value: Any) -> str:
    """One value as ``sigs.k8s.io/yaml.JSONToYAML`` writes it (no ``---`` line)."""
    return yaml.serialize(_node(value), Dumper=GoYamlDumper, allow_unicode=True, width=80, indent=2)


def dump_documents(values: Iterable[Any]) -> Iterator[str]:
    """Each value as one ``---``-prefixed document, as opm's YAML writer prints them."""
    for value in values:
        yield "---\n" + dump_document(value)
