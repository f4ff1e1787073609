"""Bulk issuance: check a whole file, store it as a job, report its progress and results.
No FastAPI here, and nothing commits.

A file is accepted only when every row is valid (:func:`submit`); then its rows are stored with
the job in the caller's transaction, together with one ``bulk:run_chunk`` job per chunk of
:data:`CHUNK_SIZE` rows (:mod:`service.bulk.jobs`), so several workers share a file. Issuing is in
:mod:`service.bulk.issuing`.

``external_id`` is unique per issuer, across files: within a file a repeated id is an invalid row;
a row whose id an earlier file already issued is reported ``issued`` with that earlier credential
(no second credential), so re-submitting a file after a failure is safe.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, insert, update
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.accounts.models import Account, Role
from service.achievements.models import Achievement
from service.bulk.models import BulkJob, BulkJobState, BulkRow, BulkRowState
from service.bulk.parsing import ParsedFile
from service.bulk.schemas import BulkRowIn
from service.core.config import Settings
from service.core.db import unit_of_work
from service.core.errors import Forbidden, NotFound, ServiceError
from service.credentials.errors import InvalidCredentialRequest
from service.credentials.issuing import IssueRequest, Recipient, prepare
from service.credentials.service import credential_url
from service.events.service import emit
from service.jobs.defer import JobRequest, defer

CHUNK_SIZE = 500
"""Rows per ``bulk:run_chunk`` job: workers share a file by chunks."""
INSERT_BATCH = 1000
MAX_REPORTED_ERRORS = 1000
NO_SUCH_JOB = "No such job"
MANAGING_ROLES = frozenset({Role.admin, Role.issuer_admin})


class InvalidRows(ServiceError):
    """Some rows of the file are invalid: nothing was stored. ``rows``: ``(row, error)`` pairs."""

    status_code, code = 422, "invalid_rows"

    def __init__(self, rows: Sequence[tuple[int, str]], total_bad: int) -> None:
        super().__init__(f"{total_bad} row(s) are invalid; nothing was issued (fix them and send the file again)")
        self.rows = list(rows)


@dataclass(frozen=True)
class ValidRow:
    line: int
    row: BulkRowIn
    issuer_id: str
    valid_until: datetime | None


def task_request(job_id: str, chunk: int) -> JobRequest:
    """The job that issues chunk ``chunk`` of bulk job ``job_id``."""
    return JobRequest("bulk:run_chunk", {"job_id": job_id, "chunk": chunk}, queue="bulk")


def validate(
    session: Session, settings: Settings, actor: Account | None, parsed: ParsedFile, *, now: datetime
) -> list[ValidRow]:
    """Check every row (achievement exists and is the actor's issuer's, recipient, valid_until in
    the future with a time zone, external_id not repeated, results); raises :class:`InvalidRows`."""
    if actor is not None and actor.role not in MANAGING_ROLES:
        raise Forbidden("Your role may not issue credentials")
    errors: list[tuple[int, str]] = list(parsed.errors)
    # the rows' own shape first, without the database (no transaction idles meanwhile)
    models: list[tuple[int, BulkRowIn]] = []
    for line, fields in parsed.rows:
        try:
            models.append((line, BulkRowIn.model_validate(fields)))
        except ValidationError as err:
            errors.append((line, _pydantic_message(err)))
    achievements = _achievements(session, {row.achievement_id for _, row in models})
    seen_external: set[str] = set()
    seen_slots: set[tuple[str, str]] = set()
    checked_results: dict[tuple[str, str], str | None] = {}
    valid: list[ValidRow] = []
    issuer_of_file: str | None = None
    for line, row in models:
        achievement = achievements.get(row.achievement_id)
        if achievement is None or not _manages(actor, achievement.issuer_id):
            errors.append((line, f"achievement_id: no such achievement {row.achievement_id!r}"))
            continue
        issuer_of_file = issuer_of_file or achievement.issuer_id
        if achievement.issuer_id != issuer_of_file:
            errors.append((line, "achievement_id: every row of a file must be of the same issuer's achievements"))
            continue
        if (row.recipient_email is None) == (row.recipient_did is None):
            errors.append((line, "give exactly one of recipient_email or recipient_did"))
            continue
        recipient = row.recipient_email or str(row.recipient_did)
        error = _check_valid_until(row.valid_until, now)
        if error is None and row.external_id is not None:
            if row.external_id in seen_external:
                error = f"external_id: {row.external_id!r} is repeated in the file"
            seen_external.add(row.external_id)
        if error is None and not achievement.allow_multiple_active:
            slot = (achievement.id, recipient.lower())
            if slot in seen_slots:
                error = "the recipient is named twice for an achievement that allows one active credential"
            seen_slots.add(slot)
        if error is None and row.results:
            key = (achievement.id, json.dumps([r.model_dump() for r in row.results], sort_keys=True))
            if key not in checked_results:
                checked_results[key] = _check_results(session, settings, row, now)
            error = checked_results[key]
        if error is not None:
            errors.append((line, error))
            continue
        until = None if row.valid_until is None else row.valid_until.astimezone(UTC)
        valid.append(ValidRow(line, row, achievement.issuer_id, until))
    if errors:
        errors.sort()
        raise InvalidRows(errors[:MAX_REPORTED_ERRORS], len(errors))
    return valid


def submit(
    session: Session, settings: Settings, actor: Account | None, parsed: ParsedFile, *, now: datetime
) -> BulkJob:
    """Validate ``parsed`` (:func:`validate`), then store the job, its rows and one chunk job per
    :data:`CHUNK_SIZE` rows in the caller's transaction."""
    rows = validate(session, settings, actor, parsed, now=now)
    job = BulkJob(
        issuer_id=rows[0].issuer_id,
        created_by=None if actor is None else actor.id,
        total=len(rows),
        chunk_size=CHUNK_SIZE,
        created_at=now,
    )
    session.add(job)
    session.flush()
    table: Any = BulkRow.__table__  # type: ignore[attr-defined]
    for start in range(0, len(rows), INSERT_BATCH):
        session.execute(
            insert(table),
            [_row_values(job, seq, rows[seq]) for seq in range(start, min(start + INSERT_BATCH, len(rows)))],
        )
    for chunk in range((len(rows) + CHUNK_SIZE - 1) // CHUNK_SIZE):
        defer(session, task_request(job.id, chunk))
    return job


def _row_values(job: BulkJob, seq: int, valid: ValidRow) -> dict[str, Any]:
    row = valid.row
    extra = None
    if row.results or row.evidence:
        extra = {
            "results": [r.model_dump(exclude_none=True) for r in row.results],
            "evidence": [e.model_dump(exclude_none=True) for e in row.evidence],
        }
    return {
        "job_id": job.id,
        "seq": seq,
        "line": valid.line,
        "issuer_id": valid.issuer_id,
        "achievement_id": row.achievement_id,
        "recipient_email": row.recipient_email,
        "recipient_did": row.recipient_did,
        "valid_until": valid.valid_until,
        "external_id": row.external_id,
        "extra": extra,
        "state": BulkRowState.pending.value,
        "credential_id": None,
        "error": None,
    }


def _achievements(session: Session, ids: set[str]) -> dict[str, Achievement]:
    """The achievements of ``ids`` that exist, read a thousand at a time."""
    found: dict[str, Achievement] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), INSERT_BATCH):
        batch = ordered[start : start + INSERT_BATCH]
        found.update((a.id, a) for a in session.exec(select(Achievement).where(col(Achievement.id).in_(batch))))
    return found


