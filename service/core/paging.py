"""Offset paging for list queries: ``PageParams`` in, ``(rows, total)`` out. No FastAPI here, so
services can use it; the HTTP side (query parameters, ``X-Total-Count``, ``Link``) is in
:mod:`service.api.paging`."""

from __future__ import annotations

from typing import Any, Generic, TypeVar, TypeVarTuple, overload

from pydantic import BaseModel
from sqlmodel import Session, func, select
from sqlmodel.sql.expression import Select, SelectOfScalar

T = TypeVar("T")
Columns = TypeVarTuple("Columns")


class PageParams(BaseModel):
    limit: int
    offset: int


class Page(BaseModel, Generic[T]):
    """One page of a list: its items, the total count, and the window asked for."""

    items: list[T]
    total: int
    limit: int
    offset: int


@overload
def paginate(session: Session, statement: SelectOfScalar[T], params: PageParams) -> tuple[list[T], int]: ...


@overload
def paginate(
    session: Session, statement: Select[*Columns], params: PageParams
) -> tuple[list[tuple[*Columns]], int]: ...


def paginate(
    session: Session, statement: SelectOfScalar[Any] | Select[*tuple[Any, ...]], params: PageParams
) -> tuple[list[Any], int]:
    """Run ``statement`` for one page; returns (rows, total). The statement must be ordered."""
    total = session.exec(select(func.count()).select_from(statement.order_by(None).subquery())).one()
    rows = list(session.exec(statement.limit(params.limit).offset(params.offset)))
    return rows, int(total)
