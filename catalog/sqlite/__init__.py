"""Legacy SQLite index databases (opm's ``index.db`` and IIB's hidden copy), read into FBC."""

from catalog.sqlite.read import read_index_db
from catalog.sqlite.schema import HIDDEN_DB_PATH, find_index_db, is_sqlite_file

__all__ = ["HIDDEN_DB_PATH", "find_index_db", "is_sqlite_file", "read_index_db"]
