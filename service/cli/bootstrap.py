"""First-run set-up: the bootstrap admin, and in development a demo issuer and achievement."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from service.accounts import service as accounts
from service.accounts.models import Role
from service.core.config import Settings
from service.core.db import unit_of_work


def ensure_admin(engine: Engine, settings: Settings) -> str | None:
    """Create the admin from ``SKILLCRED_BOOTSTRAP_ADMIN_*`` when the database has none.

    Returns the email of the account created, or None when an admin already existed or no
    bootstrap credentials are configured.
    """
    email, password = settings.bootstrap_admin_email, settings.bootstrap_admin_password
    with unit_of_work(engine) as session:
        if accounts.has_admin(session) or not email or not password:
            return None
        accounts.create_account(session, email=email, password=password.get_secret_value(), role=Role.admin)
        return email


DEMO_ISSUER_NAME = "SkillCred Demo Issuer"

# The demo achievement's rubric, so `make run` can take evidence through assessment and review.
DEMO_RUBRIC = {
    "id": "python-testing",
    "version": 1,
    "name": "Automated testing in Python",
    "criteria": [
        {
            "id": "tests",
            "name": "Meaningful tests",
            "weight": 2,
            "required": True,
            "description": "The project has automated tests that check its core behaviour, not just that it imports.",
            "key_ideas": ["pytest", "unit tests", "test coverage", "fixtures", "edge cases", "assertions"],
            "levels": [
                {
                    "id": "none",
                    "name": "Not shown",
                    "description": "No tests, or tests that check nothing.",
                    "points": 0,
                },
                {"id": "basic", "name": "Basic", "description": "Some tests of the main paths.", "points": 2},
                {
                    "id": "solid",
                    "name": "Solid",
                    "description": "Core behaviour and edge cases are tested.",
                    "points": 4,
                },
            ],
        },
        {
            "id": "ci",
            "name": "Tests run automatically",
            "weight": 1,
            "description": "The tests run in continuous integration on every change.",
            "key_ideas": ["continuous integration", "GitHub Actions", "CI pipeline", "pull request"],
            "levels": [
                {"id": "none", "name": "Not shown", "description": "Tests are run by hand, if at all.", "points": 0},
                {"id": "yes", "name": "In CI", "description": "A CI configuration runs the tests.", "points": 2},
            ],
        },
    ],
    "pass_rule": {"min_total": 6},
    "policy": "review",
}


def ensure_demo_data(engine: Engine, settings: Settings) -> dict[str, str] | None:
    """In development: a demo issuer and one achievement when the database has no issuer yet."""
    from sqlmodel import select

    from service.achievements.schemas import AchievementCreate
    from service.achievements.service import create_achievement
    from service.core.keystore import Keystore, load_kek
    from service.issuers.models import Issuer
    from service.issuers.service import create_issuer

    with unit_of_work(engine) as session:
        if session.exec(select(Issuer.id)).first() is not None:
            return None
        issuer = create_issuer(
            session,
            Keystore(load_kek(settings)),
            settings,
            name=DEMO_ISSUER_NAME,
            url=settings.public_url,
            description="Development issuer created by `make run`.",
        )
        achievement = create_achievement(
            session,
            issuer.id,
            AchievementCreate(
                name="Automated testing in Python",
                description="Designs and maintains a meaningful automated test suite for a Python project.",
                criteria={
                    "narrative": "A public repository whose tests run in CI and cover the project's core "
                    "behaviour, reviewed against the SkillCred rubric."
                },
                tags=["python", "testing"],
                rubric=DEMO_RUBRIC,
            ),
            actor=None,
        )
        return {"issuer_id": issuer.id, "did": issuer.did, "achievement_id": achievement.id}


def admin_email(engine: Engine) -> str | None:
    """The email of the oldest admin account (for the start-up banner), or None when there is none."""
    from sqlmodel import col, select

    from service.accounts.models import Account

    with unit_of_work(engine) as session:
        statement = select(Account.email).where(Account.role == Role.admin).order_by(col(Account.created_at))
        return session.exec(statement).first()
