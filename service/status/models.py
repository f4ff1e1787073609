"""Status list tables: one list per issuer, purpose and sequence number, and the index allocations.

A list's bits are not stored as a blob: they are the allocations whose ``value`` is not 0, so a
status change is a one-row update (no read-modify-write of a shared bitstring, no lost update
when two workers change two credentials of one list at once). The signed list credential is
stored as text and served byte for byte, with the ``version`` it reflects: a list is *dirty*
while ``signed_version`` lags ``version``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.core.models import created_field, id_field, timestamp_field


class StatusPurpose(StrEnum):
    """The two lists every credential has an entry in."""

    revocation = "revocation"
    suspension = "suspension"


class StatusList(SQLModel, table=True):
    """A W3C Bitstring Status List of ``size`` entries, owned by an issuer, for one purpose.

    ``sequence`` numbers an issuer's lists of a purpose (1, 2, ...); the unique constraint on
    (issuer, purpose, sequence) lets only one worker open the next list when the current one fills.
    ``allocated`` counts handed-out indexes; at ``capacity`` the next list opens.
    """

    __table_args__ = (UniqueConstraint("issuer_id", "purpose", "sequence"),)

    id: str = id_field()
    issuer_id: str = Field(foreign_key="issuer.id", max_length=36)  # led by the unique index
    purpose: str = Field(max_length=16)
    sequence: int
    size: int
    capacity: int
    allocated: int = 0
    version: int = 0
    """Bumped by every status change in the list."""
    signed_version: int | None = None
    """The ``version`` the stored signed credential reflects (None: never signed)."""
    credential_text: str | None = Field(default=None, sa_type=Text)
    """The signed ``BitstringStatusListCredential``, served byte for byte."""
    etag: str | None = Field(default=None, max_length=80)
    signed_at: datetime | None = timestamp_field()
    changed_at: datetime | None = timestamp_field()
    created_at: datetime = created_field()


class StatusEntry(SQLModel, table=True):
    """One allocated index: (list, index) is the primary key, so no index is handed out twice.

    Entries are never deleted, so an index is never reused. ``value`` is the entry's status
    (1 = revoked or suspended). The credential row is written later in the same transaction as
    its entries (they are signed into it), hence the deferred foreign key.
    """

    __table_args__ = (Index("ix_statusentry_list_id_value", "list_id", "value"),)

    list_id: str = Field(foreign_key="statuslist.id", primary_key=True, max_length=36)
    status_index: int = Field(primary_key=True, ge=0)
    credential_id: str = Field(
        sa_column=Column(
            String(36), ForeignKey("credential.id", deferrable=True, initially="DEFERRED"), nullable=False, index=True
        )
    )
    value: int = 0
    endorsement_id: str | None = Field(default=None, index=True, max_length=36)
    """Set when the entry is an issuer-signed endorsement's (``credential_id`` is then the endorsed
    credential's): it belongs to the endorsement, never to the credential (issue 9, item 4)."""
