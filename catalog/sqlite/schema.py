"""What a legacy ``index.db`` holds: its tables, their columns and the migration it reached.

opm's SQLite index went through 14 schema migrations (ids 0 to 13). Instead of migrating a database
in place as opm did, the reader asks which tables and columns exist and reads each fact from where
that schema version kept it (see :mod:`catalog.sqlite.read`).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from catalog.errors import CatalogError

# Where IIB keeps its own SQLite index inside the FBC index images it built.
HIDDEN_DB_PATH = "/var/lib/iib/_hidden/do.not.edit.db"

_SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass(slots=True)
class IndexSchema:
    """The tables of one database and the columns of each."""

    tables: dict[str, set[str]] = field(default_factory=dict)
    version: int | None = None  # last applied migration id, when schema_migrations says

    def has(self, table: str, column: str | None = None) -> bool:
        """Whether ``table`` (and, if given, its ``column``) exists."""
        cols = self.tables.get(table)
        if cols is None:
            return False
        return column is None or column in cols


def is_sqlite_file(path: Path) -> bool:
    """Whether ``path`` is a regular file that starts with SQLite's magic header."""
    try:
        with path.open("rb") as f:
            return f.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC
    except OSError:
        return False


def find_index_db(path: Path) -> Path:
    """The index database at ``path``: the file itself, or inside an extracted image root IIB's
    hidden database (``/var/lib/iib/_hidden/do.not.edit.db``) or opm's ``/database/index.db``."""
    if path.is_dir():
        for candidate in (path / HIDDEN_DB_PATH.lstrip("/"), path / "database" / "index.db"):
            if candidate.is_file():
                return candidate
        raise CatalogError(
            f"{path} holds no index database (looked for {HIDDEN_DB_PATH} and /database/index.db)"
        )
    return path


def open_read_only(path: Path) -> sqlite3.Connection:
    """Open ``path`` read-only (the file is never changed), or raise a CatalogError saying why not."""
    if not path.is_file():
        raise CatalogError(f"open {path}: no such file")
    if not is_sqlite_file(path):
        raise CatalogError(f"{path} is not an SQLite database")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1")
    except sqlite3.Error as exc:
        raise CatalogError(f"open {path}: {exc}") from None
    return conn


def inspect_schema(conn: sqlite3.Connection) -> IndexSchema:
    """List the tables and columns of ``conn`` and the last migration it records."""
    schema = IndexSchema()
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        cols = {row[1] for row in conn.execute(f'PRAGMA table_info("{name}")')}
        schema.tables[name] = cols
    if schema.has("schema_migrations", "version"):
        row = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
        schema.version = int(row[0]) if row and row[0] is not None else None
    for needed in ("operatorbundle", "package", "channel", "channel_entry"):
        if needed not in schema.tables:
            raise CatalogError(f"not an operator index database: table {needed!r} is missing")
    return schema
