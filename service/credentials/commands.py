"""Command-line entry points for the credentials domain (wired into ``skillcred reminders``)."""

from __future__ import annotations

from service.core.config import Settings
from service.core.db import make_engine, unit_of_work
from service.core.models import utcnow
from service.credentials.expiry import record_expiry_reminders


def expiry_reminders_command(settings: Settings) -> list[str]:
    """Record the expiry reminders due now, in one transaction; returns the credentials' ids."""
    engine = make_engine(settings.database_url)
    try:
        with unit_of_work(engine) as session:
            return record_expiry_reminders(session, settings, utcnow())
    finally:
        engine.dispose()
