"""Publishing a status list: its ``BitstringStatusListCredential``, signed by jobs, read by all.

No FastAPI here, and nothing commits.

The rule, with I = ``status_list_resign_interval_seconds``:

- a change (revocation, suspension, reinstatement) asks, in its own transaction, for a job that
  signs the list about a second later (:mod:`service.status.jobs`): a burst of changes is
  published with one signature, within seconds;
- a periodic job re-signs every list whose stored signature is older than I (or that has none),
  each in a short transaction of its own, so an unchanged list is refreshed before its
  ``validUntil``;
- a reader (``GET /status/{id}``, this service's own verifier) serves the stored copy byte for
  byte. It signs only a list that has never been signed, whose copy the re-signer let run out
  (:func:`is_overdue`), or whose change the job has not published a few seconds on
  (:func:`is_stale`: a worker is down or behind), and then in a side transaction: no reader
  ever holds a list row while it signs, and an unchanged list is never re-signed because it is
  read;
- the credential says ``ttl`` = I, ``validFrom`` = when it was signed (less a minute, for
  verifiers' clock skew) and ``validUntil`` = I plus a margin (I, at least a minute) after the
  signing, so a copy served or cached within the rules never expires in a verifier's hands, and
  a replayed old copy stops verifying at most 2I after its signing.

No row is locked while signing. Several signers may sign one list at once: the new signature is
stored only if neither the list's ``version`` nor its ``signed_at`` moved meanwhile (an
optimistic check in the ``UPDATE``), so the loser's signature is dropped and a change that lands
during the signing leaves the list dirty for the next job.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.core.config import Settings
from service.core.db import unit_of_work
from service.core.keystore import Keystore
from service.core.models import utcnow
from service.issuers.models import Issuer
from service.issuers.service import active_signer
from service.status.allocation import status_list_url
from service.status.models import StatusEntry, StatusList
from service.vc import data_integrity
from service.vc.status_list import BitstringStatusList, build_status_list_credential

log = logging.getLogger("skillcred.status")

MIN_VALIDITY_MARGIN = timedelta(minutes=1)
CLOCK_SKEW_ALLOWANCE = timedelta(minutes=1)
"""``validFrom`` is this much before the signing time: a verifier whose clock is a little behind
(or that took its "now" a moment before the list was signed for it) must not see a list that is
not valid yet."""


@dataclass(frozen=True)
class PublishedList:
    """A signed list credential as served: its text, ETag and signing time; ``signed_now`` when
    the call that returned it signed and stored it."""

    text: str
    etag: str
    signed_at: datetime
    signed_now: bool = False


def interval(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.status_list_resign_interval_seconds)


def is_dirty(status_list: StatusList) -> bool:
    """True when bits changed since the stored signature (or there is none)."""
    return status_list.signed_version != status_list.version


def is_due(status_list: StatusList, settings: Settings, now: datetime) -> bool:
    """True when the re-signer should replace the stored signature: none yet, or older than I."""
    if status_list.credential_text is None or status_list.signed_at is None:
        return True
    return now - status_list.signed_at >= interval(settings)


def is_dirty_or_due(status_list: StatusList, settings: Settings, now: datetime) -> bool:
    """True when the change job should sign the list: it changed since its stored signature, or
    the signature is due anyway (:func:`is_due`)."""
    return is_dirty(status_list) or is_due(status_list, settings, now)


STALE_AFTER = timedelta(seconds=3)
"""How long a change may wait for its job (about a second) before a reader signs the list."""


def is_stale(status_list: StatusList, settings: Settings, now: datetime) -> bool:
    """True when a reader must sign the list itself: it is overdue (:func:`is_overdue`), or it
    changed more than :data:`STALE_AFTER` ago and no job has published the change yet."""
    if is_overdue(status_list, settings, now):
        return True
    changed = status_list.changed_at
    return is_dirty(status_list) and changed is not None and now - changed >= STALE_AFTER


def validity(settings: Settings) -> timedelta:
    """How long after its signing a list credential is valid (``validUntil``): I plus a margin."""
    every = interval(settings)
    return every + max(every, MIN_VALIDITY_MARGIN)


def is_overdue(status_list: StatusList, settings: Settings, now: datetime) -> bool:
    """True when a reader must sign the list itself: it was never signed, or the re-signer (due
    at I) has not replaced it halfway through its margin, so the copy is about to expire."""
    if status_list.credential_text is None or status_list.signed_at is None:
        return True
    every = interval(settings)
    return now - status_list.signed_at >= every + max(every, MIN_VALIDITY_MARGIN) / 2


def etag_of(text: str) -> str:
    """A strong ETag for a list credential's text."""
    return '"' + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32] + '"'


