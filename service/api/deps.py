"""Typed FastAPI dependencies for the objects every route shares.

Routes declare what they need with these ``Annotated`` aliases instead of reading
``request.app.state``: ``SessionDep`` (the request's unit of work), ``SettingsDep``,
``EngineDep``, ``KeystoreDep``, ``MailerDep``, ``TokensDep``, ``ClockDep``, ``VerifierDep`` and
``AssessorDep`` (built on first use).
:func:`create_app` puts each object on ``app.state`` once; tests replace one by setting ``app.state.<name>`` (for
example ``app.state.clock = FixedClock(...)``) or with ``app.dependency_overrides``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.accounts.security import TokenIssuer
from service.assessment.engine.factory import assessor_from_settings
from service.assessment.engine.result import Assessor
from service.core.clock import Clock
from service.core.config import Settings
from service.core.db import unit_of_work
from service.core.keystore import Keystore
from service.core.mail import Mailer
from service.verification.service import Verifier


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


def get_verifier(request: Request) -> Verifier:
    """The verifier, whose remote did:web and status list resolvers (and caches) the app shares."""
    verifier: Verifier = request.app.state.verifier
    return verifier


_assessor_lock = threading.Lock()


def get_assessor(request: Request) -> Assessor:
    """The configured assessor (offline by default), built from the settings once per app on first
    use (loading a model takes a moment) and kept on ``app.state.assessor``. Tests script one by
    setting ``app.state.assessor`` or overriding this dependency."""
    with _assessor_lock:
        assessor: Assessor | None = getattr(request.app.state, "assessor", None)
        if assessor is None:
            assessor = request.app.state.assessor = assessor_from_settings(get_settings(request))
    return assessor


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
VerifierDep = Annotated[Verifier, Depends(get_verifier)]
AssessorDep = Annotated[Assessor, Depends(get_assessor)]
