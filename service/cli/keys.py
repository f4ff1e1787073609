"""Operator commands on issuer keys: ``skillcred keys compromise`` and ``skillcred keys affected``.

Both work on the database ``SKILLCRED_DATABASE_URL`` names; reporting a compromise needs the KEK
too (an active key is replaced by a new one, sealed under it). The audit event has no actor (the
operator at the console).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from service.core.clock import SystemClock
from service.core.config import Settings
from service.core.db import make_engine, unit_of_work
from service.core.keystore import Keystore, load_kek
from service.endorsements.signed_by_key import SignedRecord, signed_by_key
from service.issuers.keys import find_key, verification_method_id, xsd_timestamp
from service.issuers.service import get_issuer
from service.verification.compromise import report_compromised_key


@dataclass(frozen=True)
class CompromiseSummary:
    """What ``skillcred keys compromise`` did: the key, since when, its replacement (None when it
    was retired already), how many status lists are signed again, and what the key signed."""

    method: str
    compromised_at: str
    replacement: str | None
    status_lists_resigned: int
    signed: list[SignedRecord]


def compromise_key_command(
    settings: Settings, issuer_id: str, key_ref: str, *, reason: str, since: datetime | None
) -> CompromiseSummary:
    """Report the issuer's key ``key_ref`` (id or fragment) compromised since ``since`` (default
    now), in one transaction; then list what it signed.

    Raises :class:`~service.core.errors.ServiceError` (unknown issuer or key, a future moment, an
    empty reason, a key already reported) with nothing changed, and
    :class:`~service.core.keystore.KeystoreError` when the KEK is missing.
    """
    keystore = Keystore(load_kek(settings))
    engine = make_engine(settings.database_url)
    now = SystemClock().now()
    try:
        with unit_of_work(engine) as session:
            issuer = get_issuer(session, issuer_id)
            outcome = report_compromised_key(
                session, keystore, issuer, key_ref, compromised_at=since or now, reason=reason, now=now, actor=None
            )
            key, replacement = outcome.key, outcome.replacement
            summary = CompromiseSummary(
                method=verification_method_id(issuer, key),
                compromised_at=xsd_timestamp(key.compromised_at or now),
                replacement=verification_method_id(issuer, replacement) if replacement else None,
                status_lists_resigned=outcome.status_lists_resigned,
                signed=signed_by_key(session, issuer, key),
            )
        return summary
    finally:
        engine.dispose()


def affected_command(settings: Settings, issuer_id: str, key_ref: str) -> list[SignedRecord]:
    """The credentials and issuer-signed endorsements the issuer's key ``key_ref`` signed, oldest
    first (read only). Raises :class:`~service.core.errors.NotFound` for an unknown issuer or key."""
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            issuer = get_issuer(session, issuer_id)
            return signed_by_key(session, issuer, find_key(session, issuer, key_ref))
    finally:
        engine.dispose()