def set_indexes(session: Session, list_id: str) -> list[int]:
    """The indexes whose status is set (revoked or suspended) in the list, as committed now."""
    return list(
        session.exec(select(StatusEntry.status_index).where(StatusEntry.list_id == list_id, col(StatusEntry.value) > 0))
    )


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def sign_list_credential(
    session: Session, keystore: Keystore, settings: Settings, status_list: StatusList, now: datetime
) -> dict[str, Any]:
    """A freshly signed ``BitstringStatusListCredential`` with the list's current bits.

    Signed eddsa-rdfc-2022 by the issuer's active Ed25519 key; ``issuer`` is the issuer's DID,
    as in its credentials (verifiers require the two to match).
    """
    issuer = session.get(Issuer, status_list.issuer_id)
    assert issuer is not None  # a foreign key guarantees it
    bits = BitstringStatusList(status_list.size)
    for index in set_indexes(session, status_list.id):
        bits.set(index, 1)
    signed_at = now.replace(microsecond=0)
    unsigned = build_status_list_credential(
        list_id=status_list_url(settings, status_list.id),
        issuer=issuer.did,
        status_purpose=status_list.purpose,
        encoded_list=bits.encode(),
        valid_from=_timestamp(signed_at - CLOCK_SKEW_ALLOWANCE),
        valid_until=_timestamp(signed_at + validity(settings)),
        ttl_ms=settings.status_list_resign_interval_seconds * 1000,
    )
    return data_integrity.sign(unsigned, active_signer(session, keystore, issuer, "EdDSA"))


def _published(status_list: StatusList) -> PublishedList | None:
    if status_list.credential_text is None or status_list.etag is None or status_list.signed_at is None:
        return None
    return PublishedList(status_list.credential_text, status_list.etag, status_list.signed_at)


def resign(
    session: Session,
    keystore: Keystore,
    settings: Settings,
    list_id: str,
    *,
    now: datetime | None = None,
    when: Callable[[StatusList, Settings, datetime], bool] = is_due,
) -> PublishedList | None:
    """Sign the list and store the signature if ``when`` says so (by default: :func:`is_due`).

    No row is locked while signing: the ``UPDATE`` that stores it checks that neither ``version``
    nor ``signed_at`` moved meanwhile. Returns what should be served now (None for an unknown list).
    """
    now = now or utcnow()
    status_list = _fresh(session, list_id)
    if status_list is None:
        return None
    current = _published(status_list)
    if not when(status_list, settings, now):
        return current
    version, previous = status_list.version, status_list.signed_at
    text = json.dumps(sign_list_credential(session, keystore, settings, status_list, now), ensure_ascii=False)
    fresh = PublishedList(text, etag_of(text), now, signed_now=True)
    unchanged = col(StatusList.signed_at).is_(None) if previous is None else col(StatusList.signed_at) == previous
    stored = (
        session.connection()
        .execute(
            update(StatusList)
            .where(col(StatusList.id) == list_id, col(StatusList.version) == version, unchanged)
            .values(credential_text=text, etag=fresh.etag, signed_at=now, signed_version=version)
        )
        .rowcount
    )
    if stored == 1:
        return fresh
    status_list = _fresh(session, list_id)
    theirs = None if status_list is None else _published(status_list)
    if theirs is not None and status_list is not None and status_list.signed_at != previous:
        return theirs  # another worker re-signed it meanwhile: serve (and keep) its copy
    # a change landed while signing: ours is still newer than the stored copy, so serve it; the
    # list stays due and dirty for the next round
    return PublishedList(text, fresh.etag, now)


