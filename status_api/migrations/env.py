"""Alembic environment: migrate the database named by ``sqlalchemy.url`` or SQLALCHEMY_DATABASE_URI."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from status_api.db import normalize_url
from status_api.models import metadata
from status_api.settings import load_settings

config = context.config
url = config.get_main_option("sqlalchemy.url") or normalize_url(load_settings().SQLALCHEMY_DATABASE_URI)


def run_offline() -> None:
    context.configure(url=url, target_metadata=metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
