"""Fixtures for the status list tests.

The background re-signer is off here (tests drive re-signing through reads and a fake clock)
except where a test turns it on; ``status_settings`` overrides other settings per test with
``@pytest.mark.parametrize("status_settings", [{...}])``.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session

from service.core.config import Settings
from service.core.db import unit_of_work
from service.status import publish, routes


@pytest.fixture
def status_settings() -> dict[str, Any]:
    return {}


@pytest.fixture
def settings(settings: Settings, status_settings: dict[str, Any]) -> Settings:
    return settings.model_copy(update={"status_list_background_resign": False, **status_settings})


@pytest.fixture
def issuer(api) -> dict[str, Any]:
    return api.create_issuer("Acme Academy")


@pytest.fixture
def achievement(api, issuer) -> dict[str, Any]:
    return api.create_achievement(issuer["id"], name="Python testing")


@pytest.fixture
def issuer_admin(api, issuer) -> dict[str, str]:
    return api.create_account("issuer_admin", issuer["id"])


@pytest.fixture
def db(app) -> Callable[[], AbstractContextManager[Session]]:
    """``with db() as session:`` a unit of work on the test app's database."""
    return lambda: unit_of_work(app.state.engine)


class Clock:
    """A settable "now" for the status list code (publishing and the status route)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(publish, "utcnow", fake)
    monkeypatch.setattr(routes, "utcnow", fake)
    return fake
