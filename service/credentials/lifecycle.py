"""Revoking, suspending and unsuspending credentials, and what each state allows. No FastAPI
here, and nothing commits.

A change records the credential's new state with its time and reason, sets (or clears) the
credential's entry in its issuer's revocation or suspension list (:func:`service.status.service.set_entry`,
which makes the list dirty: :mod:`service.status.publish` re-signs it within the interval) and
writes an audit event with the state before and after; all in the caller's transaction.

| action    | from               | to        | bit                |
|-----------|--------------------|-----------|--------------------|
| revoke    | active, suspended  | revoked   | revocation := 1    |
| suspend   | active             | suspended | suspension := 1    |
| unsuspend | suspended          | active    | suspension := 0    |

Revocation is irreversible: every action on a revoked credential is a conflict (409), as are
suspending a suspended credential and unsuspending one that is not suspended. The state moves
with a conditional update (``... WHERE state = <the state read>``), so of two simultaneous
changes one wins and the other is a conflict, on PostgreSQL and SQLite alike.

The audit event's time is the change's time (``status_changed_at``): the status list resolver
dates a revocation or suspension from the audit log
(:meth:`service.status.resolver.LocalStatusListResolver.status_changed_at`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import update
from sqlmodel import Session, col

from service.accounts.models import Account, Role
from service.audit.service import record
from service.core.config import Settings
from service.core.errors import Conflict, Forbidden, NotFound
from service.credentials.models import Credential, CredentialState
from service.credentials.service import NO_SUCH_CREDENTIAL
from service.events.service import emit
from service.status.models import StatusPurpose
from service.status.service import credential_entry, entry_url, set_entry

CHANGING_ROLES = frozenset({Role.admin, Role.issuer_admin})


class StatusAction(StrEnum):
    revoke = "revoke"
    suspend = "suspend"
    unsuspend = "unsuspend"


EVENT_TYPES = {
    StatusAction.revoke: "credential.revoked",
    StatusAction.suspend: "credential.suspended",
    StatusAction.unsuspend: "credential.unsuspended",
}
"""The event (:mod:`service.events`) each action emits."""


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
    now: datetime,
) -> Credential:
    """Apply ``action`` at ``now`` to a credential on behalf of ``actor`` (an admin, or an issuer
    admin of the credential's issuer: anyone else's credential is "not found").

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
    entry = credential_entry(session, credential.id, transition.purpose)
    if entry is not None:
        set_entry(session, entry.list_id, entry.status_index, transition.value, now)
    session.refresh(credential)
    after: dict[str, object] = {"state": str(transition.to), "reason": reason}
    if entry is not None:
        after["status_entry"] = entry_url(settings, entry)
        after["status_value"] = transition.value
    event = record(
        session,
        action=f"credential.{action}",
        object_type="credential",
        object_id=credential.id,
        actor=actor,
        issuer_id=credential.issuer_id,
        before=before_audit,
        after=after,
    )
    event.at = now  # the same instant as status_changed_at: the resolver dates the change from it
    emit(
        session,
        issuer_id=credential.issuer_id,
        type=EVENT_TYPES[action],
        data={"credential_id": credential.id, "state": str(transition.to), "reason": reason, "changed_at": now},
    )
    return credential


def ensure_renewable(credential: Credential) -> None:
    """Refuse to renew a revoked (409 ``credential_revoked``) or suspended (409
    ``credential_suspended``) credential; an active or expired one may be renewed."""
    if credential.state == CredentialState.revoked:
        raise Conflict("The credential is revoked; a revoked credential cannot be renewed", code="credential_revoked")
    if credential.state == CredentialState.suspended:
        raise Conflict(
            "The credential is suspended; it cannot be renewed until the issuer unsuspends it",
            code="credential_suspended",
        )
