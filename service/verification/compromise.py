"""An issuer reports one of its keys compromised: the key, and the status lists it signed.

:func:`service.issuers.keys.mark_compromised` records the report: the key never signs again, an
active key is replaced by a new one, and the DID document publishes the key as ``revoked`` under
no relationship, so this service's verifier (and any verifier that reads the document) refuses
everything it signed. That includes the issuer's status lists: a list whose stored signature is
the compromised key's would fail every credential's status check, so its signing time is cleared
here and the list is signed again, with the new key, before it is next served or verified
(:mod:`service.status.publish` signs a list that has no signature time first).

Lives here, not in :mod:`service.issuers`, because it reaches the status lists; no FastAPI, and
nothing commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from service.core.keystore import Keystore
from service.issuers.did_moves import dids_of
from service.issuers.keys import find_key, mark_compromised
from service.issuers.models import Issuer, SigningKey
from service.status.models import StatusList


@dataclass(frozen=True)
class CompromiseOutcome:
    """The key as now recorded, the key that replaced it (None when it was already retired), and
    how many of the issuer's status lists it had signed (they are signed again)."""

    key: SigningKey
    replacement: SigningKey | None
    status_lists_resigned: int


def report_compromised_key(
    session: Session,
    keystore: Keystore,
    issuer: Issuer,
    key_ref: str,
    *,
    compromised_at: datetime,
    reason: str,
    now: datetime,
    actor: Any,
) -> CompromiseOutcome:
    """Record that the issuer's key ``key_ref`` (its id or fragment) is compromised since
    ``compromised_at``, then have the status lists it signed signed again.

    Raises :class:`~service.core.errors.NotFound` for a key the issuer does not have, and what
    :func:`~service.issuers.keys.mark_compromised` raises (a future moment, an empty reason, a key
    already reported); nothing changes then.
    """
    key = find_key(session, issuer, key_ref)
    replacement = mark_compromised(
        session, keystore, issuer, key, compromised_at=compromised_at, reason=reason, now=now, actor=actor
    )
    lists = lists_signed_by(session, issuer, key)
    for status_list in lists:
        status_list.signed_at = None  # signed again, with the active key, before it is served
        session.add(status_list)
    session.flush()
    return CompromiseOutcome(key, replacement, len(lists))


def lists_signed_by(session: Session, issuer: Issuer, key: SigningKey) -> list[StatusList]:
    """The issuer's status lists whose stored credential names ``key`` as its proof's method (under
    any DID the issuer held: a list signed before a DID move names the old one)."""
    methods = [f'"{did}#{key.fragment}"' for did in dids_of(session, issuer)]
    return list(
        session.exec(
            select(StatusList).where(
                StatusList.issuer_id == issuer.id,
                or_(*(col(StatusList.credential_text).contains(m, autoescape=True) for m in methods)),
            )
        )
    )
