"""Reading legacy SQLite index databases as ``opm migrate`` did (testdata/sqlite: opm's own output)."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest

from catalog.errors import CatalogError
from catalog.sqlite import read_index_db
from tests.catalog.ops.fbcjson import blobs_by_package, read_catalog_dir


@pytest.fixture(scope="module")
def db(testdata: Path) -> Path:
    return testdata / "sqlite" / "bundles.db"


@pytest.fixture(scope="module")
def expected(testdata: Path) -> dict:
    return read_catalog_dir(testdata / "sqlite" / "migrated-expected")


def test_migrated_catalog_equals_opms(db: Path, expected: dict) -> None:
    got = blobs_by_package(read_index_db(db))
    assert sorted(got) == ["etcd", "prometheus", "strimzi-kafka-operator"]
    for package, blobs in expected.items():
        assert got[package] == blobs, package


def test_reading_never_changes_the_file(db: Path) -> None:
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    read_index_db(db)
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_skips_come_from_rows_off_the_replaces_chain(db: Path) -> None:
    cfg = read_index_db(db)
    alpha = next(c for c in cfg.channels if c.package == "etcd" and c.name == "alpha")
    head = next(e for e in alpha.entries or [] if e.name == "etcdoperator.v0.9.2")
    assert head.replaces == "etcdoperator.v0.9.0"
    assert head.skips == ["etcdoperator.v0.9.1"]  # 0.9.1 has rows but no bundle: not an entry itself
    assert head.skip_range == "< 0.6.0"
    assert "etcdoperator.v0.9.1" not in {e.name for e in alpha.entries or []}


def _downgrade_to_v5(src: Path, dst: Path) -> None:
    """Rebuild ``src`` with schema version 5's tables (APIs linked to channel entries, no properties)."""
    old = sqlite3.connect(src)
    new = sqlite3.connect(dst)
    new.executescript(
        """
        CREATE TABLE schema_migrations (version bigint NOT NULL, timestamp DATETIME);
        INSERT INTO schema_migrations VALUES (5, NULL);
        CREATE TABLE operatorbundle (name TEXT PRIMARY KEY, csv TEXT, bundle TEXT, bundlepath TEXT,
                                     skiprange TEXT, version TEXT);
        CREATE TABLE package (name TEXT PRIMARY KEY, default_channel TEXT);
        CREATE TABLE channel (name TEXT, package_name TEXT, head_operatorbundle_name TEXT);
        CREATE TABLE channel_entry (entry_id INTEGER PRIMARY KEY, channel_name TEXT, package_name TEXT,
                                    operatorbundle_name TEXT, replaces INTEGER, depth INTEGER);
        CREATE TABLE api (group_name TEXT, version TEXT, kind TEXT, plural TEXT NOT NULL);
        CREATE TABLE api_provider (group_name TEXT, version TEXT, kind TEXT, channel_entry_id INTEGER);
        CREATE TABLE api_requirer (group_name TEXT, version TEXT, kind TEXT, channel_entry_id INTEGER);
        CREATE TABLE related_image (image TEXT, operatorbundle_name TEXT);
        """
    )
    copies = {
        "operatorbundle": "name, csv, bundle, bundlepath, skiprange, version",
        "package": "name, default_channel",
        "channel": "name, package_name, head_operatorbundle_name",
        "channel_entry": "entry_id, channel_name, package_name, operatorbundle_name, replaces, depth",
        "api": "group_name, version, kind, plural",
        "related_image": "image, operatorbundle_name",
    }
    for table, cols in copies.items():
        rows = old.execute(f"SELECT {cols} FROM {table}").fetchall()
        marks = ", ".join("?" * len(cols.split(",")))
        new.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)
    first_entry = dict(
        old.execute("SELECT operatorbundle_name, min(entry_id) FROM channel_entry GROUP BY 1").fetchall()
    )
    for table in ("api_provider", "api_requirer"):
        for g, v, k, name in old.execute(
            f"SELECT group_name, version, kind, operatorbundle_name FROM {table}"
        ).fetchall():
            new.execute(f"INSERT INTO {table} VALUES (?, ?, ?, ?)", (g, v, k, first_entry[name]))
    new.commit()
    old.close()
    new.close()


