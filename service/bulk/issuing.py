"""Issuing a bulk job's rows: a chunk at a time, :data:`BATCH_SIZE` rows per transaction.

Each batch reads its pending rows, signs every credential first (no write yet: on SQLite the
database's write lock is not held while signing), then in the same transaction claims the status
indexes, stores the credentials and marks the rows ``issued`` with their credential ids. A worker
killed mid-chunk loses at most the batch it was signing: its rows are still pending, and the
chunk, run again, skips the rows already issued. No row is issued twice, none is skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, text, update
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from service.accounts.models import Account
from service.achievements.models import Achievement
from service.bulk.models import BulkExternalId, BulkJob, BulkRow, BulkRowState
from service.bulk.service import finish_if_done, mark_started
from service.core.config import Settings
from service.core.db import unit_of_work
from service.core.errors import ServiceError
from service.core.keystore import Keystore
from service.core.models import utcnow
from service.credentials.entry_points import active_holders, active_key, claim_active_slot
from service.credentials.issuing import (
    IssueRequest,
    PreparedCredential,
    Recipient,
    SignedCredential,
    is_active_credential_conflict,
    persist_many,
    prepare,
    recipient_identity_ids,
    sign,
    sign_until_claimed,
)
from service.credentials.models import Credential
from service.credentials.schemas import EvidenceIn, ResultIn
from service.issuers.service import active_signer
from service.status.allocation import Allocation, claim_many, plan_many
from service.vc.keys import Signer


class RowTaken(RuntimeError):
    """Another run of the chunk handled a row of this batch first: this batch rolls back."""


BATCH_SIZE = 50
"""Rows signed, then stored, per transaction."""
_EXTERNAL_ID_TABLE = BulkExternalId.__table__  # type: ignore[attr-defined]  # set by SQLModel's metaclass


def run_chunk(
    engine: Engine, keystore: Keystore, settings: Settings, clock: Callable[[], datetime], job_id: str, chunk: int
) -> int:
    """Issue the pending rows of chunk ``chunk`` of job ``job_id``; the number of rows handled.
    The chunk that leaves no pending row in the job finishes it."""
    with unit_of_work(engine) as session:
        mark_started(session, job_id, now=clock())
        job = session.get(BulkJob, job_id)
        chunk_size = job.chunk_size if job is not None else 0
        created_by = job.created_by if job is not None else None
    if not chunk_size:
        return 0
    low, high = chunk * chunk_size, (chunk + 1) * chunk_size
    handled = 0
    while True:
        with unit_of_work(engine) as session:
            rows = session.exec(
                select(BulkRow)
                .where(
                    BulkRow.job_id == job_id,
                    col(BulkRow.seq) >= low,
                    col(BulkRow.seq) < high,
                    BulkRow.state == BulkRowState.pending,
                )
                .order_by(col(BulkRow.seq))
                .limit(BATCH_SIZE)
                # PostgreSQL: a second run of the same chunk (a worker thought dead) takes other rows
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                break
            actor = session.get(Account, created_by) if created_by else None
            _issue_batch(session, keystore, settings, rows, actor, now=clock())
            handled += len(rows)
    with unit_of_work(engine) as session:
        finish_if_done(session, job_id, now=clock())
    return handled


def _issue_batch(
    session: Session,
    keystore: Keystore,
    settings: Settings,
    rows: Sequence[BulkRow],
    actor: Account | None,
    *,
    now: datetime,
) -> None:
    outcome: dict[int, dict[str, Any]] = {}
    issued_before = _issued_before(session, rows)
    prepared: list[tuple[BulkRow, PreparedCredential]] = []
    achievements = {
        a.id: a
        for a in session.exec(select(Achievement).where(col(Achievement.id).in_({r.achievement_id for r in rows})))
    }
    holders = active_holders(
        session,
        [key for row in rows if (key := _active_key_of(achievements, row)) is not None],
    )
    for row in rows:
        existing = issued_before.get((row.issuer_id, row.external_id)) if row.external_id is not None else None
        if existing is not None:
            outcome[row.seq] = {"state": BulkRowState.issued, "credential_id": existing}
            continue
        with _row_failure(outcome, row):
            prepared.append((row, _prepare(session, settings, row, actor, achievements, holders, now=now)))
    # status indexes for the whole batch (their reads in one query), then the signatures
    allocations: dict[str, list[Allocation]] = {}
    for issuer_id in dict.fromkeys(p.issuer.id for _, p in prepared):
        count = sum(1 for _, p in prepared if p.issuer.id == issuer_id)
        allocations[issuer_id] = plan_many(session, settings, issuer_id, count)
    signers: dict[str, dict[str, Signer]] = {}  # by issuer: each key is looked up once per batch
    signed: list[tuple[BulkRow, SignedCredential]] = []
    for row, ready in prepared:
        issuer = ready.issuer
        if issuer.id not in signers:
            signers[issuer.id] = {alg: active_signer(session, keystore, issuer, alg) for alg in ("EdDSA", "RS256")}
        allocation = allocations[issuer.id].pop()
        with _row_failure(outcome, row):
            signed.append((row, sign(session, keystore, settings, ready, allocation, signers=signers[issuer.id])))
    # the writes: status indexes, credentials and row states, committed together; the rows of
    # the batch go to the database in few statements (several rows each)
    unclaimed = claim_many(session, [(c.allocation, c.prepared.credential_id) for _, c in signed])
    signed = [
        (row, sign_until_claimed(session, keystore, settings, credential, left))
        for (row, credential), left in zip(signed, unclaimed, strict=True)
    ]
    recipient_ids = recipient_identity_ids(session, [credential.prepared.request.recipient for _, credential in signed])
    try:
        stored = persist_many(session, [credential for _, credential in signed], recipient_ids=recipient_ids)
    except IntegrityError as err:
        if not is_active_credential_conflict(err):
            raise
        # a simultaneous issuance took a recipient's one active credential: the batch rolls back
        # and its re-run finds that credential for the row (claim_active_slot)
        raise RowTaken("a row's recipient was issued the achievement meanwhile; the batch is run again") from None
    external_ids: list[dict[str, Any]] = []
    for (row, _), credential_id in zip(signed, stored, strict=True):
        outcome[row.seq] = {"state": BulkRowState.issued, "credential_id": credential_id}
        if row.external_id is not None:
            # a concurrent file with the same external id: the primary key refuses the second,
            # the batch rolls back and its re-run reports the first one's credential
            external_ids.append(
                {
                    "issuer_id": row.issuer_id,
                    "external_id": row.external_id,
                    "credential_id": credential_id,
                    "created_at": utcnow(),
                }
            )
    if external_ids:  # after the credentials they name
        session.connection().execute(insert(_EXTERNAL_ID_TABLE), external_ids)
    _mark_rows(session, rows, outcome)


def _mark_rows(session: Session, rows: Sequence[BulkRow], outcome: Mapping[int, Mapping[str, Any]]) -> None:
    """Each row's outcome, in one executemany UPDATE; :class:`RowTaken` unless every row was
    still pending (this transaction holds them on PostgreSQL: a check, not a race expected)."""
    table = BulkRow.__table__  # type: ignore[attr-defined]  # set by SQLModel's metaclass
    statement = (
        update(table)
        .where(
            table.c.job_id == bindparam("row_job_id"),
            table.c.seq == bindparam("row_seq"),
            table.c.state == BulkRowState.pending.value,
        )
        .values(
            state=bindparam("new_state"), credential_id=bindparam("new_credential_id"), error=bindparam("new_error")
        )
    )
    params = [
        {
            "row_job_id": row.job_id,
            "row_seq": row.seq,
            "new_state": str(outcome[row.seq]["state"]),
            "new_credential_id": outcome[row.seq].get("credential_id"),
            "new_error": outcome[row.seq].get("error"),
        }
        for row in rows
    ]
    connection = session.connection()
    if connection.dialect.supports_sane_multi_rowcount:
        marked = connection.execute(statement, params).rowcount
    else:  # pragma: no cover - both supported drivers count executemany's rows
        marked = sum(connection.execute(statement, one).rowcount for one in params)
    if marked != len(params):
        raise RowTaken(f"a row of job {rows[0].job_id} was handled meanwhile; the batch is run again")
    for row in rows:
        session.expunge(row)


def _issued_before(session: Session, rows: Sequence[BulkRow]) -> dict[tuple[str, str], str]:
    """The credentials earlier rows with the same issuer and external id got (idempotence), by
    (issuer id, external id), in one query per issuer."""
    wanted: dict[str, list[str]] = {}
    for row in rows:
        if row.external_id is not None:
            wanted.setdefault(row.issuer_id, []).append(row.external_id)
    found: dict[tuple[str, str], str] = {}
    postgres = session.get_bind().dialect.name == "postgresql"
    for issuer_id, external_ids in wanted.items():
        known = (
            session.execute(_ISSUED_ON_POSTGRES, {"issuer_id": issuer_id, "external_ids": external_ids})
            if postgres
            else session.execute(
                sa_select(col(BulkExternalId.external_id), col(BulkExternalId.credential_id)).where(
                    col(BulkExternalId.issuer_id) == issuer_id, col(BulkExternalId.external_id).in_(external_ids)
                )
            )
        )
        for external_id, credential_id in known:
            found[(issuer_id, str(external_id))] = str(credential_id)
    return found


# One primary key lookup per external id, whatever the planner knows of the table: with an IN
# list and no statistics (a new table, autovacuum not run yet) PostgreSQL reads every external
# id of the issuer, a read that grows with each file. A LATERAL subquery with LIMIT is not
# flattened into a join (PostgreSQL, SELECT: LATERAL subqueries): each id is looked up by the key.
_ISSUED_ON_POSTGRES = text(
    "SELECT w.external_id, hit.credential_id FROM unnest(CAST(:external_ids AS varchar[])) AS w(external_id),"
    " LATERAL (SELECT x.credential_id FROM bulkexternalid x"
    " WHERE x.issuer_id = :issuer_id AND x.external_id = w.external_id LIMIT 1) AS hit"
)


@contextmanager
def _row_failure(outcome: dict[int, dict[str, Any]], row: BulkRow) -> Iterator[None]:
    """A row's own error (a 4xx ServiceError) fails the row; the service's trouble (5xx, no
    index now...) fails the batch, which is retried."""
    try:
        yield
    except ServiceError as err:
        if err.status_code >= 500:
            raise
        outcome[row.seq] = {"state": BulkRowState.failed, "error": err.detail[:1000]}


def _recipient_of(row: BulkRow) -> Recipient:
    return Recipient.parse({"email": row.recipient_email} if row.recipient_email else {"did": row.recipient_did})


def _active_key_of(achievements: Mapping[str, Achievement], row: BulkRow) -> str | None:
    achievement = achievements.get(row.achievement_id)
    if achievement is None:
        return None
    try:
        return active_key(achievement, _recipient_of(row))
    except (ServiceError, ValueError):  # the row's own error: _prepare reports it
        return None


def _prepare(
    session: Session,
    settings: Settings,
    row: BulkRow,
    actor: Account | None,
    achievements: Mapping[str, Achievement],
    holders: Mapping[str, Sequence[Credential]],
    *,
    now: datetime,
) -> PreparedCredential:
    achievement = achievements.get(row.achievement_id)  # held here, so the session keeps it
    if achievement is None:
        raise ServiceError("The achievement no longer exists", code="not_found", status_code=404)
    who = _recipient_of(row)
    extra = row.extra or {}
    request = IssueRequest(
        achievement_id=achievement.id,
        recipient=who,
        valid_until=row.valid_until,
        results=[ResultIn.model_validate(r) for r in extra.get("results", [])],
        evidence=[EvidenceIn.model_validate(e) for e in extra.get("evidence", [])],
        authorised_by=actor,
        active_slot=claim_active_slot(session, achievement, who, replaces=None, now=now, holders=holders),
    )
    return prepare(session, settings, request, now=now)
