"""Write a catalog exactly as opm's ``declcfg.WriteJSON`` / ``WriteYAML`` / ``WriteFS`` do.

Order: package names (from every blob) sorted bytewise; per package its ``olm.package`` blobs,
channels by name, bundles by name, other blobs stably by schema, deprecations; then package-less
other blobs. JSON: struct field order, 4-space indent, no HTML escaping, ``\\n`` after each blob.
YAML: each blob through JSON to go-yaml v2 (keys sorted), ``---`` before each.

Property values are written in the key order their dicts hold (opm re-emits a ``json.RawMessage``):
loaded values are already sorted, rendered ones keep the Go struct order.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Literal

import orjson

from catalog import declcfg as d
from catalog.convert import split_by_package
from catalog.errors import CatalogError
from catalog.gosort import go_sort_slice
from catalog.goyaml import dump_document
from catalog.jsonutil import _OPTS, _default, _escape_ls_ps, indent

__all__ = [
    "blob_dict",
    "iter_blobs",
    "iter_package_configs",
    "to_json_bytes",
    "to_yaml_text",
    "write_fs",
    "write_json",
    "write_packages",
    "write_yaml",
]

Format = Literal["json", "yaml"]


def _props(props: list[d.Property]) -> list[dict[str, Any]]:
    return [{"type": p.type, "value": p.value} for p in props]


def blob_dict(blob: Any) -> dict[str, Any]:
    """The JSON object opm writes for one typed blob (keys in Go struct order, omitempty applied)."""
    if isinstance(blob, d.Bundle):
        out: dict[str, Any] = {"schema": blob.schema}
        if blob.name:
            out["name"] = blob.name
        if blob.package:
            out["package"] = blob.package
        out["image"] = blob.image
        if blob.properties:
            out["properties"] = _props(blob.properties)
        if blob.related_images:
            out["relatedImages"] = [{"name": r.name, "image": r.image} for r in blob.related_images]
        return out
    if isinstance(blob, d.Channel):
        out = {"schema": blob.schema, "name": blob.name, "package": blob.package}
        if blob.entries is None:
            out["entries"] = None
        else:
            entries = []
            for e in blob.entries:
                entry: dict[str, Any] = {"name": e.name}
                if e.replaces:
                    entry["replaces"] = e.replaces
                if e.skips:
                    entry["skips"] = list(e.skips)
                if e.skip_range:
                    entry["skipRange"] = e.skip_range
                entries.append(entry)
            out["entries"] = entries
        if blob.properties:
            out["properties"] = _props(blob.properties)
        return out
    if isinstance(blob, d.Package):
        out = {"schema": blob.schema, "name": blob.name, "defaultChannel": blob.default_channel}
        if blob.icon is not None:
            out["icon"] = {"base64data": blob.icon.base64data, "mediatype": blob.icon.mediatype}
        if blob.description:
            out["description"] = blob.description
        if blob.properties:
            out["properties"] = _props(blob.properties)
        return out
    if isinstance(blob, d.Deprecation):
        entries = []
        for e in blob.entries:
            ref: dict[str, Any] = {"schema": e.reference.schema}
            if e.reference.name:
                ref["name"] = e.reference.name
            entries.append({"reference": ref, "message": e.message})
        # Go's nil slice (no "omitempty"): a null or missing list stays null while it is empty.
        written = None if blob.entries_null and not entries else entries
        return {"schema": blob.schema, "package": blob.package, "entries": written}
    if isinstance(blob, d.Meta):
        return blob.blob
    raise TypeError(f"not a catalog blob: {type(blob).__name__}")


def iter_package_configs(
    cfg: d.DeclarativeConfig,
) -> tuple[list[str], dict[str, d.DeclarativeConfig], list[d.Meta]]:
    """opm's ``configsByPackage``: package names sorted, each package's blobs, package-less others."""
    by_pkg = split_by_package(cfg)
    loose = by_pkg.pop("", None)  # of the blobs without a package only the custom ones are written
    root_others = loose.others if loose is not None else []
    names = sorted(by_pkg, key=lambda s: s.encode())
    return names, by_pkg, root_others


def _by_name(blobs: list[Any]) -> list[Any]:
    """opm's ``sort.Slice`` by name (not stable: duplicate names end as Go's algorithm leaves them)."""
    out = list(blobs)
    if len({b.name for b in out}) == len(out):
        out.sort(key=lambda b: b.name.encode())
    else:
        go_sort_slice(out, key=lambda b: b.name.encode())
    return out


def _package_blobs(pc: d.DeclarativeConfig) -> Iterator[Any]:
    yield from pc.packages
    yield from _by_name(pc.channels)
    yield from _by_name(pc.bundles)
    yield from sorted(pc.others, key=lambda o: o.schema.encode())
    yield from pc.deprecations


def iter_blobs(cfg: d.DeclarativeConfig) -> Iterator[Any]:
    """Every blob of ``cfg`` in the order opm writes them."""
    names, by_pkg, root_others = iter_package_configs(cfg)
    for name in names:
        yield from _package_blobs(by_pkg[name])
    yield from root_others


def _json_blob(blob: Any) -> bytes:
    option = _OPTS | orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE
    if isinstance(blob, d.Meta):
        option |= orjson.OPT_SORT_KEYS
    return _escape_ls_ps(indent(orjson.dumps(blob_dict(blob), default=_default, option=option)))


def _json_chunks(blobs: Iterable[Any]) -> Iterator[bytes]:
    for blob in blobs:
        try:
            yield _json_blob(blob)
        except (TypeError, ValueError) as exc:
            raise CatalogError(f"json: unsupported value: {exc}") from None


def _yaml_chunks(blobs: Iterable[Any]) -> Iterator[bytes]:
    for blob in blobs:
        # Through JSON first, as opm does: numbers and escapes settle the same way.
        value = orjson.loads(_json_blob_compact(blob))
        yield ("---\n" + dump_document(value)).encode()


def _json_blob_compact(blob: Any) -> bytes:
    option = _OPTS | (orjson.OPT_SORT_KEYS if isinstance(blob, d.Meta) else 0)
    return orjson.dumps(blob_dict(blob), default=_default, option=option)


def to_json_bytes(cfg: d.DeclarativeConfig) -> bytes:
    """The whole catalog as ``opm render -o json`` prints it."""
    return b"".join(_json_chunks(iter_blobs(cfg)))


def to_yaml_text(cfg: d.DeclarativeConfig) -> str:
    """The whole catalog as ``opm render -o yaml`` prints it."""
    return b"".join(_yaml_chunks(iter_blobs(cfg))).decode()


def _writer(out: IO[Any]) -> Any:
    return getattr(out, "buffer", out)


def write_json(cfg: d.DeclarativeConfig, out: IO[Any]) -> None:
    """Write ``cfg`` as a JSON stream (opm's ``WriteJSON``) to a binary or text stream."""
    w = _writer(out)
    for chunk in _json_chunks(iter_blobs(cfg)):
        w.write(chunk)


def write_yaml(cfg: d.DeclarativeConfig, out: IO[Any]) -> None:
    """Write ``cfg`` as YAML documents (opm's ``WriteYAML``) to a binary or text stream."""
    w = _writer(out)
    for chunk in _yaml_chunks(iter_blobs(cfg)):
        w.write(chunk)


def _chunks(blobs: Iterable[Any], fmt: Format) -> Iterator[bytes]:
    if fmt == "json":
        return _json_chunks(blobs)
    if fmt == "yaml":
        return _yaml_chunks(blobs)
    raise CatalogError(f'invalid output format "{fmt}"')


def _check_package_dir(name: str) -> None:
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name:
        raise CatalogError(f"invalid package name {_quote(name)}: must be a single local path element")


def _quote(s: str) -> str:
    return orjson.dumps(s).decode()


def _write_file(path: Path, chunks: Iterable[bytes]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise CatalogError(f"write file {str(path)!r}: {exc.strerror}") from None


def write_packages(
    cfg: d.DeclarativeConfig,
    root: Path | str,
    packages: Iterable[str],
    fmt: Format = "json",
) -> list[Path]:
    """Rewrite only ``<root>/<pkg>/catalog.<fmt>`` of the given packages (others left untouched).

    A package in ``packages`` that has no blob left in ``cfg`` gets its directory's catalog file
    removed (the package was deleted). Returns the files written.
    """
    root = Path(root)
    wanted = set(packages)
    for name in wanted:
        _check_package_dir(name)
    _, by_pkg, _ = iter_package_configs(cfg)
    written = []
    for name in sorted(wanted, key=str.encode):
        target = root / name / f"catalog.{fmt}"
        if name not in by_pkg:
            if target.exists():
                target.unlink()
            if target.parent.is_dir() and not any(target.parent.iterdir()):
                target.parent.rmdir()
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_file(target, _chunks(_package_blobs(by_pkg[name]), fmt))
        written.append(target)
    return written


def write_fs(cfg: d.DeclarativeConfig, root: Path | str, fmt: Format = "json") -> list[Path]:
    """opm's ``WriteFS``: ``<root>/<pkg>/catalog.<fmt>`` per package, package-less others in
    ``<root>/catalog.<fmt>``. Returns the files written."""
    root = Path(root)
    names, by_pkg, root_others = iter_package_configs(cfg)
    for name in names:
        _check_package_dir(name)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CatalogError(f"mkdir {root}: {exc.strerror}") from None
    written = []
    for name in names:
        target = root / name / f"catalog.{fmt}"
        target.parent.mkdir(exist_ok=True)
        _write_file(target, _chunks(_package_blobs(by_pkg[name]), fmt))
        written.append(target)
    if root_others:
        target = root / f"catalog.{fmt}"
        _write_file(target, _chunks(root_others, fmt))
        written.append(target)
    return written
