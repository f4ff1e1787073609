"""Imports every domain's tables so the metadata is complete (Alembic, tests)."""

from __future__ import annotations


def import_all_models() -> None:
    """Register every SQLModel table with the shared metadata."""
    import service.accounts.models
    import service.achievements.models
    import service.assessment.models
    import service.audit.models
    import service.bulk.models
    import service.credentials.models
    import service.credentials.reminder_models
    import service.endorsements.models
    import service.events.models
    import service.evidence.models
    import service.idempotency.models
    import service.issuers.models
    import service.platforms.models
    import service.portal.models
    import service.status.models
    import service.webhooks.models  # noqa: F401
