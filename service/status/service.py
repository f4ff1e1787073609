"""Revoking, suspending and unsuspending credentials. No FastAPI here, and nothing commits.

A change sets (or clears) the credential's bit in its issuer's revocation or suspension list,
records the new state with its time and reason on the credential, bumps the list's ``version``
(which makes it dirty: :mod:`service.status.publish` re-signs it within the interval) and writes
an audit event with the state before and after; all in the caller's transaction.

| action    | from               | to        | bit                |
|-----------|--------------------|-----------|--------------------|
| revoke    | active, suspended  | revoked   | revocation := 1    |
| suspend   | active             | suspended | suspension := 1    |
| unsuspend | suspended          | active    | suspension := 0    |

Revocation is irreversible: every action on a revoked credential is a conflict (409), as are
suspending a suspended credential and unsuspending one that is not suspended. The state moves
with a conditional update (``... WHERE state = <the state read>``), so of two simultaneous
changes one wins and the other is a conflict, on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import update
from sqlmodel import Session, col, select

from service.accounts.models import Account, Role
from service.audit.service import record
from service.core.config import Settings
from service.core.errors import Conflict, Forbidden, NotFound
from service.core.models import utcnow
from service.credentials.models import Credential, CredentialState
from service.status.allocation import status_list_url
from service.status.models import StatusEntry, StatusList, StatusPurpose

NO_SUCH_CREDENTIAL = "No such credential"
CHANGING_ROLES = frozenset({Role.admin, Role.issuer_admin})


class StatusAction(StrEnum):
    revoke = "revoke"
    suspend = "suspend"
    unsuspend = "unsuspend"


@dataclass(frozen=True)
class Transition:
    allowed_from: frozenset[CredentialState]
    to: CredentialState
    purpose: StatusPurpose
    value: int


TRANSITIONS = {
    StatusAction.revoke: Transition(
        frozenset({CredentialState.active, CredentialState.suspended}),
        CredentialState.revoked,
        StatusPurpose.revocation,
        1,
    ),
    StatusAction.suspend: Transition(
        frozenset({CredentialState.active}), CredentialState.suspended, StatusPurpose.suspension, 1
    ),
    StatusAction.unsuspend: Transition(
        frozenset({CredentialState.suspended}), CredentialState.active, StatusPurpose.suspension, 0
    ),
}


def _refusal(action: StatusAction, state: CredentialState) -> Conflict:
    if state == CredentialState.revoked:
        return Conflict("The credential is revoked; revocation cannot be undone or repeated", code="credential_revoked")
    if action == StatusAction.suspend:
        return Conflict("The credential is already suspended", code="already_suspended")
    return Conflict("The credential is not suspended", code="not_suspended")


def change_status(
    session: Session,
    settings: Settings,
    credential_id: str,
    action: StatusAction,
    *,
    reason: str,
    actor: Account,
    now: datetime | None = None,
) -> Credential:
    """Apply ``action`` to a credential on behalf of ``actor`` (an admin, or an issuer admin of
    the credential's issuer: anyone else's credential is "not found").

    Raises :class:`Forbidden`, :class:`NotFound` or :class:`Conflict`; changes nothing then.
    """
    if actor.role not in CHANGING_ROLES:
        raise Forbidden("Your role may not change a credential's status")
    credential = session.get(Credential, credential_id)
    if credential is None or (actor.role != Role.admin and actor.issuer_id != credential.issuer_id):
        raise NotFound(NO_SUCH_CREDENTIAL)
    transition = TRANSITIONS[action]
    before = CredentialState(credential.state)
    if before not in transition.allowed_from:
        raise _refusal(action, before)
    now = now or utcnow()
    before_audit = {"state": str(before), "reason": credential.status_reason}
    moved = (
        session.connection()
        .execute(
            update(Credential)
            .where(col(Credential.id) == credential.id, col(Credential.state) == before)
            .values(state=transition.to, status_changed_at=now, status_reason=reason)
        )
        .rowcount
    )
    if moved != 1:
        raise Conflict(
            "The credential's status changed at the same moment; reload it and try again",
            code="concurrent_status_change",
        )
    entry = _set_bit(session, credential.id, transition.purpose, transition.value, now)
    session.refresh(credential)
    after: dict[str, object] = {"state": str(transition.to), "reason": reason}
    if entry is not None:
        after["status_entry"] = f"{status_list_url(settings, entry.list_id)}#{entry.status_index}"
        after["status_value"] = transition.value
    record(
        session,
        action=f"credential.{action}",
        object_type="credential",
        object_id=credential.id,
        actor=actor,
        issuer_id=credential.issuer_id,
        before=before_audit,
        after=after,
    )
    return credential


def _set_bit(
    session: Session, credential_id: str, purpose: StatusPurpose, value: int, now: datetime
) -> StatusEntry | None:
    """Set the credential's entry in its ``purpose`` list to ``value`` and mark the list changed.

    None for a credential issued before status lists existed (it has no entry to change).
    """
    entry = session.exec(
        select(StatusEntry)
        .join(StatusList, col(StatusList.id) == col(StatusEntry.list_id))
        .where(StatusEntry.credential_id == credential_id, StatusList.purpose == purpose.value)
    ).first()
    if entry is None:
        return None
    connection = session.connection()
    connection.execute(
        update(StatusEntry)
        .where(col(StatusEntry.list_id) == entry.list_id, col(StatusEntry.status_index) == entry.status_index)
        .values(value=value)
    )
    connection.execute(
        update(StatusList)
        .where(col(StatusList.id) == entry.list_id)
        .values(version=StatusList.version + 1, changed_at=now)
    )
    return entry
