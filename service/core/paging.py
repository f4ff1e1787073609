"""Offset paging for list queries: ``PageParams`` in, ``(rows, total)`` out. No FastAPI here, so
services can use it; the HTTP side (query parameters, ``X-Total-Count``, ``Link``) is in
:mod:`service.api.paging`."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel
from sqlmodel import Session, func, select
from sqlmodel.sql.expression import SelectOfScalar

T = TypeVar("T")


class PageParams(BaseModel):
    limit: int
    offset: int


class Page(BaseModel, Generic[T]):
    """One page of a list: its items, the total count, and the window asked for."""

    items: list[T]
    total: int
    limit: int
    offset: int


def paginate(session: Session, statement: SelectOfScalar, params: PageParams) -> tuple[list, int]:
    """Run ``statement`` for one page; returns (rows, total). The statement must be ordered."""
    total = session.exec(select(func.count()).select_from(statement.order_by(None).subquery())).one()
    rows = list(session.exec(statement.limit(params.limit).offset(params.offset)))
    return rows, int(total)
