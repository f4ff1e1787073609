"""Bulk jobs as the API shows them: the progress document and the per-row results (JSON lines or CSV)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from service.bulk.models import BulkJob, BulkJobState, BulkRowState
from service.bulk.schemas import JobOut
from service.bulk.service import RESULT_COLUMNS


def job_out(job: BulkJob, by_state: Mapping[str, int], *, now: datetime) -> JobOut:
    """The job's state, row counts and estimated seconds left (at the rate so far)."""
    done, failed = by_state.get(BulkRowState.issued, 0), by_state.get(BulkRowState.failed, 0)
    eta = None
    if job.state == BulkJobState.running and job.started_at is not None and done + failed > 0:
        elapsed = (now - job.started_at).total_seconds()
        eta = round(max(0.0, elapsed / (done + failed) * (job.total - done - failed)), 1)
    return JobOut(
        job_id=job.id,
        state=BulkJobState(job.state).value,
        total=job.total,
        done=done,
        failed=failed,
        eta_seconds=eta,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


def jsonl_lines(results: Iterable[Mapping[str, Any]]) -> Iterator[bytes]:
    """One JSON object per line."""
    for result in results:
        yield (json.dumps(result, ensure_ascii=False) + "\n").encode()


def csv_lines(results: Iterable[Mapping[str, Any]]) -> Iterator[bytes]:
    """A header row, then one row per result (empty cells for nulls)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(RESULT_COLUMNS)
    for result in results:
        writer.writerow(["" if result[c] is None else result[c] for c in RESULT_COLUMNS])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()
