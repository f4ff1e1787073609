"""Fixtures for the issuers tests: direct database access and a signed credential to check keys with."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import Session, func, select

from service.core.db import unit_of_work
from service.issuers.models import Issuer
from service.issuers.service import issuer_profile
from service.vc.openbadges import Achievement, build_achievement_credential

HOST_DID = "did:web:skillcred.example"


@pytest.fixture
def db(app) -> Callable[[], AbstractContextManager[Session]]:
    """``with db() as session:`` a unit of work on the test app's database."""
    return lambda: unit_of_work(app.state.engine)


@pytest.fixture
def count(db) -> Callable[[type], int]:
    """The number of rows of a table."""

    def rows(model: type) -> int:
        with db() as session:
            return int(session.exec(select(func.count()).select_from(model)).one())

    return rows


def load_issuer(db, issuer_id: str) -> Issuer:
    with db() as session:
        issuer = session.get(Issuer, issuer_id)
        assert issuer is not None
        return issuer


def unsigned_badge(issuer: Issuer) -> dict[str, Any]:
    """An unsigned OB 3.0 credential from ``issuer`` (the service's own Profile of it)."""
    return build_achievement_credential(
        credential_id="urn:uuid:1b9a3c3e-8f0e-4d52-9d0b-5a4c2f0c7e11",
        issuer=issuer_profile(issuer),
        achievement=Achievement(
            id="https://skillcred.example/achievements/a1",
            name="Python testing",
            description="Writes meaningful automated tests.",
            criteria_narrative="A repository with a tested project.",
        ),
        recipient_did="did:example:ebfeb1f712ebc6f1c276e12ec21",
        valid_from=datetime(2024, 5, 1, 12, tzinfo=UTC),
    )
