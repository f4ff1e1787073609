"""First-run set-up: the bootstrap admin, and in development a demo issuer and achievement."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from service.accounts import service as accounts
from service.accounts.models import Role
from service.config import Settings
from service.db import unit_of_work


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


def ensure_demo_data(engine: Engine, settings: Settings) -> dict[str, str] | None:
    """In development: a demo issuer and one achievement when the database has no issuer yet."""
    from sqlmodel import select

    from service.achievements.schemas import AchievementCreate
    from service.achievements.service import create_achievement
    from service.issuers.models import Issuer
    from service.issuers.service import create_issuer
    from service.keystore import Keystore, load_kek

    with unit_of_work(engine) as session:
        if session.exec(select(Issuer.id)).first() is not None:
            return None
        issuer = create_issuer(session, Keystore(load_kek(settings)), settings, name=DEMO_ISSUER_NAME,
                               url=settings.public_url, description="Development issuer created by `make run`.")
        achievement = create_achievement(session, issuer.id, AchievementCreate(
            name="Automated testing in Python",
            description="Designs and maintains a meaningful automated test suite for a Python project.",
            criteria={"narrative": "A public repository whose tests run in CI and cover the project's core "
                                   "behaviour, reviewed against the SkillCred rubric."},
            tags=["python", "testing"],
        ), actor=None)
        return {"issuer_id": issuer.id, "did": issuer.did, "achievement_id": achievement.id}
