"""The database schema (SQLAlchemy Core tables), one set for SQLite and PostgreSQL.

A request's current state is kept on its row (``state``, ``state_reason``, ``updated``) so that lists
need no join; every transition is also a ``request_states`` row (the state history). Per-type fields
live in ``data`` (JSON text in the response's own shape); the pull specs the list filters on are
``images`` rows referenced by ``from_index_id`` and ``index_image_id``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(255), nullable=False, unique=True),
)

operators = Table(
    "operators",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False, unique=True),
)

images = Table(
    "images",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("pull_specification", Text, nullable=False, unique=True),
    Column("operator_id", Integer, ForeignKey("operators.id"), nullable=True),
)

batches = Table(
    "batches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("annotations", Text, nullable=True),
)

requests = Table(
    "requests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("type", SmallInteger, nullable=False),
    Column("batch_id", Integer, ForeignKey("batches.id"), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=True),
    Column("state", SmallInteger, nullable=False),
    Column("state_reason", Text, nullable=False),
    Column("created", DateTime, nullable=False),
    Column("updated", DateTime, nullable=False),
    Column("from_index_id", Integer, ForeignKey("images.id"), nullable=True),
    Column("index_image_id", Integer, ForeignKey("images.id"), nullable=True),
    Column("data", Text, nullable=False),
    Column("pipelinerun_uid", String(64), nullable=True, unique=True),
    Column("pipelinerun_name", String(253), nullable=True),
    Column("pipelinerun_namespace", String(63), nullable=True),
    Column("pipelinerun_status", Text, nullable=True),
    Index("ix_requests_state_id", "state", "id"),
    Index("ix_requests_batch_id", "batch_id"),
    Index("ix_requests_type_id", "type", "id"),
    Index("ix_requests_user_id", "user_id", "id"),
    Index("ix_requests_from_index_id", "from_index_id"),
    Index("ix_requests_index_image_id", "index_image_id"),
)

request_states = Table(
    "request_states",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("request_id", Integer, ForeignKey("requests.id"), nullable=False),
    Column("state", SmallInteger, nullable=False),
    Column("state_reason", Text, nullable=False),
    Column("updated", DateTime, nullable=False),
    Index("ix_request_states_request_id_id", "request_id", "id"),
)

# How many requests there are per (type, state): every write that adds a request or changes a state
# updates it in the same transaction, so that list totals need no scan of ``requests``.
request_counts = Table(
    "request_counts",
    metadata,
    Column("type", SmallInteger, primary_key=True),
    Column("state", SmallInteger, primary_key=True),
    Column("count", BigInteger, nullable=False),
)