def _fresh(session: Session, list_id: str) -> StatusList | None:
    return session.exec(
        select(StatusList).where(StatusList.id == list_id).execution_options(populate_existing=True)
    ).first()


_READ_SIGNING = threading.Lock()
"""One reader per process signs an overdue list at a time (the others then find it stored)."""


def _sign_for_reader(
    engine: Engine, keystore: Keystore, settings: Settings, list_id: str, now: datetime
) -> PublishedList | None:
    """Sign a stale list for a reader, in a side transaction committed at once."""
    with _READ_SIGNING, unit_of_work(engine) as own:
        return resign(own, keystore, settings, list_id, now=now, when=is_stale)


def published_list(
    session: Session, keystore: Keystore, settings: Settings, list_id: str, *, now: datetime | None = None
) -> PublishedList | None:
    """The list credential to serve at ``/status/{list_id}`` (None: no such list): the stored
    one, signed on the spot only when it is stale (:func:`is_stale`)."""
    now = now or utcnow()
    status_list = session.get(StatusList, list_id)
    if status_list is None:
        return None
    if is_stale(status_list, settings, now):
        if status_list.credential_text is not None:
            log.warning("status list %s was not re-signed in time; signing it for a reader", list_id)
        return _sign_for_reader(session.get_bind(), keystore, settings, list_id, now)  # type: ignore[arg-type]
    return _published(status_list)


def current_list_credential(
    session: Session,
    settings: Settings,
    status_list: StatusList,
    keystore: Callable[[], Keystore],
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The list credential this service's own verifier checks: the published one. Only when it
    is overdue (never signed yet, or run out) is one signed on the spot, and not stored: a
    verification writes nothing (it may run inside a transaction that holds SQLite's write
    lock). A change the published list does not show yet is read from the entry itself
    (:class:`service.status.resolver.LocalStatusListResolver`)."""
    now = now or utcnow()
    published = _published(status_list)
    if published is None or is_overdue(status_list, settings, now):
        return sign_list_credential(session, keystore(), settings, status_list, now)
    document: dict[str, Any] = json.loads(published.text)
    return document


def resign_due_lists(
    engine: Engine, keystore: Keystore, settings: Settings, *, now: datetime | None = None
) -> tuple[int, int]:
    """Re-sign every list whose signature is older than I (or that has none), each in its own
    short transaction: changed lists so the change is published, unchanged ones so they never
    expire.

    Returns (re-signed, failed); a list that fails (say, its issuer has no active key) is logged
    and left for the next round.
    """
    now = now or utcnow()
    with Session(engine) as session:
        due = list(session.exec(select(StatusList.id).where(_due(settings, now))))
    done = failed = 0
    for list_id in due:
        try:
            with unit_of_work(engine) as session:
                result = resign(session, keystore, settings, list_id, now=now)
            if result is not None and result.signed_now:
                done += 1
        except Exception:  # keep going: one issuer's problem must not stall the others
            failed += 1
            log.exception("re-signing status list %s failed", list_id)
    return done, failed


def seconds_until_next_due(engine: Engine, settings: Settings, *, now: datetime | None = None) -> float | None:
    """How long until the next list falls due (0: now; None: there is no list)."""
    now = now or utcnow()
    with Session(engine) as session:
        never_signed = session.exec(select(StatusList.id).where(col(StatusList.signed_at).is_(None)).limit(1)).first()
        oldest = session.exec(select(func.min(StatusList.signed_at))).one()
    if never_signed is not None:
        return 0.0
    if oldest is None:
        return None
    return max(0.0, (oldest + interval(settings) - now).total_seconds())


def _due(settings: Settings, now: datetime) -> Any:
    return or_(col(StatusList.signed_at).is_(None), col(StatusList.signed_at) <= now - interval(settings))
