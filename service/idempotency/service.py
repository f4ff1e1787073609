"""Idempotency records: claim a caller's key for one request, mark it committed inside that
request's own transaction, keep or drop its answer, and delete expired records.

A record's life: :func:`claim` inserts it ``pending`` in a short transaction of its own;
:func:`mark_committed` moves it to ``committed`` in the request's transaction, so the request's
changes and "they were committed" become durable together; :func:`finish` then stores the answer
(``done``) or, when nothing was committed, deletes the record so that a retry runs again.

Each function opens its own transactions (except :func:`mark_committed` and :func:`delete_expired`,
which take the caller's session); none of them imports FastAPI.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from service.core.db import unit_of_work
from service.core.errors import Conflict
from service.idempotency.models import IdempotencyRecord

log = logging.getLogger("skillcred.idempotency")

PENDING, COMMITTED, DONE = "pending", "committed", "done"
RECORD_ID_STATE = "idempotency_record_id"
"""The key, in the ASGI ``scope["state"]`` of a request run under a key, of its record's id."""
ABANDONED_AFTER = timedelta(minutes=2)
"""A record still ``pending`` this long after it was claimed belongs to a request that died (its
process was killed): another request with the key may take it over. A record still ``committed``
with no answer this long after it was claimed lost its answer."""
CLAIM_ATTEMPTS = 3


@dataclass(frozen=True)
class KeyedRequest:
    """A request made with an ``Idempotency-Key``: whose key, the key, and the request's fingerprint."""

    owner: str
    key: str
    request_hash: str
    method: str
    path: str


@dataclass(frozen=True)
class StoredResponse:
    """An answer as it is kept for replays: status, the headers worth replaying, and the body."""

    status_code: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


ClaimKind = Literal["run", "replay", "reused", "in_flight", "lost"]


@dataclass(frozen=True)
class Claim:
    """What to do with a keyed request:

    - ``run``: the key is this request's now (``record_id``), run it;
    - ``replay``: the key's first request was answered: send ``response`` again;
    - ``reused``: the key was used for another request (another method, path or body);
    - ``in_flight``: the key's first request is still running;
    - ``lost``: the key's first request committed its changes but its answer was not stored
      (too large, a server error after the commit, or its process died in between)."""

    kind: ClaimKind
    record_id: str | None = None
    response: StoredResponse | None = None


def claim(engine: Engine, request: KeyedRequest, now: datetime, lifetime: timedelta) -> Claim:
    """Look the key up and take it when it is free, in a transaction of its own (committed before
    the request runs). A record past its expiry counts as absent; a ``pending`` one abandoned for
    :data:`ABANDONED_AFTER` is taken over (its request, should it still be running, cannot
    commit: :func:`mark_committed`). Two requests inserting one key at once: the unique
    constraint lets one in, the other reads the winner's record."""
    for _ in range(CLAIM_ATTEMPTS):
        try:
            with unit_of_work(engine) as session:
                return _claim(session, request, now, lifetime)
        except IntegrityError:  # another request inserted the key first: read its record
            continue
    return Claim("in_flight")


def _claim(session: Session, request: KeyedRequest, now: datetime, lifetime: timedelta) -> Claim:
    record = session.execute(
        select(IdempotencyRecord).where(
            col(IdempotencyRecord.owner) == request.owner, col(IdempotencyRecord.key) == request.key
        )
    ).scalar_one_or_none()
    if record is not None and record.expires_at <= now:
        if not _delete(session, record.id, IdempotencyRecord.expires_at <= now):
            return Claim("in_flight")  # someone else replaced it meanwhile: look again
        record = None
    if record is None:
        return _insert(session, request, now, lifetime)
    if record.request_hash != request.request_hash:
        return Claim("reused")
    if record.state == DONE and record.status_code is not None:
        body = record.response_body or b""
        return Claim("replay", response=StoredResponse(record.status_code, dict(record.response_headers), body))
    abandoned = now - record.created_at >= ABANDONED_AFTER
    if record.state == COMMITTED:
        return Claim("lost") if record.status_code is not None or abandoned else Claim("in_flight")
    if abandoned and _delete(session, record.id, col(IdempotencyRecord.state) == PENDING):
        log.warning("idempotency key of %s abandoned while pending: taken over", request.owner)
        return _insert(session, request, now, lifetime)
    return Claim("in_flight")


def _insert(session: Session, request: KeyedRequest, now: datetime, lifetime: timedelta) -> Claim:
    record = IdempotencyRecord(
        owner=request.owner,
        key=request.key,
        request_hash=request.request_hash,
        method=request.method,
        path=request.path[:2048],
        state=PENDING,
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(record)
    session.flush()
    return Claim("run", record_id=record.id)


def _delete(session: Session, record_id: str, condition: object) -> bool:
    result = session.connection().execute(
        delete(IdempotencyRecord).where(col(IdempotencyRecord.id) == record_id, condition)  # type: ignore[arg-type]
    )
    return bool(result.rowcount)


def mark_committed(session: Session, record_id: str) -> None:
    """In the request's own transaction, just before it commits: the record of its key is now
    ``committed``. 409 ``idempotency_request_superseded`` (the transaction rolls back, nothing is
    created) when the record is no longer this request's ``pending`` one: the request ran so long
    that another request with the key took the key over (:data:`ABANDONED_AFTER`)."""
    result = session.connection().execute(
        update(IdempotencyRecord)
        .where(col(IdempotencyRecord.id) == record_id, col(IdempotencyRecord.state) == PENDING)
        .values(state=COMMITTED)
    )
    if result.rowcount != 1:
        raise Conflict(
            "Another request with this Idempotency-Key took it over while this one ran; nothing was changed",
            code="idempotency_request_superseded",
        )


def finish(engine: Engine, record_id: str, status_code: int, response: StoredResponse | None) -> None:
    """After the request was answered ``status_code`` (``response`` None when the answer is not
    kept: too large, or the request raised): a request that committed, or answered 2xx, keeps
    its answer (``done``), or, when there is none to keep or it is a server error, stays
    ``committed`` with its status so that retries learn the answer was lost. A request that
    committed nothing and failed gives the key back: its record is deleted."""
    with unit_of_work(engine) as session:
        record = session.get(IdempotencyRecord, record_id)
        if record is None or record.state == DONE:
            return
        if record.state == PENDING and not 200 <= status_code < 300:
            _delete(session, record_id, col(IdempotencyRecord.state) == PENDING)
            return
        values: dict[str, object] = {"state": COMMITTED, "status_code": status_code}
        if response is not None and status_code < 500:
            values.update(state=DONE, response_headers=response.headers, response_body=response.body)
        session.connection().execute(
            update(IdempotencyRecord)
            .where(col(IdempotencyRecord.id) == record_id, col(IdempotencyRecord.state).in_((PENDING, COMMITTED)))
            .values(**values)
        )


def delete_expired(session: Session, now: datetime) -> int:
    """Delete every record past its expiry; returns how many."""
    result = session.connection().execute(delete(IdempotencyRecord).where(col(IdempotencyRecord.expires_at) <= now))
    return int(result.rowcount or 0)
