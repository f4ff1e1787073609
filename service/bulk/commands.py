"""``skillcred bulk-issue``: submit a file of rows from the command line, follow it with a
progress bar, write the per-row results next to it.

On PostgreSQL the rows are issued by ``skillcred worker`` processes (this command waits and
shows their progress, or returns at once with ``wait=False``); on SQLite, whose queue lives
inside ``skillcred serve``, this command issues the chunks itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import select

from service.accounts.models import Account
from service.accounts.service import normalise_email
from service.bulk import parsing
from service.bulk.issuing import run_chunk
from service.bulk.models import BulkJob, BulkJobState, BulkRowState
from service.bulk.service import counts, iter_results, submit
from service.bulk.views import csv_lines
from service.core.config import Settings
from service.core.db import DatabaseLimits, make_engine, unit_of_work
from service.core.errors import NotFound
from service.core.keystore import Keystore, load_kek
from service.core.models import utcnow

POLL_SECONDS = 1.0
Progress = Callable[[int, int], None]
"""Called with (rows handled, total) as the job advances."""


@dataclass(frozen=True)
class BulkOutcome:
    """What the command did: the job, its final (or current) counts, the results file if written."""

    job_id: str
    state: str
    total: int
    done: int
    failed: int
    results_path: Path | None


def file_kind(path: Path, data: bytes) -> str:
    """``jsonl`` for .jsonl/.ndjson files (or text starting with ``{``), else ``csv``."""
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return "jsonl"
    if path.suffix.lower() == ".csv":
        return "csv"
    return "jsonl" if data.lstrip()[:1] == b"{" else "csv"


def bulk_issue_command(
    settings: Settings,
    path: Path,
    *,
    achievement_id: str | None,
    issuer_admin: str | None = None,
    wait: bool = True,
    results_path: Path | None = None,
    progress: Progress | None = None,
) -> BulkOutcome:
    """Submit ``path`` (rows without ``achievement_id`` get ``achievement_id``) as ``issuer_admin``
    (default: the operator, any issuer). Raises :class:`parsing.FileError`,
    :class:`~service.bulk.service.InvalidRows` or :class:`NotFound` (no such account)."""
    data = path.read_bytes()
    defaults = {"achievement_id": achievement_id} if achievement_id else None
    parsed = parsing.parse(data, file_kind(path, data), defaults=defaults)
    engine = make_engine(settings.database_url, DatabaseLimits.for_workers(2, 1))
    try:
        with unit_of_work(engine) as session:
            actor = None
            if issuer_admin is not None:
                actor = session.exec(select(Account).where(Account.email == normalise_email(issuer_admin))).first()
                if actor is None:
                    raise NotFound(f"No account has the email {issuer_admin}")
            job = submit(session, settings, actor, parsed, now=utcnow())
            job_id, total, chunk_size = job.id, job.total, job.chunk_size
        if not wait:
            return BulkOutcome(job_id, BulkJobState.queued.value, total, 0, 0, None)
        if engine.dialect.name == "postgresql":
            _follow(engine, job_id, progress)
        else:
            keystore = Keystore(load_kek(settings))
            for chunk in range((total + chunk_size - 1) // chunk_size):
                run_chunk(engine, keystore, settings, utcnow, job_id, chunk)
                if progress is not None:
                    progress(min(total, (chunk + 1) * chunk_size), total)
        with unit_of_work(engine) as session:
            final = session.get(BulkJob, job_id)
            assert final is not None
            by_state = counts(session, job_id)
        out = results_path or Path(f"bulk-{job_id}.csv")
        with out.open("wb") as handle:
            for chunk_bytes in csv_lines(iter_results(engine, settings, job_id)):
                handle.write(chunk_bytes)
        return BulkOutcome(
            job_id,
            str(final.state),
            total,
            by_state.get(BulkRowState.issued, 0),
            by_state.get(BulkRowState.failed, 0),
            out,
        )
    finally:
        engine.dispose()


def _follow(engine: Engine, job_id: str, progress: Progress | None) -> None:
    """Wait for the workers to finish job ``job_id``, reporting progress."""
    while True:
        with unit_of_work(engine) as session:
            job = session.get(BulkJob, job_id)
            assert job is not None
            by_state = counts(session, job_id)
            state, total = job.state, job.total
        if progress is not None:
            progress(by_state.get(BulkRowState.issued, 0) + by_state.get(BulkRowState.failed, 0), total)
        if state in (BulkJobState.succeeded, BulkJobState.failed):
            return
        time.sleep(POLL_SECONDS)
