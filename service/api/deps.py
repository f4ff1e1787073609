"""FastAPI dependency aliases shared by the routes (``SessionDep``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from service.core.db import unit_of_work


def session_scope(request: Request) -> Iterator[Session]:
    """The request's session; commits after the route returns, before the response is sent."""
    with unit_of_work(request.app.state.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(session_scope, scope="function")]