def _manages(actor: Account | None, issuer_id: str) -> bool:
    return actor is None or actor.role == Role.admin or actor.issuer_id == issuer_id


def _check_valid_until(valid_until: datetime | None, now: datetime) -> str | None:
    if valid_until is None:
        return None
    if valid_until.tzinfo is None or valid_until.utcoffset() is None:
        return "valid_until: give a time zone (e.g. 2030-01-01T00:00:00Z)"
    if valid_until <= now:
        return "valid_until: must be in the future"
    return None


def _check_results(session: Session, settings: Settings, row: BulkRowIn, now: datetime) -> str | None:
    """The issuing path's own check of the results (:func:`~service.credentials.issuing.prepare`)."""
    request = IssueRequest(
        achievement_id=row.achievement_id, recipient=Recipient(email="check@example.invalid"), results=row.results
    )
    try:
        prepare(session, settings, request, now=now)
    except (InvalidCredentialRequest, NotFound) as err:
        return str(getattr(err, "detail", err))
    return None


def _pydantic_message(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ())) or "row"
    message = str(first.get("msg", "invalid"))
    return f"{where}: {message}" if first.get("type") != "extra_forbidden" else f"{where}: unknown field"


# --- reading jobs ---------------------------------------------------------------------------------


def get_job(session: Session, actor: Account, job_id: str) -> BulkJob:
    """Job ``job_id`` if ``actor`` may see it (admins; the job's issuer's admins), else 404."""
    job = session.get(BulkJob, job_id)
    if job is None or actor.role not in MANAGING_ROLES or not _manages(actor, job.issuer_id):
        raise NotFound(NO_SUCH_JOB)
    return job


