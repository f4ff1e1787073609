"""Alembic environment: one history for SQLite and PostgreSQL, models from every domain package."""

from __future__ import annotations

from sqlalchemy import Connection

from alembic import context
from service.core.db import make_engine, metadata
from service.tables import import_all_models

import_all_models()
config = context.config


def _database_url() -> str:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from service.core.config import get_settings

    return get_settings().database_url


def _ours(name: str | None, type_: str, parent_names: object) -> bool:
    """Autogenerate and ``alembic check`` compare only SkillCred's tables: procrastinate's job
    queue tables (PostgreSQL) are its own, created from its SQL by a migration."""
    return not (type_ == "table" and name is not None and name.startswith("procrastinate_"))


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_name=_ours,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite ALTER TABLE via batch mode
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=_database_url(), target_metadata=metadata, literal_binds=True, dialect_opts={"paramstyle": "named"}
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_database_url())
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