def test_schema_version_5_reads_the_same(db: Path, expected: dict, tmp_path: Path) -> None:
    v5 = tmp_path / "v5.db"
    _downgrade_to_v5(db, v5)
    got = blobs_by_package(read_index_db(v5))
    for package, blobs in expected.items():
        assert got[package] == blobs, package


def test_deprecated_bundles_are_left_out(db: Path, tmp_path: Path) -> None:
    copy = tmp_path / "index.db"
    shutil.copy(db, copy)
    conn = sqlite3.connect(copy)
    conn.execute(
        "INSERT INTO properties (type, value, operatorbundle_name, operatorbundle_version,"
        " operatorbundle_path) VALUES ('olm.deprecated', '{}', 'prometheusoperator.0.14.0', '0.14.0', '')"
    )
    conn.commit()
    conn.close()
    cfg = read_index_db(copy)
    names = {b.name for b in cfg.bundles}
    assert "prometheusoperator.0.14.0" not in names
    preview = next(c for c in cfg.channels if c.package == "prometheus")
    assert [e.name for e in preview.entries or []] == [
        "prometheusoperator.0.15.0",
        "prometheusoperator.0.22.2",
    ]
    tail = preview.entries[0] if preview.entries else None
    assert (
        tail is not None and tail.replaces == "prometheusoperator.0.14.0"
    )  # a tail may replace a gone bundle


def test_not_a_database_is_one_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "index.db"
    bogus.write_text("{}")
    with pytest.raises(CatalogError, match="is not an SQLite database"):
        read_index_db(bogus)
    with pytest.raises(CatalogError, match="no such file"):
        read_index_db(tmp_path / "absent.db")


def test_a_database_without_index_tables_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(CatalogError, match="not an operator index database"):
        read_index_db(other)


def test_schema_version_1_reads_versions_and_skipranges_from_the_csv(db: Path, tmp_path: Path) -> None:
    """Before migrations 2 and 5 there was no bundlepath, version or skiprange column."""
    old = sqlite3.connect(db)
    v1 = tmp_path / "v1.db"
    new = sqlite3.connect(v1)
    new.executescript(
        """
        CREATE TABLE operatorbundle (name TEXT PRIMARY KEY, csv TEXT, bundle TEXT);
        CREATE TABLE package (name TEXT PRIMARY KEY, default_channel TEXT);
        CREATE TABLE channel (name TEXT, package_name TEXT, head_operatorbundle_name TEXT);
        CREATE TABLE channel_entry (entry_id INTEGER PRIMARY KEY, channel_name TEXT, package_name TEXT,
                                    operatorbundle_name TEXT, replaces INTEGER, depth INTEGER);
        CREATE TABLE api_provider (group_name TEXT, version TEXT, kind TEXT, channel_entry_id INTEGER);
        """
    )
    for table, cols in {
        "operatorbundle": "name, csv, bundle",
        "package": "name, default_channel",
        "channel": "name, package_name, head_operatorbundle_name",
        "channel_entry": "entry_id, channel_name, package_name, operatorbundle_name, replaces, depth",
    }.items():
        rows = old.execute(f"SELECT {cols} FROM {table}").fetchall()
        new.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(cols.split(',')))})", rows)
    new.commit()
    new.close()
    old.close()
    got = read_index_db(v1)
    want = read_index_db(db)
    assert [(c.package, c.name, c.entries) for c in got.channels] == [
        (c.package, c.name, c.entries) for c in want.channels
    ]  # replaces, skips and the skipRange "< 0.6.0" all recovered
    for g, w in zip(got.bundles, want.bundles, strict=True):
        assert g.name == w.name and g.image == ""
        assert [p for p in g.properties if p.type == "olm.package"] == [
            p for p in w.properties if p.type == "olm.package"
        ]
        # related images come from the CSV when the related_image table did not exist yet
        assert {r.image for r in w.related_images} <= {r.image for r in g.related_images}
