"""Typed FastAPI dependencies for the objects every route shares.

Routes declare what they need with these ``Annotated`` aliases instead of reading
``request.app.state``: ``SessionDep`` (the request's unit of work), ``SettingsDep``,
``EngineDep``, ``KeystoreDep``, ``MailerDep``, ``TokensDep`` and ``ClockDep``. :func:`create_app`
puts each object on ``app.state`` once; tests replace one by setting ``app.state.<name>`` (for
example ``app.state.clock = FixedClock(...)``) or with ``app.dependency_overrides``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.accounts.security import TokenIssuer
from service.core.clock import Clock
from service.core.config import Settings
from service.core.db import unit_of_work
from service.core.keystore import Keystore
from service.core.mail import Mailer


def get_settings(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    """The app's database engine (for work that needs its own transaction)."""
    engine: Engine = request.app.state.engine
    return engine


def get_keystore(request: Request) -> Keystore:
    """The keystore holding the issuers' encrypted private keys."""
    keystore: Keystore = request.app.state.keystore
    return keystore


def get_mailer(request: Request) -> Mailer | None:
    """The mailer, or None when mail is not configured."""
    mailer: Mailer | None = request.app.state.mailer
    return mailer


def get_tokens(request: Request) -> TokenIssuer:
    """Signs and checks access tokens."""
    tokens: TokenIssuer = request.app.state.tokens
    return tokens


def get_clock(request: Request) -> Clock:
    """The clock services read "now" from."""
    clock: Clock = request.app.state.clock
    return clock


def session_scope(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    """The request's session; commits after the route returns, before the response is sent."""
    with unit_of_work(engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(session_scope, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
KeystoreDep = Annotated[Keystore, Depends(get_keystore)]
MailerDep = Annotated[Mailer | None, Depends(get_mailer)]
TokensDep = Annotated[TokenIssuer, Depends(get_tokens)]
ClockDep = Annotated[Clock, Depends(get_clock)]
