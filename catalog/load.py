"""Load a File-Based Catalog the way opm's ``declcfg.LoadFS`` does.

Every regular file under the root is parsed (only ``.indexignore`` patterns exclude files), as a
JSON stream when its first non-blank byte is ``{`` and as YAML documents otherwise. Each document is
one blob: ``schema``/``package``/``name`` are found case-insensitively, the four OLM schemas become
typed values (Go's case-insensitive field matching), any other schema is kept verbatim. Errors carry
opm's text.

Speed matters (production catalogs are hundreds of MB): JSON goes through orjson, split at the
blob boundaries without a Python-level scanner; YAML through libyaml's C parser. ``olm.bundle.object``
payloads stay base64 text.
"""

from __future__ import annotations

import binascii
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import yaml

from catalog import declcfg as d
from catalog.decode_errors import (
    EMPTY_BLOB,
    EMPTY_YAML_DOCUMENT,
    UNMARSHALING,
    YAML_TO_JSON,
    DecodeFailure,
    go_yaml_error,
    json_stream_error,
    non_object_error,
)
from catalog.errors import CatalogError
from catalog.goyaml import load_one
from catalog.indexignore import INDEXIGNORE, IgnoreMatcher
from catalog.jsonutil import MISSING, compact, go_fields, go_type_text, go_value_text, normalize
from catalog.object_lift import lift_bundle_objects, plausible_base64, stand_ins_in_place

__all__ = ["load_bytes", "load_documents", "load_file", "load_fs", "parse_documents", "shared_values"]

_BLOB_BOUNDARY = re.compile(rb"\}[ \t\r]*\n[ \t\r\n]*\{")
_SNIFF = 4096
# "-0" ending where a number may end; preceded by one of _BEFORE_NUMBER it is the number -0 (or, rarely,
# text in a string, which only costs speed). Searched from the literal: a leading class makes re slow.
_ZERO_AFTER_MINUS = re.compile(rb"-0(?![0-9.eE])")
_BEFORE_NUMBER = frozenset(b":,[ \t\r\n")
# How opm's JSON writer separates two blobs; long, so that bytes.find skips fast over base64 text.
_OPM_BOUNDARY = b'}\n{\n    "schema": "'


# --------------------------------------------------------------------------------------------------
# Documents: bytes -> parsed blobs


def parse_documents(data: bytes, name: str = "", *, lift_objects: bool = False) -> list[Any]:
    """Every document of one catalog file, parsed (JSON stream or YAML stream, sniffed as opm does).

    ``lift_objects``, for loads that only validate: bundle-object payloads of a JSON stream are checked
    on the bytes and parsed as short stand-ins (:mod:`catalog.object_lift`); the blobs then load and
    validate as the originals do but must never be written out.
    """
    head = data[:_SNIFF].lstrip()
    if head[:1] != b"{":
        return _yaml_stream(data, name)
    if lift_objects:
        lifted, count = lift_bundle_objects(data)
        if count:
            try:
                docs = _json_stream(lifted, name)
            except CatalogError:
                docs = None  # the original's own parse reports it
            if docs is not None and stand_ins_in_place(docs, count):
                return docs
    return _json_stream(data, name)


def _parse_pieces(data: bytes, cuts: list[int]) -> list[Any]:
    """orjson-parse ``data`` split at the given offsets (each the index of a blob's closing brace)."""
    view = memoryview(data)
    docs = []
    start = 0
    for cut in cuts:
        docs.append(orjson.loads(view[start : cut + 1]))
        start = data.index(b"{", cut + 1)
    docs.append(orjson.loads(view[start:]))
    return docs