def counts(session: Session, job_id: str) -> dict[str, int]:
    """Rows of job ``job_id`` per state."""
    rows = session.exec(
        select(BulkRow.state, func.count()).where(BulkRow.job_id == job_id).group_by(col(BulkRow.state))
    ).all()
    return {str(state): int(n) for state, n in rows}


RESULT_COLUMNS = ("row", "external_id", "state", "credential_id", "credential_url", "error")
RESULTS_BATCH = 1000


def iter_results(engine: Engine, settings: Settings, job_id: str) -> Iterator[dict[str, Any]]:
    """Every row's result in file order, read :data:`RESULTS_BATCH` rows per short transaction."""
    after = -1
    while True:
        with unit_of_work(engine) as session:
            batch = session.execute(
                sa_select(
                    col(BulkRow.seq),
                    col(BulkRow.line),
                    col(BulkRow.external_id),
                    col(BulkRow.state),
                    col(BulkRow.credential_id),
                    col(BulkRow.error),
                )
                .where(col(BulkRow.job_id) == job_id, col(BulkRow.seq) > after)
                .order_by(col(BulkRow.seq))
                .limit(RESULTS_BATCH)
            ).all()
        if not batch:
            return
        for seq, line, external_id, state, credential_id, error in batch:
            yield {
                "row": line,
                "external_id": external_id,
                "state": str(state),
                "credential_id": credential_id,
                "credential_url": None if credential_id is None else credential_url(settings, credential_id),
                "error": error,
            }
            after = seq


# --- finishing ------------------------------------------------------------------------------------


def mark_started(session: Session, job_id: str, *, now: datetime) -> None:
    """The first chunk to run moves the job from queued to running."""
    session.execute(
        update(BulkJob)
        .where(col(BulkJob.id) == job_id, col(BulkJob.state) == BulkJobState.queued)
        .values(state=BulkJobState.running, started_at=now)
    )


def fail_pending_rows(session: Session, job_id: str, chunk: int, reason: str) -> int:
    """Mark the still pending rows of chunk ``chunk`` of job ``job_id`` failed with ``reason``
    (the service gave up on them); how many."""
    job = session.get(BulkJob, job_id)
    if job is None:
        return 0
    low, high = chunk * job.chunk_size, (chunk + 1) * job.chunk_size
    result = session.execute(
        update(BulkRow)
        .where(
            col(BulkRow.job_id) == job_id,
            col(BulkRow.seq) >= low,
            col(BulkRow.seq) < high,
            col(BulkRow.state) == BulkRowState.pending,
        )
        .values(state=BulkRowState.failed, error=reason[:1000])
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def finish_if_done(session: Session, job_id: str, *, now: datetime) -> bool:
    """When no row of the job is pending: succeeded (failed if every row failed), ``finished_at``
    set and ``bulk.completed`` emitted, once (the conditional update picks one chunk). True when
    this call finished it."""
    # one index entry read while rows are pending (every chunk but the last): the counts below
    # read every row of the job
    pending = session.exec(
        select(BulkRow.seq).where(BulkRow.job_id == job_id, BulkRow.state == BulkRowState.pending).limit(1)
    ).first()
    if pending is not None:
        return False
    by_state = counts(session, job_id)
    if by_state.get(BulkRowState.pending, 0):
        return False
    done, failed = by_state.get(BulkRowState.issued, 0), by_state.get(BulkRowState.failed, 0)
    final = BulkJobState.failed if done == 0 and failed > 0 else BulkJobState.succeeded
    job = session.get(BulkJob, job_id)
    if job is None:
        return False
    changed = session.execute(
        update(BulkJob)
        .where(col(BulkJob.id) == job_id, col(BulkJob.state).in_((BulkJobState.queued, BulkJobState.running)))
        .values(state=final, finished_at=now, started_at=func.coalesce(BulkJob.started_at, now))
    )
    if not changed.rowcount:  # type: ignore[attr-defined]
        return False
    emit(
        session,
        issuer_id=job.issuer_id,
        type="bulk.completed",
        data={"job_id": job_id, "state": final.value, "total": job.total, "done": done, "failed": failed},
    )
    return True
