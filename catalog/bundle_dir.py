"""Read an operator bundle directory (``manifests/`` + ``metadata/``) as opm's bundle parser does.

``manifests/``: files sorted by name, dotfiles and subdirectories skipped, only the first document
of each file, files that do not decode to an object with a ``kind`` skipped, only the first CSV kept.
``metadata/``: every file is tried as the annotations, dependencies and properties file; the first
match of each wins. Manifests are decoded with go-yaml v2 scalars and Kubernetes' unstructured
number rules (integers stay int64, other numbers float64).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog.errors import CatalogError
from catalog.goyaml import GoYamlLoader
from catalog.jsonutil import GoFloat, go_fold

__all__ = [
    "ANNOTATION_CHANNELS",
    "ANNOTATION_DEFAULT_CHANNEL",
    "ANNOTATION_PACKAGE",
    "BundleDir",
    "BundleMetadata",
    "is_bundle_dir",
    "read_bundle_dir",
    "read_bundle_metadata",
]

ANNOTATION_PACKAGE = "operators.operatorframework.io.bundle.package.v1"
ANNOTATION_CHANNELS = "operators.operatorframework.io.bundle.channels.v1"
ANNOTATION_DEFAULT_CHANNEL = "operators.operatorframework.io.bundle.channel.default.v1"
_INT64 = 2**63


@dataclass(slots=True)
class BundleMetadata:
    """What ``metadata/`` says: the package, its channels, and the raw annotations file."""

    package: str = ""
    channels: list[str] = field(default_factory=list)  # channels.v1 split on ","
    default_channel: str = ""
    annotations: dict[str, Any] = field(default_factory=dict)  # the whole `annotations:` mapping
    dependencies: list[dict[str, Any]] | None = None  # [{type, value}] of the dependencies file
    properties: list[dict[str, Any]] | None = None  # [{type, value}] of the properties file


@dataclass(slots=True)
class BundleDir:
    """A parsed bundle directory."""

    path: Path
    objects: list[dict[str, Any]]  # manifests in opm's order (one CSV)
    csv: dict[str, Any]
    metadata: BundleMetadata

    @property
    def name(self) -> str:
        """The CSV's ``metadata.name``: the bundle's name."""
        meta = self.csv.get("metadata")
        name = meta.get("name") if isinstance(meta, dict) else None
        return name if isinstance(name, str) else ""


def is_bundle_dir(path: Path) -> bool:
    """opm's test: a directory holding both a ``manifests`` and a ``metadata`` directory."""
    return path.is_dir() and (path / "manifests").is_dir() and (path / "metadata").is_dir()


def _unstructured_number(value: Any) -> Any:
    if isinstance(value, float):
        if value.is_integer() and -_INT64 <= value < _INT64:
            return int(value)
        return GoFloat(value)
    if not -_INT64 <= value < _INT64:
        return GoFloat(float(value))
    return value


def unstructured(value: Any) -> Any:
    """A decoded manifest with Kubernetes' unstructured number rules applied (int64 or float64)."""
    t = type(value)
    if t is str or t is bool or value is None:
        return value
    if t is dict:
        return {k: unstructured(v) for k, v in value.items()}
    if t is list:
        return [unstructured(v) for v in value]
    if t is int or t is float:
        return _unstructured_number(value)
    return value


def _first_document(data: bytes, sniff: int = 30) -> Any:
    """apimachinery's ``YAMLOrJSONDecoder(r, 30).Decode`` of the first document (raises on failure)."""
    head = data[:sniff].lstrip()
    if head[:1] == b"{":
        decoder = json.JSONDecoder()
        text = data.decode("utf-8")
        value, _ = decoder.raw_decode(text, len(text) - len(text.lstrip()))
        return value
    first: list[bytes] = []
    for line in data.splitlines(keepends=True):
        if line.startswith(b"---"):
            rest = line[3:].strip()
            if rest and not rest.startswith(b"#"):
                raise ValueError(f"invalid Yaml document separator: {rest.decode(errors='replace')}")
            if first:
                break
        first.append(line)
    if not first:
        raise EOFError("EOF")
    import yaml

    return yaml.load(b"".join(first), Loader=GoYamlLoader)