def _json_stream(data: bytes, name: str) -> list[Any]:
    if _has_negative_zero(data):  # orjson reads -0 as the integer 0; Go keeps float64 -0
        return _json_stream_slow(data, name)
    # opm writes "}\n{" between blobs; outside strings that sequence only occurs between blobs, and
    # raw newlines cannot occur inside JSON strings, so splitting there is exact for valid input.
    cuts = []
    pos = data.find(_OPM_BOUNDARY)
    while pos != -1:
        cuts.append(pos)
        pos = data.find(_OPM_BOUNDARY, pos + 2)
    try:
        return _parse_pieces(data, cuts)
    except orjson.JSONDecodeError:
        pass
    try:  # any whitespace with a newline between blobs
        return _parse_pieces(data, [m.start() for m in _BLOB_BOUNDARY.finditer(data)])
    except orjson.JSONDecodeError:
        return _json_stream_slow(data, name)


def _has_negative_zero(data: bytes) -> bool:
    if b"-0" not in data:  # a C substring search: ~10x faster than the regex over a large file
        return False
    return any(
        m.start() > 0 and data[m.start() - 1] in _BEFORE_NUMBER for m in _ZERO_AFTER_MINUS.finditer(data)
    )


def _go_int(text: str) -> int | float:
    return -0.0 if text == "-0" else int(text)


def _no_constant(text: str) -> Any:
    """NaN and Infinity are no JSON to Go: a syntax error there (reported in Go's words)."""
    raise json.JSONDecodeError(f"invalid literal {text}", text, 0)


