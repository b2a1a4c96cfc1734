"""opm's messages for catalog files it cannot decode, in the words of the Go libraries that print them.

opm reads a file with apimachinery's ``YAMLOrJSONDecoder``: a JSON stream through Go's
``json.Decoder`` (syntax errors as ``json: offset N: ...``, or bare after two good values; a value
cut short as ``unexpected EOF``), YAML documents through ``sigs.k8s.io/yaml`` (go-yaml's
``yaml: line N: ...`` wrapped in ``error converting YAML to JSON: ``, and the errors of decoding
the converted JSON into a blob wrapped in ``error unmarshaling JSON: while decoding JSON: ``). A
blob that is not a JSON object is refused by ``json.Unmarshal`` into a map, which opm prints with
the document, pretty-printed, and a ``<==`` marker at the offset (opm's ``prettyunmarshaler``).

The loader keeps a decode failure in a file's list of documents (:class:`DecodeFailure`) and stops
reading that file there, so errors come out in the order opm meets them.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from catalog.gojson_scan import first_error
from catalog.jsonutil import marshal_html, normalize

YAML_TO_JSON = "error converting YAML to JSON: "
UNMARSHALING = "error unmarshaling JSON: while decoding JSON: "
MAP_TYPE = "map[string]interface {}"
MARKER = " <=="
EMPTY_BLOB = "object '' is missing root schema field"


class DecodeFailure:
    """A document opm could not decode: the error it prints, raised when the loader reaches it."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


class EmptyYamlDocument:
    """A YAML document holding nothing (blank or only comments): opm decodes it to an empty blob."""

    __slots__ = ()


EMPTY_YAML_DOCUMENT = EmptyYamlDocument()


# -- JSON streams ------------------------------------------------------------------------------------


def json_stream_error(data: bytes) -> str | None:
    """What ``YAMLOrJSONDecoder`` says about the first JSON syntax error of ``data`` (None if none).

    apimachinery wraps a syntax error as ``json: offset N: <msg>`` while the stream may still turn
    out to be YAML (at most one value read), and passes the bare message on after that.
    """
    err = first_error(data)
    if err is None:
        return None
    if err.offset is None:
        return "unexpected EOF"
    if err.values > 1:
        return err.message
    return f"json: offset {err.offset}: {err.message}"


# -- blobs that are not objects ------------------------------------------------------------------------


def go_indent(data: bytes, indent: bytes = b"    ") -> bytes:
    """Go's ``json.Indent(dst, data, "", indent)`` of valid JSON: one member per line, ``{}``/``[]``
    kept together, string bytes copied as they are."""
    out = bytearray()
    depth = 0
    in_string = escaped = False
    pending_open = False  # an opening bracket whose newline waits for the next token
    for byte in data:
        c = bytes((byte,))
        if in_string:
            out += c
            if escaped:
                escaped = False
            elif c == b"\\":
                escaped = True
            elif c == b'"':
                in_string = False
            continue
        if c in b" \t\r\n":
            continue
        if pending_open and c not in b"]}":
            out += b"\n" + indent * depth
        if c in b"[{":
            out += c
            depth += 1
            pending_open = True
            continue
        if c in b"]}":
            depth -= 1
            if not pending_open:
                out += b"\n" + indent * depth
            pending_open = False
            out += c
            continue
        pending_open = False
        if c == b",":
            out += b",\n" + indent * depth
        elif c == b":":
            out += b": "
        else:
            if c == b'"':
                in_string = True
            out += c
    return bytes(out)


def pretty_error(data: bytes, message: str, offset: int) -> str:
    """opm's ``JSONUnmarshalError.Pretty()``: the message, the offset and the indented document with
    `` <== `` where the offset falls."""
    if not data or offset < 0 or offset > len(data):
        return message
    head = f"{message} at offset {offset} (indicated by{MARKER})\n"
    pretty = go_indent(data)
    if offset == len(data):
        return head + pretty.decode("utf-8", errors="replace") + MARKER
    p_index = p_offset = 0
    for d_index, b in enumerate(data):
        if d_index == offset:
            p_offset = p_index
            break
        while pretty[p_index] != b:
            p_index += 1
            if p_index >= len(pretty):
                return message
        p_index += 1
    text = pretty[:p_offset] + f"{MARKER} ".encode() + pretty[p_offset:]
    return head + text.decode("utf-8", errors="replace")


_KINDS = {list: "array", str: "string", bool: "bool"}


def _json_kind(value: Any) -> str:
    return _KINDS.get(type(value), "number")


def non_object_error(value: Any, *, from_yaml: bool) -> str:
    """opm's refusal of a document that is a JSON array, string, number or boolean.

    ``from_yaml``: the document was YAML, converted to compact JSON by ``sigs.k8s.io/yaml``, and
    the error comes wrapped; in a JSON stream it comes bare.
    """
    try:
        data = marshal_html(normalize(value))
    except (TypeError, ValueError):
        data = b""
    kind = _json_kind(value)
    offset = 1 if kind == "array" else len(data)
    message = pretty_error(data, f"json: cannot unmarshal {kind} into Go value of type {MAP_TYPE}", offset)
    return UNMARSHALING + message if from_yaml else message


# -- YAML ------------------------------------------------------------------------------------------------

_ANCHOR = re.compile(r"\*([^\s,\[\]{}]+)")


def go_yaml_error(exc: yaml.YAMLError, text: str | bytes) -> str:
    """go-yaml v2's message for a YAML error libyaml reported (``yaml: line N: problem``).

    go-yaml numbers lines as libyaml's 0-based mark plus one for scanner errors only, falls back to
    the context mark (unchanged) when the problem is on the first line, and leaves the line out when
    both are on the first line; an alias to no anchor is ``unknown anchor 'name' referenced``.
    """
    problem = getattr(exc, "problem", None)
    mark = getattr(exc, "problem_mark", None)
    if isinstance(exc, yaml.composer.ComposerError) and problem and "undefined alias" in problem:
        source = text.decode("utf-8", errors="replace") if isinstance(text, bytes) else text
        found = _ANCHOR.match(source, mark.index) if mark is not None else None
        name = found.group(1) if found else ""
        return f"yaml: unknown anchor '{name}' referenced"
    if isinstance(exc, yaml.reader.ReaderError):  # go-yaml's reader errors carry no mark: no line
        return f"yaml: {exc.reason}"
    if not isinstance(exc, yaml.MarkedYAMLError):
        return f"yaml: {problem or exc}"
    context_mark = getattr(exc, "context_mark", None)
    line = 0
    if mark is not None and mark.line != 0:
        line = mark.line + (1 if isinstance(exc, yaml.scanner.ScannerError) else 0)
    elif context_mark is not None and context_mark.line != 0:
        line = context_mark.line
    where = f"line {line}: " if line else ""
    return f"yaml: {where}{problem or 'unknown problem parsing YAML content'}"
