"""Bulk issuance tables: one ``bulkjob`` per accepted file, one ``bulkrow`` per row of it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from service.core.models import created_field, id_field, timestamp_field


class BulkJobState(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class BulkRowState(StrEnum):
    pending = "pending"
    issued = "issued"
    failed = "failed"


class BulkJob(SQLModel, table=True):
    """An accepted bulk file: its rows are issued by ``bulk:run_chunk`` jobs, one per chunk."""

    id: str = id_field()
    kind: str = Field(default="bulk_issuance", max_length=32)
    issuer_id: str = Field(foreign_key="issuer.id", index=True, max_length=36)
    created_by: str | None = Field(default=None, foreign_key="account.id", max_length=36)
    """The account that submitted it (None: the command line without ``--issuer-admin``)."""
    state: str = Field(default=BulkJobState.queued.value, max_length=16, index=True)
    """A :class:`BulkJobState` (plain text in the database)."""
    total: int
    chunk_size: int
    created_at: datetime = created_field()
    started_at: datetime | None = timestamp_field()
    finished_at: datetime | None = timestamp_field()


class BulkRow(SQLModel, table=True):
    """One row of a bulk file. ``seq`` is its 0-based position among the data rows (chunks are
    ranges of it); ``line`` its row number in the file. Marked ``issued`` in the transaction that
    stores its credential, so a re-run chunk skips it."""

    # (job, state, seq): a chunk's next pending rows are a range of it, whatever the planner's
    # statistics say (alembic b0c5e9000006)
    __table_args__ = (Index("ix_bulkrow_job_state", "job_id", "state", "seq"),)

    job_id: str = Field(foreign_key="bulkjob.id", primary_key=True, max_length=36)
    seq: int = Field(primary_key=True)
    line: int
    issuer_id: str = Field(max_length=36)
    achievement_id: str = Field(max_length=36)
    recipient_email: str | None = Field(default=None, max_length=320)
    recipient_did: str | None = Field(default=None, max_length=2048)
    valid_until: datetime | None = timestamp_field()
    external_id: str | None = Field(default=None, max_length=200)
    extra: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    """``results`` and ``evidence`` as the file gave them (JSON lines only)."""
    state: str = Field(default=BulkRowState.pending.value, max_length=16)
    """A :class:`BulkRowState`."""
    credential_id: str | None = Field(default=None, max_length=36)
    error: str | None = Field(default=None, max_length=1000)


class BulkExternalId(SQLModel, table=True):
    """An issuer's external id and the credential a bulk row issued for it, written in the
    transaction that stores the credential: an external id is issued once per issuer, across
    files (a later row with the same id reports this credential)."""

    issuer_id: str = Field(foreign_key="issuer.id", primary_key=True, max_length=36)
    external_id: str = Field(primary_key=True, max_length=200)
    credential_id: str = Field(foreign_key="credential.id", max_length=36)
    created_at: datetime = created_field()
