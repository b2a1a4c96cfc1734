"""Read a legacy SQLite ``index.db`` into a File-Based Catalog, as ``opm migrate`` (v1.73.0) did.

Any schema version is read without changing the file: each fact is taken from where that version of
the schema kept it (properties and dependencies tables from migrations 8 and 9 on; before that the
``api_provider``/``api_requirer`` tables; bundle version and skipRange from their columns or, before
migration 5, from the CSV). Rules that shape the output (fbc-opm.md §4.3):

* per channel, an entry ``replaces`` the bundle its row on the chain from the channel head points to,
  and ``skips`` every bundle that one of its other rows (off that chain) points to;
* bundles carrying the ``olm.deprecated`` property are left out;
* properties: the bundle's stored properties, ``olm.gvk.required``/``olm.package.required`` from its
  dependencies (other dependency types are dropped), ``olm.package`` when none is stored, and one
  ``olm.bundle.object`` per stored manifest; deduplicated and sorted by (type, value), with the
  bundle objects last;
* relatedImages: the CSV's named ``spec.relatedImages`` plus the unnamed ``related_image`` rows not
  already listed, sorted by image;
* the package icon is the first icon of the CSV of the default channel's head; no description.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from catalog.declcfg import (
    PROP_BUNDLE_OBJECT,
    PROP_CSV_METADATA,
    PROP_DEPRECATED,
    PROP_GVK,
    PROP_GVK_REQUIRED,
    PROP_PACKAGE,
    PROP_PACKAGE_REQUIRED,
    Bundle,
    Channel,
    ChannelEntry,
    DeclarativeConfig,
    Icon,
    Package,
    Property,
    RelatedImage,
)
from catalog.errors import CatalogError
from catalog.gobase64 import std_decode
from catalog.sqlite.schema import IndexSchema, inspect_schema, open_read_only


@dataclass(slots=True)
class _StoredBundle:
    name: str
    csv: str
    bundle: str
    path: str
    version: str
    skip_range: str
    properties: list[tuple[str, str]] = field(default_factory=list)
    dependencies: list[tuple[str, str]] = field(default_factory=list)
    related: list[str] = field(default_factory=list)


def read_index_db(path: Path | str) -> DeclarativeConfig:
    """Read the SQLite index database at ``path`` into a DeclarativeConfig (opm migrate's rules)."""
    conn = open_read_only(Path(path))
    try:
        schema = inspect_schema(conn)
        return _Reader(conn, schema).read()
    except sqlite3.Error as exc:
        raise CatalogError(f"read {path}: {exc}") from None
    finally:
        conn.close()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def split_objects(bundle: str) -> list[str]:
    """Split the concatenated JSON manifests of an ``operatorbundle.bundle`` cell into their texts."""
    out: list[str] = []
    decoder = json.JSONDecoder()
    i, n = 0, len(bundle)
    while i < n:
        while i < n and bundle[i].isspace():
            i += 1
        if i >= n:
            break
        try:
            _, end = decoder.raw_decode(bundle, i)
        except json.JSONDecodeError as exc:
            raise CatalogError(f"stored bundle manifests are not JSON: {exc}") from None
        out.append(bundle[i:end])
        i = end
    return out


def _csv_of(stored: _StoredBundle) -> dict[str, Any] | None:
    """The CSV carried in the bundle's manifests (what opm read), else the ``csv`` column."""
    for text in split_objects(stored.bundle) if stored.bundle else []:
        obj = orjson.loads(text)
        if isinstance(obj, dict) and obj.get("kind") == "ClusterServiceVersion":
            return obj
    return None


def _csv_column(stored: _StoredBundle) -> dict[str, Any] | None:
    if not stored.csv:
        return None
    try:
        obj = orjson.loads(stored.csv)
    except orjson.JSONDecodeError:
        return None
    return obj if isinstance(obj, dict) else None


def _compact(value: Any) -> str:
    return orjson.dumps(value).decode()


def _deployment_images(csv: dict[str, Any]) -> list[str]:
    spec = csv.get("spec") or {}
    images: list[str] = []
    install = spec.get("install") or {}
    if install.get("strategy") == "deployment":
        for dep in (install.get("spec") or {}).get("deployments") or []:
            pod = (((dep or {}).get("spec") or {}).get("template") or {}).get("spec") or {}
            for c in (pod.get("containers") or []) + (pod.get("initContainers") or []):
                if isinstance(c, dict) and c.get("image"):
                    images.append(c["image"])
    for ri in spec.get("relatedImages") or []:
        if isinstance(ri, dict) and ri.get("image"):
            images.append(ri["image"])
    return images


class _Reader:
    def __init__(self, conn: sqlite3.Connection, schema: IndexSchema) -> None:
        self.conn = conn
        self.schema = schema

    def _column(self, table: str, column: str, default: str = "''") -> str:
        return column if self.schema.has(table, column) else default

    def read(self) -> DeclarativeConfig:
        bundles = self._bundles()
        entries = self._entries()
        self._attach_properties(bundles, entries)
        self._attach_dependencies(bundles, entries)
        self._attach_related_images(bundles)

        packages: dict[str, str] = {
            _text(name): _text(default)
            for name, default in self.conn.execute("SELECT name, default_channel FROM package")
        }
        channels: dict[tuple[str, str], str] = {}
        for name, pkg, head in self.conn.execute(
            "SELECT name, package_name, head_operatorbundle_name FROM channel"
        ):
            channels[(_text(pkg), _text(name))] = _text(head)

        graph = _channel_graph(entries)
        cfg = DeclarativeConfig()
        out_bundles: dict[str, Bundle] = {}
        out_channels: dict[tuple[str, str], Channel] = {}
        for pkg, ch in channels:
            if pkg in packages:
                out_channels[(pkg, ch)] = Channel(name=ch, package=pkg, entries=[])
        for (bname, pkg, ch), (replaces, skips) in graph.items():
            stored = bundles.get(bname)
            if stored is None or not ch:
                continue
            if any(t == PROP_DEPRECATED for t, _ in stored.properties):
                continue
            if pkg not in packages:
                raise CatalogError(f"unknown package {pkg!r} for bundle {bname!r}")
            channel = out_channels.get((pkg, ch))
            if channel is None:
                raise CatalogError(f"unknown channel {ch!r} for bundle {bname!r}")
            assert channel.entries is not None
            channel.entries.append(
                ChannelEntry(name=bname, replaces=replaces, skips=skips, skip_range=stored.skip_range)
            )
            if bname not in out_bundles:
                out_bundles[bname] = self._bundle(stored, pkg)

        for name in sorted(packages):
            cfg.packages.append(
                Package(
                    name=name,
                    default_channel=packages[name] if (name, packages[name]) in out_channels else "",
                    icon=self._icon(bundles.get(channels.get((name, packages[name]), ""))),
                )
            )
        for key in sorted(out_channels):
            channel = out_channels[key]
            assert channel.entries is not None
            channel.entries.sort(key=lambda e: e.name)
            cfg.channels.append(channel)
        cfg.bundles = sorted(out_bundles.values(), key=lambda b: (b.package, b.name))
        return cfg

    # -- rows ------------------------------------------------------------------------------------

    def _bundles(self) -> dict[str, _StoredBundle]:
        cols = ", ".join(
            [
                "name",
                self._column("operatorbundle", "csv"),
                self._column("operatorbundle", "bundle"),
                self._column("operatorbundle", "bundlepath"),
                self._column("operatorbundle", "version", "NULL"),
                self._column("operatorbundle", "skiprange", "NULL"),
            ]
        )
        out: dict[str, _StoredBundle] = {}
        for name, csv, bundle, path, version, skip_range in self.conn.execute(
            f"SELECT {cols} FROM operatorbundle"
        ):
            if name is None:
                continue
            stored = _StoredBundle(
                name=_text(name),
                csv=_text(csv),
                bundle=_text(bundle),
                path=_text(path),
                version=_text(version),
                skip_range=_text(skip_range),
            )
            if version is None or skip_range is None:  # before migration 5: read them from the CSV
                csv_obj = _csv_column(stored) or _csv_of(stored) or {}
                if version is None:
                    stored.version = str((csv_obj.get("spec") or {}).get("version") or "")
                if skip_range is None:
                    annotations = (csv_obj.get("metadata") or {}).get("annotations") or {}
                    stored.skip_range = str(annotations.get("olm.skipRange") or "")
            out[stored.name] = stored
        return out

    def _entries(self) -> list[tuple[int, str, str, str, int | None, int]]:
        rows = self.conn.execute(
            "SELECT entry_id, channel_name, package_name, operatorbundle_name, replaces, depth "
            "FROM channel_entry ORDER BY entry_id"
        ).fetchall()
        return [
            (int(e), _text(c), _text(p), _text(b), None if r is None else int(r), int(d or 0))
            for e, c, p, b, r, d in rows
        ]

    def _attach_properties(self, bundles: dict[str, _StoredBundle], entries: list) -> None:
        if self.schema.has("properties"):
            for typ, value, name in self.conn.execute(
                "SELECT type, value, operatorbundle_name FROM properties ORDER BY rowid"
            ):
                stored = bundles.get(_text(name))
                if stored is not None and typ is not None and value is not None:
                    stored.properties.append((_text(typ), _text(value)))
            return
        # Before migration 9: the package comes from the channel entries, the GVKs from api_provider.
        for _, _, pkg, bname, _, _ in entries:
            stored = bundles.get(bname)
            if stored is not None and not any(t == PROP_PACKAGE for t, _ in stored.properties):
                value = {"packageName": pkg, "version": stored.version}
                stored.properties.append((PROP_PACKAGE, _compact(value)))
        for group, version, kind, bname in self._api_rows("api_provider", entries):
            stored = bundles.get(bname)
            if stored is not None:
                value = {"group": group, "kind": kind, "version": version}
                stored.properties.append((PROP_GVK, _compact(value)))

    def _attach_dependencies(self, bundles: dict[str, _StoredBundle], entries: list) -> None:
        if self.schema.has("dependencies"):
            for typ, value, name in self.conn.execute(
                "SELECT type, value, operatorbundle_name FROM dependencies ORDER BY rowid"
            ):
                stored = bundles.get(_text(name))
                if stored is not None and typ is not None and value is not None:
                    stored.dependencies.append((_text(typ), _text(value)))
            return
        if not self.schema.has("api_requirer"):
            return
        for group, version, kind, bname in self._api_rows("api_requirer", entries):
            stored = bundles.get(bname)
            if stored is not None:
                value = {"group": group, "kind": kind, "version": version}
                stored.dependencies.append((PROP_GVK, _compact(value)))

    def _api_rows(self, table: str, entries: list) -> list[tuple[str, str, str, str]]:
        """(group, version, kind, bundle) rows of api_provider/api_requirer, whichever way they link."""
        if not self.schema.has(table):
            return []
        if self.schema.has(table, "operatorbundle_name"):
            rows = self.conn.execute(f"SELECT group_name, version, kind, operatorbundle_name FROM {table}")
            return [(_text(g), _text(v), _text(k), _text(b)) for g, v, k, b in rows]
        by_entry = {e[0]: e[3] for e in entries}
        rows = self.conn.execute(f"SELECT group_name, version, kind, channel_entry_id FROM {table}")
        return [(_text(g), _text(v), _text(k), by_entry.get(e, "")) for g, v, k, e in rows]

    def _attach_related_images(self, bundles: dict[str, _StoredBundle]) -> None:
        if self.schema.has("related_image"):
            for image, name in self.conn.execute(
                "SELECT image, operatorbundle_name FROM related_image ORDER BY rowid"
            ):
                stored = bundles.get(_text(name))
                if stored is not None and image is not None:
                    stored.related.append(_text(image))
            return
        for stored in bundles.values():  # before migration 1: what that migration would have stored
            csv = _csv_column(stored) or _csv_of(stored)
            if csv:
                stored.related.extend(dict.fromkeys(_deployment_images(csv)))

    # -- blobs -----------------------------------------------------------------------------------

    def _bundle(self, stored: _StoredBundle, pkg: str) -> Bundle:
        props: list[Property] = []
        provided: dict[str, None] = {}
        required: dict[str, None] = {}
        has_package = False
        for typ, raw in stored.properties:
            value = _parse(raw, typ, stored.name)
            if typ == PROP_GVK:
                provided[_gvk_key(value)] = None
            else:
                has_package = has_package or typ == PROP_PACKAGE
                props.append(Property(typ, value))
        for typ, raw in stored.dependencies:
            value = _parse(raw, typ, stored.name)
            if typ == PROP_GVK:
                required[_gvk_key(value)] = None
            elif typ == PROP_PACKAGE:
                version_range = value.get("version", "") if isinstance(value, dict) else ""
                props.append(
                    Property(
                        PROP_PACKAGE_REQUIRED,
                        {"packageName": value.get("packageName", ""), "versionRange": version_range},
                    )
                )
        if not has_package:
            props.append(Property(PROP_PACKAGE, {"packageName": pkg, "version": stored.version}))
        props.extend(Property(PROP_GVK, orjson.loads(k)) for k in provided)
        props.extend(Property(PROP_GVK_REQUIRED, orjson.loads(k)) for k in required)
        objects = split_objects(stored.bundle) if stored.bundle else []
        props.extend(
            Property(PROP_BUNDLE_OBJECT, {"data": base64.b64encode(o.encode()).decode()}) for o in objects
        )
        props = _dedupe_sorted(props)

        csv = _csv_of(stored)
        related: list[RelatedImage] = []
        seen: set[str] = set()
        for ri in ((csv or {}).get("spec") or {}).get("relatedImages") or []:
            if isinstance(ri, dict):
                related.append(RelatedImage(name=str(ri.get("name") or ""), image=str(ri.get("image") or "")))
                seen.add(str(ri.get("image") or ""))
        for image in dict.fromkeys(stored.related):
            if image not in seen:
                related.append(RelatedImage(name="", image=image))
        related.sort(key=lambda r: r.image)
        return Bundle(
            name=stored.name, package=pkg, image=stored.path, properties=props, related_images=related
        )

    def _icon(self, head: _StoredBundle | None) -> Icon | None:
        if head is None:
            return None
        return csv_icon(_csv_of(head) or _csv_column(head))


def csv_icon(csv: dict[str, Any] | None) -> Icon | None:
    """The package icon opm migrate takes from a CSV: its first ``spec.icon``, the data re-encoded
    (spaces dropped when that is what makes it base64); None when there is none that decodes."""
    icons = ((csv or {}).get("spec") or {}).get("icon") or []
    if not icons or not isinstance(icons[0], dict):
        return None
    data = str(icons[0].get("base64data") or "")
    raw = _b64decode(data)
    if raw is None:
        raw = _b64decode(data.replace(" ", ""))
    if not raw:
        return None
    return Icon(base64data=base64.b64encode(raw).decode(), mediatype=str(icons[0].get("mediatype") or ""))


def _b64decode(data: str) -> bytes | None:
    return std_decode(data)  # Go's rules: line breaks skipped, nothing else outside the alphabet


def _parse(raw: str, typ: str, bundle: str) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise CatalogError(f"bundle {bundle!r}: property of type {typ!r} is not JSON: {exc}") from None


def _gvk_key(value: Any) -> str:
    v = value if isinstance(value, dict) else {}
    return _compact({"group": v.get("group", ""), "kind": v.get("kind", ""), "version": v.get("version", "")})


def _dedupe_sorted(props: list[Property]) -> list[Property]:
    """opm's property order: deduplicated, sorted by (type, value), bundle objects moved last."""
    keyed: dict[tuple[str, str], Property] = {}
    for p in props:
        keyed.setdefault((p.type, _compact(p.value)), p)
    ordered = [keyed[k] for k in sorted(keyed)]
    last = {PROP_BUNDLE_OBJECT, PROP_CSV_METADATA}
    return [p for p in ordered if p.type not in last] + [p for p in ordered if p.type in last]


def _channel_graph(
    entries: list[tuple[int, str, str, str, int | None, int]],
) -> dict[tuple[str, str, str], tuple[str, list[str]]]:
    """(bundle, package, channel) → (replaces, skips) from the channel_entry rows, as opm read them.

    The rows reachable from the channel heads (the rows at the smallest depth) by following
    ``replaces`` are the replaces chain; every other row that points somewhere records a skip.
    """
    by_id = {e[0]: e for e in entries}
    if not entries:
        return {}
    tip = min(e[5] for e in entries)
    on_chain: set[int] = set()
    stack = [e[0] for e in entries if e[5] == tip]
    while stack:
        eid = stack.pop()
        if eid in on_chain:
            continue
        on_chain.add(eid)
        target = by_id[eid][4] if eid in by_id else None
        if target is not None and target in by_id:
            stack.append(target)

    replaces: dict[tuple[str, str, str], str] = {}
    skips: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    order: dict[tuple[str, str, str], None] = {}
    for eid, ch, pkg, bname, target, _ in entries:
        key = (bname, pkg, ch)
        order.setdefault(key, None)
        target_row = by_id.get(target) if target is not None else None
        if eid in on_chain:
            if target_row is not None:
                replaces[key] = max(replaces.get(key, ""), target_row[3])
        elif target_row is not None:
            skips[key].append(target_row[3])
    return {key: (replaces.get(key, ""), skips.get(key, [])) for key in order}
