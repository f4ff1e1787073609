"""Setting and clearing entries of the status lists. No FastAPI here, and nothing commits.

A credential has one entry in its issuer's revocation list and one in its suspension list
(:mod:`service.status.allocation`). Changing an entry's value is a one-row update of the entry,
plus a bump of its list's ``version``, which makes the list dirty: :mod:`service.status.publish`
re-signs it within the interval. The credential's own state (revoked, suspended) is the
credentials domain's: :mod:`service.credentials.lifecycle` moves it and calls :func:`set_entry`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from service.core.config import Settings
from service.status.allocation import status_list_url
from service.status.jobs import publish_change
from service.status.models import StatusEntry, StatusList, StatusPurpose


def credential_entry(session: Session, credential_id: str, purpose: StatusPurpose) -> StatusEntry | None:
    """Credential ``credential_id``'s entry in its ``purpose`` list.

    None for a credential issued before status lists existed (it has no entry to change). The
    entries of the credential's endorsements are not the credential's.
    """
    return session.exec(
        select(StatusEntry)
        .join(StatusList, col(StatusList.id) == col(StatusEntry.list_id))
        .where(
            StatusEntry.credential_id == credential_id,
            col(StatusEntry.endorsement_id).is_(None),
            StatusList.purpose == purpose.value,
        )
    ).first()


def endorsement_entry(session: Session, endorsement_id: str, purpose: StatusPurpose) -> StatusEntry | None:
    """An issuer-signed endorsement's entry in its ``purpose`` list (None: it has none, e.g. one
    signed before endorsements had status entries, or one the endorser signed themselves)."""
    return session.exec(
        select(StatusEntry)
        .join(StatusList, col(StatusList.id) == col(StatusEntry.list_id))
        .where(StatusEntry.endorsement_id == endorsement_id, StatusList.purpose == purpose.value)
    ).first()


def set_entry(session: Session, list_id: str, status_index: int, value: int, now: datetime) -> None:
    """Set entry ``status_index`` of list ``list_id`` to ``value`` (1: revoked or suspended, 0:
    not) and mark the list changed at ``now``, in the caller's transaction, which also asks for
    the list to be re-signed within seconds (:func:`service.status.jobs.publish_change`)."""
    connection = session.connection()
    connection.execute(
        update(StatusEntry)
        .where(col(StatusEntry.list_id) == list_id, col(StatusEntry.status_index) == status_index)
        .values(value=value)
    )
    connection.execute(
        update(StatusList).where(col(StatusList.id) == list_id).values(version=StatusList.version + 1, changed_at=now)
    )
    publish_change(session, list_id)


def entry_url(settings: Settings, entry: StatusEntry) -> str:
    """The entry's URL as a credential's ``credentialStatus.id`` names it: ``<list URL>#<index>``."""
    return f"{status_list_url(settings, entry.list_id)}#{entry.status_index}"
