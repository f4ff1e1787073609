"""A PostgreSQL schema of its own for one benchmark run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa


@contextmanager
def postgres_schema(database_url: str, name: str) -> Iterator[str]:
    """A URL of ``database_url`` whose connections use a fresh schema of their own (dropped
    afterwards) and name themselves ``{name}-{pid}`` (``application_name``, by which
    :func:`tests.conftest.idle_in_transaction` finds them)."""
    schema = f"{name.replace('-', '_')}_{os.getpid()}"
    admin = sa.create_engine(database_url)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in database_url else "?"
    try:
        yield f"{database_url}{separator}options=-csearch_path%3D{schema}&application_name={name}-{os.getpid()}"
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
