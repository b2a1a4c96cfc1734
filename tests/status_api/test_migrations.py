"""The Alembic migrations: they build exactly the schema of models.py, and they go down and up again."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from status_api.db import MIGRATIONS, normalize_url
from status_api.models import metadata


def _config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalize_url(url))
    return config


def test_migrations_match_the_models(db_url: str) -> None:
    engine = create_engine(normalize_url(db_url))
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert differences == []


def test_downgrade_and_upgrade_again(db_url: str) -> None:
    config = _config(db_url)
    command.downgrade(config, "base")
    engine = create_engine(normalize_url(db_url))
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(config, "head")
    assert {"requests", "request_states", "request_counts"} <= set(inspect(engine).get_table_names())
    engine.dispose()
