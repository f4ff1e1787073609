"""Evidence bundle and item tables. An item's bytes live in the blob store, named by ``sha256``."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from service.core.models import created_field, id_field, timestamp_field


class BundleState(StrEnum):
    """``open``: the earner adds and removes items. ``locked``: submitted for assessment; immutable."""

    open = "open"
    locked = "locked"


class ItemState(StrEnum):
    """``fetching``: a URL or repository item whose bytes the job ``evidence:fetch_item`` is still
    getting. ``ready``: its bytes are stored. ``failed``: the fetch failed for good (``error`` says
    why); remove or replace the item."""

    fetching = "fetching"
    ready = "ready"
    failed = "failed"


class EvidenceBundleRecord(SQLModel, table=True):
    """The evidence an earner gathers for one achievement (the achievement's issuer is copied in,
    so reviewers' scope checks need no join)."""

    __tablename__ = "evidencebundle"

    id: str = id_field()
    owner_id: str = Field(foreign_key="account.id", index=True, max_length=36)
    achievement_id: str = Field(foreign_key="achievement.id", index=True, max_length=36)
    issuer_id: str = Field(foreign_key="issuer.id", index=True, max_length=36)
    title: str | None = Field(default=None, max_length=200)
    state: str = Field(default=BundleState.open.value, max_length=16)
    """A :class:`BundleState` value."""
    created_at: datetime = created_field()
    updated_at: datetime = created_field()
    locked_at: datetime | None = timestamp_field()
    credential_id: str | None = Field(default=None, foreign_key="credential.id", index=True, max_length=36)
    """The issued credential that cites this bundle's items (their bytes are public from then on)."""
    issued_at: datetime | None = timestamp_field()


class EvidenceItemRecord(SQLModel, table=True):
    """One piece of evidence. ``sha256``/``size``/``media_type`` describe the stored bytes (the
    media type is sniffed; ``declared_media_type`` is what the client said, kept but not trusted).

    Kind-specific columns: ``url``/``final_url``/``http_status``/``fetched_at`` (url; ``url`` is
    the repository URL for a repository), ``commit`` (repository), ``file_name`` (file),
    ``author_name``/``contact_email``/``contact_phone`` (testimonial; the contact is personal
    data, shown to the earner and the issuer's reviewers only, never published).

    ``state`` (an :class:`ItemState`): URL and repository items start ``fetching`` and hold no
    bytes until the job stored them (``sha256`` and ``media_type`` are empty, ``size`` 0);
    every other item is ``ready`` at once. ``error``: why a ``failed`` item failed.
    """

    __tablename__ = "evidenceitem"
    __table_args__ = (UniqueConstraint("bundle_id", "position"),)

    id: str = id_field()
    bundle_id: str = Field(foreign_key="evidencebundle.id", index=True, max_length=36)
    position: int
    kind: str = Field(max_length=16)
    name: str | None = Field(default=None, max_length=200)
    sha256: str = Field(max_length=64, index=True)
    size: int
    media_type: str = Field(max_length=127)
    declared_media_type: str | None = Field(default=None, max_length=127)
    file_name: str | None = Field(default=None, max_length=255)
    url: str | None = Field(default=None, max_length=2048)
    final_url: str | None = Field(default=None, max_length=4096)
    http_status: int | None = None
    fetched_at: datetime | None = timestamp_field()
    commit: str | None = Field(default=None, max_length=64)
    author_name: str | None = Field(default=None, max_length=200)
    contact_email: str | None = Field(default=None, max_length=320)
    contact_phone: str | None = Field(default=None, max_length=40)
    created_at: datetime = created_field()
    state: str = Field(
        default=ItemState.ready.value, max_length=16, sa_column_kwargs={"server_default": sa.text("'ready'")}
    )
    """An :class:`ItemState` value."""
    error: str | None = Field(default=None, max_length=1000)
