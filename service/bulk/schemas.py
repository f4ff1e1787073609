"""Bulk issuance API shapes: one row of a file (as validated), and a job's progress."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.core.validation import Email
from service.credentials.schemas import MAX_EVIDENCE, MAX_RESULTS, Did, EvidenceIn, ResultIn

ExternalId = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]


class BulkRowIn(BaseModel):
    """One row: an achievement, exactly one of ``recipient_email`` / ``recipient_did``, an optional
    ``valid_until`` (ISO 8601 with a time zone, in the future), an optional ``external_id`` (unique
    per issuer: a row whose id was already issued reports that credential instead of a new one),
    and, in JSON lines, optional ``results`` and ``evidence`` as ``POST /v1/credentials`` takes them."""

    model_config = ConfigDict(extra="forbid")

    achievement_id: Annotated[str, Field(min_length=1, max_length=36)]
    recipient_email: Email | None = None
    recipient_did: Did | None = None
    valid_until: datetime | None = None
    external_id: ExternalId | None = None
    results: Annotated[list[ResultIn], Field(max_length=MAX_RESULTS)] = []
    evidence: Annotated[list[EvidenceIn], Field(max_length=MAX_EVIDENCE)] = []


class RowError(BaseModel):
    """Why row ``row`` (its number in the file; a CSV header is row 1) was refused."""

    row: int
    error: str


class JobOut(BaseModel):
    """A bulk job's progress. ``eta_seconds``: the remaining rows at the rate so far (None until
    some are done, and once finished)."""

    job_id: str
    kind: Literal["bulk_issuance"] = "bulk_issuance"
    state: Literal["queued", "running", "succeeded", "failed"]
    total: int
    done: int
    failed: int
    eta_seconds: float | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
