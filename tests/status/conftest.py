"""Fixtures for the status list tests.

The background re-signer is off here (tests run its rounds themselves, ``resigner_round``, with the
app's clock stopped by the ``clock`` fixture) except where a test turns it on; ``status_settings`` overrides
other settings per test with ``@pytest.mark.parametrize("status_settings", [{...}])``.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import Session

from service.core.clock import FixedClock
from service.core.config import Settings
from service.core.db import unit_of_work


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


@pytest.fixture
def clock(app) -> FixedClock:
    """The app's clock, stopped at the present: ``clock.advance(timedelta(...))`` moves it."""
    fixed = FixedClock(datetime.now(UTC))
    app.state.clock = fixed
    return fixed
