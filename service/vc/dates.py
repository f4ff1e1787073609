"""Date-times as credentials write them, and the error the credential builders raise.

Shared by the Open Badges builder (:mod:`service.vc.openbadges`) and SkillCred's assessment
statement (:mod:`service.vc.skillcred`), so neither has to import the other for it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from service.vc.errors import VCError


class CredentialBuildError(VCError):
    """The builder's inputs cannot make a conforming credential (e.g. no recipient, relative id)."""

    code = "invalid_credential_input"


def format_datetime(value: datetime | str, field: str = "date") -> str:
    """Normalise an aware datetime or an ISO 8601 string with a zone to ``YYYY-MM-DDTHH:MM:SSZ``
    (UTC, whole seconds). A value without a time zone is refused: it would be ambiguous."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as error:
            raise CredentialBuildError(f"{field}: not an ISO 8601 date-time: {value!r}") from error
    if not isinstance(value, datetime):
        raise CredentialBuildError(f"{field}: expected a datetime or ISO 8601 string")
    if value.tzinfo is None or value.utcoffset() is None:
        raise CredentialBuildError(f"{field}: a time zone is required (use UTC)")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


__all__ = ["CredentialBuildError", "format_datetime"]
