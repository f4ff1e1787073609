"""Fixtures for the Idempotency-Key tests: an issuer, an achievement that may be held many times
(so only the key can stop a second credential), and helpers to post with a key."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import Session, select

from service.core.clock import FixedClock
from service.idempotency.models import IdempotencyRecord


@pytest.fixture
def issuer(api) -> dict[str, Any]:
    return api.create_issuer("Acme Academy")


@pytest.fixture
def achievement(api, issuer) -> dict[str, Any]:
    return api.create_achievement(issuer["id"], allow_multiple_active=True)


@pytest.fixture
def clock(app) -> FixedClock:
    """The app's clock, held still (tests move it on)."""
    app.state.clock = FixedClock(datetime.now(UTC))
    return app.state.clock


def issue_body(achievement: dict[str, Any], email: str = "ada@example.org") -> dict[str, Any]:
    return {"achievement_id": achievement["id"], "recipient": {"email": email}}


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


def credential_count(api, headers: dict[str, str] | None = None) -> int:
    response = api.client.get("/v1/credentials", headers=headers or api.admin)
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


def records(app) -> list[IdempotencyRecord]:
    with Session(app.state.engine) as session:
        return list(session.exec(select(IdempotencyRecord)).all())
