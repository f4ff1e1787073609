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
