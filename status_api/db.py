"""Engines and transactions for SQLite (the embedded default) and PostgreSQL (production).

Reads run on an autocommit engine (no BEGIN/COMMIT round trips); writes run in a transaction on a
second engine. SQLite writers take the write lock up front (``BEGIN IMMEDIATE``) so that concurrent
writers queue on the busy timeout instead of failing on a lock upgrade.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from status_api.models import metadata

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def normalize_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs (SQLAlchemy would pick psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _sqlite_engine(url: str, immediate: bool) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let the begin hook below decide
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if immediate:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


@dataclass
class Database:
    """The two engines of one process; ``read()`` and ``write()`` hand out connections."""

    url: str
    reader: Engine
    writer: Engine

    @property
    def is_sqlite(self) -> bool:
        return self.writer.dialect.name == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection in autocommit mode: every statement sees the latest committed data."""
        with self.reader.connect() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A connection inside one transaction, committed at the end, rolled back on error."""
        with self.writer.begin() as conn:
            yield conn

    def ping(self) -> None:
        """Run ``SELECT 1``; raises when the database cannot be reached."""
        with self.read() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.reader.dispose()
        self.writer.dispose()


def connect(url: str, pool_size: int = 5) -> Database:
    """Open engines for ``url`` (no connection is made until first use)."""
    url = normalize_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        reader = _sqlite_engine(url, immediate=False)
        writer = _sqlite_engine(url, immediate=True)
    else:
        options = {"pool_size": pool_size, "max_overflow": pool_size * 2, "pool_pre_ping": False}
        # Autocommit connections hold no transaction: nothing to roll back when they return to the pool.
        reader = create_engine(url, isolation_level="AUTOCOMMIT", pool_reset_on_return=None, **options)
        writer = create_engine(url, **options)
    return Database(url=url, reader=reader, writer=writer)


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema of ``url`` to ``revision`` with the Alembic migrations."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    command.upgrade(config, revision)


__all__ = ["Database", "connect", "metadata", "normalize_url", "upgrade"]
