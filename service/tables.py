"""Imports every domain's tables so the metadata is complete (Alembic, tests)."""

from __future__ import annotations


def import_all_models() -> None:
    """Register every SQLModel table with the shared metadata."""
    import service.accounts.models  # noqa: F401
    import service.achievements.models  # noqa: F401
    import service.assessment.models  # noqa: F401
    import service.audit.models  # noqa: F401
    import service.credentials.models  # noqa: F401
    import service.credentials.reminder_models  # noqa: F401
    import service.endorsements.models  # noqa: F401
    import service.evidence.models  # noqa: F401
    import service.issuers.models  # noqa: F401
    import service.status.models  # noqa: F401
