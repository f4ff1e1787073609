"""Applying and checking the Alembic history from code (CLI, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config

from alembic import command

_PACKAGED = Path(__file__).resolve().parents[1] / "_alembic"  # in a wheel (see pyproject force-include)
SCRIPT_LOCATION = _PACKAGED if _PACKAGED.exists() else Path(__file__).resolve().parents[2] / "alembic"


def alembic_config(database_url: str) -> Config:
    """An Alembic config for ``database_url`` using the project's migration scripts."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str) -> None:
    """Bring the database to the latest revision."""
    command.upgrade(alembic_config(database_url), "head")


def check(database_url: str) -> None:
    """Raise when the models and the migrations disagree (``alembic check``)."""
    command.check(alembic_config(database_url))