def _json_stream_slow(data: bytes, name: str) -> list[Any]:
    """Decode a JSON stream blob by blob; on failure fall back to YAML as apimachinery does."""
    text = data.decode("utf-8", errors="replace")
    decoder = json.JSONDecoder(parse_int=_go_int, parse_constant=_no_constant)
    docs: list[Any] = []
    pos = 0
    n = len(text)
    while True:
        while pos < n and text[pos] in " \t\r\n":
            pos += 1
        if pos >= n:
            return docs
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            if len(docs) <= 1:
                # Zero or one JSON object: the stream is ambiguous, the rest may be YAML.
                rest = text[pos:]
                nl = rest.find("\n")
                rest = rest[nl + 1 :] if nl != -1 and not rest[:nl].strip() else rest
                try:
                    yaml_docs = _yaml_stream(rest.encode(), name)
                    if not (yaml_docs and isinstance(yaml_docs[0], DecodeFailure)):
                        return docs + yaml_docs
                except CatalogError:
                    pass
            where = f"{name}: " if name else ""
            go_text = json_stream_error(data)  # Go's words, where its scanner agrees
            raise CatalogError(
                where + (go_text or f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")
            ) from None
        if type(value) is not dict and value is not None:  # opm stops at a blob that is no object
            where = f"{name}: " if name else ""
            return [*docs, DecodeFailure(where + non_object_error(value, from_yaml=False))]
        docs.append(value)
        pos = end


_SEPARATOR_LINE = re.compile(rb"^---([^\n]*)(?:\n|$)", re.M)


def _split_yaml(data: bytes) -> list[bytes]:
    """apimachinery's YAMLReader: documents split at lines starting with ``---``.

    A separator line ends a non-empty document and is dropped; one met while the document is still
    empty stays in it (so ``---\n---\n`` yields a document holding only ``---``, which is null).
    """
    docs: list[bytes] = []
    pos = 0
    for m in _SEPARATOR_LINE.finditer(data):
        trimmed = m.group(1).strip()
        if trimmed and not trimmed.startswith(b"#"):
            raise CatalogError(
                f"invalid Yaml document separator: {trimmed.decode('utf-8', errors='replace')}"
            )
        if m.start() > pos:
            docs.append(data[pos : m.start()])
            pos = m.end()
        elif m.end() == len(data) and not data.endswith(b"\n"):
            pos = m.end()  # a final "---" without a newline ends the stream
    if pos < len(data):
        docs.append(data[pos:])
    return docs


def _yaml_stream(data: bytes, name: str) -> list[Any]:
    if b"\n---" not in data and not data.startswith(b"---"):
        chunks = [data] if data else []
    else:
        chunks = _split_yaml(data)
    out: list[Any] = []
    where = f"{name}: " if name else ""
    for chunk in chunks:
        # A document opm cannot decode ends the file there, as a DecodeFailure (decode_errors).
        try:
            doc = load_one(chunk)
        except yaml.YAMLError as exc:
            out.append(DecodeFailure(f"{where}{YAML_TO_JSON}{go_yaml_error(exc, chunk)}"))
            break
        except ValueError as exc:
            out.append(DecodeFailure(f"{where}{YAML_TO_JSON}{exc}"))
            break
        if type(doc) is not dict:
            if doc is None:
                out.append(EMPTY_YAML_DOCUMENT)
                continue
            out.append(DecodeFailure(where + non_object_error(doc, from_yaml=True)))
            break
        try:
            _meta_keys(doc)
        except CatalogError as exc:
            out.append(DecodeFailure(f"{where}{UNMARSHALING}{exc}"))
            break
        out.append(doc)
    return out


# --------------------------------------------------------------------------------------------------
# Blobs: parsed documents -> typed values


def _go_quote(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def _meta_keys(obj: dict[str, Any]) -> tuple[str, str, str]:
    """(schema, package, name) of a blob, looked up case-insensitively as ``declcfg.Meta`` does."""
    schema = obj.get("schema")
    package = obj.get("package", "")
    name = obj.get("name", "")
    if type(schema) is str and type(package) is str and type(name) is str and obj.keys() <= _PLAIN_KEYS:
        return schema, package, name
    groups: dict[str, list[str]] = {}
    for key in obj:
        groups.setdefault(key.casefold(), []).append(key)
    dups = [
        f"duplicate keys for key {_go_quote(folded)}: [{' '.join(sorted(keys))}]"
        for folded, keys in sorted(groups.items())
        if len(keys) > 1
    ]
    if len(dups) == 1:
        raise CatalogError(dups[0])
    if dups:
        raise CatalogError("[" + ", ".join(dups) + "]")
    found = []
    for wanted in ("schema", "package", "name"):
        keys = groups.get(wanted)
        if not keys:
            found.append("")
            continue
        value = obj[keys[0]]
        if not isinstance(value, str):
            bad = "true" if value is True else "false" if value is False else _bad_t(value)
            raise CatalogError(
                f"expected value for key {_go_quote(keys[0])} to be a string, got {bad}: "
                f"{go_value_text(value)}"
            )
        found.append(value)
    return found[0], found[1], found[2]


_PLAIN_KEYS = frozenset(
    {"schema", "package", "name", "image", "properties", "relatedImages", "entries"}
    | {"defaultChannel", "icon", "description"}
)


def _bad_t(value: Any) -> str:
    if value is None:
        return "%!t(<nil>)"
    return f"%!t({go_type_text(value)}={go_value_text(value)})"


_JSON_KIND = {str: "string", bool: "bool", int: "number", float: "number", dict: "object", list: "array"}


class _TypeError(Exception):
    def __init__(self, value: Any, struct: str, path: list[str], gotype: str) -> None:
        kind = _JSON_KIND.get(type(value), "number")
        super().__init__(
            f"json: cannot unmarshal {kind} into Go struct field {struct}.{'.'.join(path)} of type {gotype}"
        )


def _str(fields: dict[str, Any], key: str, struct: str, path: list[str]) -> str:
    value = fields.get(key)
    if value is None:
        return ""
    if type(value) is not str:
        raise _TypeError(value, struct, [*path, key], "string")
    return value


def _list(fields: dict[str, Any], key: str, struct: str, path: list[str], gotype: str) -> list[Any] | None:
    value = fields.get(key)
    if value is None:
        return None
    if type(value) is not list:
        raise _TypeError(value, struct, [*path, key], gotype)
    return value


_PROPERTY_FIELDS = frozenset(("type", "value"))


class _Shared:
    """Property values met more than once in one :func:`load_fs`, kept once.

    Real catalogs repeat themselves (the same bundle in the catalog of every OpenShift version): on
    the 570 MB perfdata catalog three quarters of the ``olm.bundle.object`` and ``olm.csv.metadata``
    bytes are repeats. A repeated value is the same object, normalized once (property values are
    never changed in place once loaded). Keys: the payload text of a one-string object, else the
    value's parsed JSON as orjson writes it back (equal text means equal parsed values).
    """

    def __init__(self) -> None:
        self.by_text: dict[tuple[str, int, str, str], Any] = {}
        self.by_json: dict[bytes, Any] = {}

    def one_string(self, value: dict[str, str], key: str, text: str) -> Any:
        # Found by length and ends (hashing every payload in full would cost more than it saves),
        # then compared in full: only an equal text is shared.
        found = self.by_text.setdefault((key, len(text), text[:64], text[-64:]), value)
        return found if found is value or found[key] == text else value

    def normalized(self, value: Any) -> Any:
        try:
            key = orjson.dumps(value)
        except orjson.JSONEncodeError:  # not plain JSON (from YAML): normalize says what is wrong
            return normalize(value)
        found = self.by_json.get(key)
        if found is None:
            found = self.by_json[key] = normalize(value)
        return found


_shared: _Shared | None = None


def _properties(fields: dict[str, Any], struct: str) -> list[d.Property]:
    raw = _list(fields, "properties", struct, [], "[]property.Property")
    if not raw:
        return []
    out = []
    prop = d.Property
    shared = _shared
    for item in raw:
        if type(item) is dict and item.keys() <= _PROPERTY_FIELDS:
            typ = item.get("type")
            value = item.get("value", MISSING)
            if type(typ) is str:
                tv = type(value)
                if tv is dict and len(value) == 1:
                    # {"data": "<base64>"} and the like: nothing to sort or convert
                    for k, v in value.items():
                        if type(v) is not str:
                            value = normalize(value) if shared is None else shared.normalized(value)
                        elif shared is not None and len(v) > 256:
                            value = shared.one_string(value, k, v)
                elif tv is dict and shared is not None and len(value) > 4:  # big ones: csv.metadata
                    value = shared.normalized(value)
                elif not (tv is str or value is None or value is MISSING):
                    value = normalize(value)
                out.append(prop(typ, value))
                continue
        if item is None:  # Go leaves the zero Property: no type, no value
            out.append(prop("", MISSING))
            continue
        if type(item) is not dict:
            raise _TypeError(item, struct, ["properties"], "property.Property")
        f = go_fields(item, ("type", "value"))
        value = f.get("value", MISSING)
        out.append(
            prop(_str(f, "type", "Property", ["properties"]), value if value is MISSING else normalize(value))
        )
    return out


def _icon(fields: dict[str, Any]) -> d.Icon | None:
    raw = fields.get("icon")
    if raw is None:
        return None
    if type(raw) is not dict:
        raise _TypeError(raw, "Package", ["icon"], "declcfg.Icon")
    f = go_fields(raw, ("base64data", "mediatype"))
    data = f.get("base64data")
    if data is None:
        text = ""
    elif type(data) is not str:
        raise _TypeError(data, "Icon", ["icon", "base64data"], "[]uint8")
    else:
        text = binascii.b2a_base64(_b64decode(data), newline=False).decode()
    return d.Icon(base64data=text, mediatype=_str(f, "mediatype", "Icon", ["icon"]))


def _b64decode(text: str) -> bytes:
    """Go's ``base64.StdEncoding.Decode`` (padding required, CR/LF ignored)."""
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        pass
    cleaned = text.replace("\r", "").replace("\n", "")
    try:
        return binascii.a2b_base64(cleaned, strict_mode=True)
    except (binascii.Error, ValueError):
        pass
    alphabet = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
    pos = 0
    for i, ch in enumerate(text):
        if ch in "\r\n":
            continue
        if ch not in alphabet:
            pos = i
            break
    else:
        pos = len(text) - (len(text) % 4 or 4)
    raise CatalogError(f"illegal base64 data at input byte {pos}")


def _package(obj: dict[str, Any]) -> d.Package:
    f = go_fields(obj, ("schema", "name", "defaultChannel", "icon", "description", "properties"))
    return d.Package(
        name=_str(f, "name", "Package", []),
        default_channel=_str(f, "defaultChannel", "Package", []),
        icon=_icon(f),
        description=_str(f, "description", "Package", []),
        properties=_properties(f, "Package"),
        schema=_str(f, "schema", "Package", []),
    )


def _channel(obj: dict[str, Any]) -> d.Channel:
    f = go_fields(obj, ("schema", "name", "package", "entries", "properties"))
    raw = _list(f, "entries", "Channel", [], "[]declcfg.ChannelEntry")
    entries = None
    if raw is not None:
        entries = []
        for item in raw:
            if item is None:
                entries.append(d.ChannelEntry(""))
                continue
            if type(item) is not dict:
                raise _TypeError(item, "Channel", ["entries"], "declcfg.ChannelEntry")
            e = go_fields(item, ("name", "replaces", "skips", "skipRange"))
            skips = _list(e, "skips", "ChannelEntry", ["entries"], "[]string") or []
            for s in skips:
                if s is not None and type(s) is not str:
                    raise _TypeError(s, "ChannelEntry", ["entries", "skips"], "string")
            entries.append(
                d.ChannelEntry(
                    name=_str(e, "name", "ChannelEntry", ["entries"]),
                    replaces=_str(e, "replaces", "ChannelEntry", ["entries"]),
                    skips=[s if s is not None else "" for s in skips],
                    skip_range=_str(e, "skipRange", "ChannelEntry", ["entries"]),
                )
            )
    return d.Channel(
        name=_str(f, "name", "Channel", []),
        package=_str(f, "package", "Channel", []),
        entries=entries,
        properties=_properties(f, "Channel"),
        schema=_str(f, "schema", "Channel", []),
    )


def _bundle(obj: dict[str, Any], check_objects: bool) -> d.Bundle:
    f = go_fields(obj, ("schema", "name", "package", "image", "properties", "relatedImages"))
    bundle = d.Bundle(
        name=_str(f, "name", "Bundle", []),
        package=_str(f, "package", "Bundle", []),
        image=_str(f, "image", "Bundle", []),
        properties=_properties(f, "Bundle"),
        schema=_str(f, "schema", "Bundle", []),
    )
    raw = _list(f, "relatedImages", "Bundle", [], "[]declcfg.RelatedImage")
    related = bundle.related_images
    for item in raw or ():
        if type(item) is dict and len(item) == 2:
            name, image = item.get("name"), item.get("image")
            if type(name) is str and type(image) is str:
                related.append(d.RelatedImage(name, image))
                continue
        if item is None:
            bundle.related_images.append(d.RelatedImage("", ""))
            continue
        if type(item) is not dict:
            raise _TypeError(item, "Bundle", ["relatedImages"], "declcfg.RelatedImage")
        r = go_fields(item, ("name", "image"))
        bundle.related_images.append(
            d.RelatedImage(
                name=_str(r, "name", "RelatedImage", ["relatedImages"]),
                image=_str(r, "image", "RelatedImage", ["relatedImages"]),
            )
        )
    if check_objects:
        _check_bundle_objects(bundle)
    return bundle


def _plausible_base64(text: str) -> bool:
    """A fast test that ``text`` is padded standard base64."""
    return text.isascii() and plausible_base64(text.encode("ascii"))


def _check_bundle_objects(bundle: d.Bundle) -> None:
    """opm decodes every ``olm.bundle.object`` at load; a payload that is not base64 fails the load."""
    for i, prop in enumerate(bundle.properties):
        if prop.type != d.PROP_BUNDLE_OBJECT:
            continue
        value = prop.value
        if type(value) is dict and len(value) == 1:
            data = value.get("data")
            if type(data) is str and _plausible_base64(data):
                continue
        if value is None:
            continue
        where = f"read bundle objects: package {_go_quote(bundle.package)}, bundle {_go_quote(bundle.name)}"
        prefix = f"{where}: parse property at index {i} as bundle object: "
        if value is MISSING:
            raise CatalogError(f"{prefix}unexpected end of JSON input")
        if type(value) is not dict:
            kind = _JSON_KIND.get(type(value), "number")
            raise CatalogError(
                f"{prefix}json: cannot unmarshal {kind} into Go value of type property.BundleObject"
            )
        data = go_fields(value, ("data",)).get("data")
        if data is None:
            continue
        if type(data) is not str:
            kind = _JSON_KIND.get(type(data), "number")
            raise CatalogError(
                f"{prefix}json: cannot unmarshal {kind} into Go struct field "
                "BundleObject.data of type []uint8"
            )
        try:
            _b64decode(data)
        except CatalogError as exc:
            raise CatalogError(f"{prefix}{exc}") from None


def _deprecation(obj: dict[str, Any]) -> d.Deprecation:
    f = go_fields(obj, ("schema", "package", "entries"))
    dep = d.Deprecation(
        package=_str(f, "package", "Deprecation", []), schema=_str(f, "schema", "Deprecation", [])
    )
    raw_entries = _list(f, "entries", "Deprecation", [], "[]declcfg.DeprecationEntry")
    dep.entries_null = raw_entries is None
    for item in raw_entries or ():
        if item is None:
            dep.entries.append(d.DeprecationEntry(d.PackageScopedReference(""), ""))
            continue
        if type(item) is not dict:
            raise _TypeError(item, "Deprecation", ["entries"], "declcfg.DeprecationEntry")
        e = go_fields(item, ("reference", "message"))
        ref = e.get("reference")
        if ref is None:
            ref = {}
        if type(ref) is not dict:
            raise _TypeError(
                ref, "DeprecationEntry", ["entries", "reference"], "declcfg.PackageScopedReference"
            )
        r = go_fields(ref, ("schema", "name"))
        dep.entries.append(
            d.DeprecationEntry(
                reference=d.PackageScopedReference(
                    schema=_str(r, "schema", "PackageScopedReference", ["entries", "reference"]),
                    name=_str(r, "name", "PackageScopedReference", ["entries", "reference"]),
                ),
                message=_str(e, "message", "DeprecationEntry", ["entries"]),
            )
        )
    return dep


def _blob_text(obj: Any) -> str:
    return (compact(normalize(obj)) + b"\n").decode()


def add_document(cfg: d.DeclarativeConfig, obj: Any, *, check_objects: bool = True) -> None:
    """Add one parsed document to ``cfg`` as opm's ``fbcBuilder.addMeta`` does (raises CatalogError)."""
    if type(obj) is not dict:
        if isinstance(obj, DecodeFailure):
            raise CatalogError(obj.message)
        if obj is EMPTY_YAML_DOCUMENT:
            raise CatalogError(EMPTY_BLOB)
        if obj is None:  # a JSON null: the blob Go re-encodes is "null\n"
            raise CatalogError("object 'null\n' is missing root schema field")
        raise CatalogError(non_object_error(obj, from_yaml=False))
    schema, package, name = _meta_keys(obj)
    try:
        if schema == d.SCHEMA_BUNDLE:
            try:
                cfg.bundles.append(_bundle(obj, check_objects))
            except _TypeError as exc:
                raise CatalogError(f"parse bundle: {exc}") from None
        elif schema == d.SCHEMA_CHANNEL:
            try:
                cfg.channels.append(_channel(obj))
            except _TypeError as exc:
                raise CatalogError(f"parse channel: {exc}") from None
        elif schema == d.SCHEMA_PACKAGE:
            try:
                cfg.packages.append(_package(obj))
            except (_TypeError, CatalogError) as exc:
                raise CatalogError(f"parse package: {exc}") from None
        elif schema == d.SCHEMA_DEPRECATIONS:
            try:
                cfg.deprecations.append(_deprecation(obj))
            except _TypeError as exc:
                raise CatalogError(f"parse deprecation: {exc}") from None
        elif schema == "":
            raise CatalogError(f"object '{_blob_text(obj)}' is missing root schema field")
        else:
            cfg.others.append(d.Meta(schema=schema, package=package, name=name, blob=normalize(obj)))
    except ValueError as exc:  # NaN / Inf (only YAML has them): sigs.k8s.io/yaml's json.Marshal refuses them
        raise CatalogError(f"{YAML_TO_JSON}{exc}") from None
    except TypeError as exc:  # a YAML value JSON has no form for (e.g. a set)
        raise CatalogError(f"error converting YAML to JSON: {exc}") from None


# --------------------------------------------------------------------------------------------------
# Files and directories


def load_documents(docs: list[Any], *, check_objects: bool = True) -> d.DeclarativeConfig:
    """A config from already-parsed documents (opm's ``LoadSlice``)."""
    cfg = d.DeclarativeConfig()
    for obj in docs:
        add_document(cfg, obj, check_objects=check_objects)
    return cfg


def load_bytes(data: bytes, name: str = "", *, check_objects: bool = True) -> d.DeclarativeConfig:
    """A config from the bytes of one catalog file (opm's ``LoadReader``)."""
    cfg = d.DeclarativeConfig()
    for obj in parse_documents(data, name):
        add_document(cfg, obj, check_objects=check_objects)
    return cfg


def load_file(path: Path | str, *, check_objects: bool = True) -> d.DeclarativeConfig:
    """A config from one catalog file (opm's ``LoadFile``)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CatalogError(f"open {path}: {exc.strerror.lower() if exc.strerror else exc}") from None
    return load_bytes(data, str(path), check_objects=check_objects)


def catalog_files(root: Path | str) -> list[Path]:
    """Every file of a catalog directory that opm would read, in ``fs.WalkDir`` order."""
    root = Path(root)
    if not root.is_dir():
        if root.exists():
            raise CatalogError(f"{root} is not a directory")
        raise CatalogError(f"open {root}: no such file or directory")
    matcher = IgnoreMatcher()
    files: list[Path] = []

    def walk(directory: Path, parts: tuple[str, ...]) -> None:
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            raise CatalogError(f"open {directory}: {exc.strerror}") from None
        for entry in entries:
            if entry.name == INDEXIGNORE and entry.is_file():
                matcher.add_file(Path(entry.path), parts)
        for entry in entries:
            child = (*parts, entry.name)
            if entry.is_dir(follow_symlinks=False):
                walk(Path(entry.path), child)
            elif entry.name != INDEXIGNORE and not matcher.match(child):
                files.append(Path(entry.path))

    walk(root, ())
    return files


def load_fs(
    root: Path | str, *, check_objects: bool = True, lift_objects: bool = False
) -> d.DeclarativeConfig:
    """Load every blob of a catalog directory (opm's ``declcfg.LoadFS``), raising CatalogError.

    ``lift_objects``: the catalog is only to be validated (see :func:`parse_documents`)."""
    cfg = d.DeclarativeConfig()
    with shared_values():
        for path in catalog_files(root):
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise CatalogError(f"read {path}: {exc.strerror}") from None
            for obj in parse_documents(data, str(path), lift_objects=lift_objects):
                add_document(cfg, obj, check_objects=check_objects)
    return cfg


@contextmanager
def shared_values() -> Iterator[None]:
    """Within the block, repeated property values loaded are one object (see :class:`_Shared`)."""
    global _shared
    outer = _shared
    if outer is None:
        _shared = _Shared()
    try:
        yield
    finally:
        _shared = outer
