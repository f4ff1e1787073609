"""The stored outcome of a request made with an ``Idempotency-Key``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.core.models import created_field, id_field, json_field, timestamp_field


class IdempotencyRecord(SQLModel, table=True):
    """One key of one caller: the request's fingerprint and, once it is answered, the answer.

    ``state`` is ``pending`` while the first request runs, ``committed`` once its transaction
    committed (set inside that transaction) and ``done`` once its answer is stored."""

    __table_args__ = (UniqueConstraint("owner", "key"),)

    id: str = id_field()
    owner: str = Field(max_length=80)
    """Who the key belongs to: ``client:<client id>`` or ``account:<account id>``."""
    key: str = Field(max_length=255)
    request_hash: str = Field(max_length=64)
    method: str = Field(max_length=10)
    path: str = Field(max_length=2048)
    state: str = Field(default="pending", max_length=10)
    status_code: int | None = None
    response_headers: dict = json_field(dict)
    response_body: bytes | None = Field(default=None, sa_type=LargeBinary)
    created_at: datetime = created_field()
    expires_at: datetime = timestamp_field(nullable=False, index=True)