def _decode_file(path: Path) -> Any:
    try:
        return _first_document(path.read_bytes())
    except Exception:  # opm warns and skips files that do not decode
        return _UNDECODABLE


_UNDECODABLE = object()


def _field(obj: dict[str, Any], name: str) -> Any:
    """Go's case-insensitive field lookup (exact name first, else the last folded match)."""
    if name in obj:
        return obj[name]
    found = None
    for key in sorted(obj):
        if go_fold(key) == go_fold(name):
            found = obj[key]
    return found


def _typed_list(doc: Any, key: str) -> list[dict[str, Any]] | None:
    """``{key: [{type, value}]}`` decoded as opm's DependenciesFile / PropertiesFile; None if not one."""
    if not isinstance(doc, dict):
        return None
    items = _field(doc, key)
    if not isinstance(items, list) or not items:
        return None
    out = []
    for item in items:
        if item is None:
            out.append({"type": "", "value": None})
            continue
        if not isinstance(item, dict):
            return None
        typ = _field(item, "type")
        if typ is not None and not isinstance(typ, str):
            return None
        out.append({"type": typ or "", "value": unstructured(_field(item, "value"))})
    return out


def read_bundle_metadata(path: Path | str) -> BundleMetadata:
    """Read ``<bundle>/metadata``: annotations (required), dependencies and properties files."""
    mdir = Path(path) / "metadata"
    try:
        names = sorted(p.name for p in mdir.iterdir())
    except OSError as exc:
        raise CatalogError(f"error opening metadata directory: {exc.strerror}") from None
    meta = BundleMetadata()
    found_annotations = False
    for name in names:
        file = mdir / name
        if not file.is_file():
            continue
        doc = _decode_file(file)
        if doc is _UNDECODABLE:
            continue
        if not found_annotations and isinstance(doc, dict):
            ann = _field(doc, "annotations")
            if isinstance(ann, dict):
                pkg = _field(ann, ANNOTATION_PACKAGE)
                chans = _field(ann, ANNOTATION_CHANNELS)
                default = _field(ann, ANNOTATION_DEFAULT_CHANNEL)
                values = [v if isinstance(v, str) else "" for v in (pkg, chans, default)]
                if any(values):
                    found_annotations = True
                    meta.package, chan_text, meta.default_channel = values
                    meta.channels = chan_text.split(",") if chan_text else []
                    meta.annotations = dict(ann)
        if meta.dependencies is None:
            meta.dependencies = _typed_list(doc, "dependencies")
        if meta.properties is None:
            meta.properties = _typed_list(doc, "properties")
    if not found_annotations:
        raise CatalogError("Could not find annotations file")
    return meta


def read_bundle_dir(path: Path | str) -> BundleDir:
    """Parse a bundle directory; CatalogError with opm's text when it is not a usable bundle."""
    path = Path(path)
    mdir = path / "manifests"
    try:
        entries = sorted(mdir.iterdir(), key=lambda p: p.name)
    except OSError as exc:
        raise CatalogError(f"error opening manifests directory: {exc.strerror}") from None
    objects: list[dict[str, Any]] = []
    csv: dict[str, Any] | None = None
    for entry in entries:
        if entry.name.startswith(".") or entry.is_dir():
            continue
        doc = _decode_file(entry)
        if not isinstance(doc, dict) or not isinstance(doc.get("kind"), str) or not doc.get("kind"):
            continue  # opm: "failed to decode" warning (unstructured objects need a kind)
        obj = unstructured(doc)
        if obj["kind"] == "ClusterServiceVersion":
            if csv is not None:
                continue
            csv = obj
        objects.append(obj)
    if not objects:
        raise CatalogError("no bundle objects found")
    if csv is None:
        raise CatalogError("no csv in bundle")
    metadata = read_bundle_metadata(path)
    return BundleDir(path=path, objects=objects, csv=csv, metadata=metadata)
