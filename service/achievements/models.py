"""Achievement and achievement-version tables. Issued credentials keep their version."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.core.models import created_field, id_field, json_field


class Achievement(SQLModel, table=True):
    """An achievement an issuer awards; its content lives in versions."""

    id: str = id_field()
    issuer_id: str = Field(foreign_key="issuer.id", index=True, max_length=36)
    current_version: int = 1
    allow_multiple_active: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    """Whether an earner may hold more than one active credential for this achievement at once.
    False (the default): one per recipient, enforced by ``credential.active_key``'s unique index."""
    created_at: datetime = created_field()
    updated_at: datetime = created_field()


class AchievementVersion(SQLModel, table=True):
    """One immutable version of an achievement's content."""

    __table_args__ = (UniqueConstraint("achievement_id", "version"),)

    id: str = id_field()
    achievement_id: str = Field(foreign_key="achievement.id", index=True, max_length=36)
    version: int
    name: str = Field(max_length=200)
    description: str = Field(max_length=4000)
    criteria_narrative: str | None = Field(default=None, max_length=10_000)
    criteria_id: str | None = Field(default=None, max_length=2048)
    image: str | None = Field(default=None, max_length=2048)
    achievement_type: str | None = Field(default=None, max_length=64)
    alignments: list = json_field()
    result_descriptions: list = json_field()
    tags: list = json_field()
    validity_days: int | None = None
    """Credentials issued with this version expire this many days after ``validFrom`` (unless
    the issue request gives its own ``valid_until``); None: they do not expire."""
    rubric: dict[str, Any] | None = Field(default=None, sa_type=JSON, nullable=True)
    """The rubric evidence is judged by (``schemas/rubric.schema.json``), as given; None: none.
    Its criteria also appear in ``result_descriptions`` (entries with ``rubric_criterion``)."""
    created_at: datetime = created_field()
