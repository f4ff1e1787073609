"""Expiry: upcoming expiries per issuer, and the reminder events produced N days before a
credential's ``validUntil``. No FastAPI here, and nothing commits.

A reminder is an audit event (``credential.expiry_reminder``, object the credential) written once
per credential when it enters the reminder window (``SKILLCRED_EXPIRY_REMINDER_DAYS``, default
30); the platform webhooks of a later issue deliver them. ``skillcred reminders`` runs
:func:`record_expiry_reminders`; running it again writes nothing new for the same credentials,
and neither do two runs at once (the :class:`~service.credentials.reminder_models.ExpiryReminder`
ledger's primary key decides which run records a reminder).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, exists, select

from service.audit.service import record
from service.core.config import Settings
from service.core.errors import NotFound
from service.core.paging import PageParams, paginate
from service.credentials.models import Credential, CredentialState, RecipientIdentity
from service.credentials.reminder_models import ExpiryReminder
from service.events.service import emit
from service.issuers.models import Issuer

EXPIRY_REMINDER = "credential.expiry_reminder"
EXPIRY_KIND = "expiry"


def _expiring_between(start: datetime, end: datetime) -> tuple:
    """Active credentials whose ``validUntil`` is after ``start`` and no later than ``end``."""
    return (
        Credential.state == CredentialState.active,
        col(Credential.valid_until).is_not(None),
        col(Credential.valid_until) > start,
        col(Credential.valid_until) <= end,
    )


def list_expiring(
    session: Session, issuer_id: str, params: PageParams, *, now: datetime, within_days: int
) -> tuple[list[tuple[Credential, RecipientIdentity]], int]:
    """One page of an issuer's active credentials expiring within ``within_days`` of ``now``,
    soonest first, with their recipients. Returns (rows, total); :class:`NotFound` for an unknown issuer."""
    if session.get(Issuer, issuer_id) is None:
        raise NotFound("No such issuer")
    statement = (
        select(Credential, RecipientIdentity)
        .join(RecipientIdentity, col(RecipientIdentity.id) == col(Credential.recipient_id))
        .where(Credential.issuer_id == issuer_id, *_expiring_between(now, now + timedelta(days=within_days)))
        .order_by(col(Credential.valid_until), col(Credential.id))
    )
    rows, total = paginate(session, statement, params)
    return [(row[0], row[1]) for row in rows], total


def record_expiry_reminders(session: Session, settings: Settings, now: datetime) -> list[str]:
    """Write one ``credential.expiry_reminder`` event for every active credential that expires
    within ``settings.expiry_reminder_days`` of ``now`` and has no reminder yet. Returns the ids
    of the credentials reminded about, soonest expiry first (empty when there is nothing new).

    Safe to run concurrently: each reminder is first claimed in the :class:`ExpiryReminder`
    ledger with ``INSERT ... ON CONFLICT DO NOTHING`` (primary key: credential and kind), and the
    event is written only by the run whose insert took. A second run racing the first waits on
    the database for the first one's rows and then skips them."""
    days = settings.expiry_reminder_days
    claimed = exists().where(
        col(ExpiryReminder.credential_id) == col(Credential.id), col(ExpiryReminder.kind) == EXPIRY_KIND
    )
    due = session.exec(
        select(Credential)
        .where(*_expiring_between(now, now + timedelta(days=days)), ~claimed)
        .order_by(col(Credential.valid_until), col(Credential.id))
    ).all()
    reminded = []
    for credential in due:
        assert credential.valid_until is not None  # the query asked for it
        if not _claim(session, credential, days, now):
            continue  # another run has just reminded about it
        record(
            session,
            action=EXPIRY_REMINDER,
            object_type="credential",
            object_id=credential.id,
            issuer_id=credential.issuer_id,
            after={
                "valid_until": credential.valid_until.isoformat().replace("+00:00", "Z"),
                "reminder_days": days,
                "days_left": (credential.valid_until - now).days,
            },
        )
        emit(
            session,
            issuer_id=credential.issuer_id,
            type="credential.expiring",
            data={
                "credential_id": credential.id,
                "valid_until": credential.valid_until,
                "days_left": (credential.valid_until - now).days,
            },
        )
        reminded.append(credential.id)
    session.flush()
    return reminded


def _claim(session: Session, credential: Credential, days: int, now: datetime) -> bool:
    """Insert the credential's reminder row unless one exists; True when this call inserted it."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(ExpiryReminder)
        .values(
            credential_id=credential.id,
            kind=EXPIRY_KIND,
            valid_until=credential.valid_until,
            days_before=days,
            recorded_at=now,
        )
        .on_conflict_do_nothing(index_elements=["credential_id", "kind"])
    )
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT ... ON CONFLICT here
    return session.connection().execute(statement.returning(col(ExpiryReminder.credential_id))).first() is not None
