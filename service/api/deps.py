"""Typed FastAPI dependencies for the objects every route shares.

Routes declare what they need with these ``Annotated`` aliases instead of reading
``request.app.state``: ``SessionDep`` (the request's unit of work), ``ReadSessionDep`` and
``ReadEngineDep`` (public reads, which may go to a read replica), ``SettingsDep``,
``EngineDep``, ``KeystoreDep``, ``MailerDep``, ``TokensDep``, ``ClockDep``, ``VerifierDep`` and
``AssessorDep`` (built on first use).
:func:`create_app` puts each object on ``app.state`` once; tests replace one by setting ``app.state.<name>`` (for
example ``app.state.clock = FixedClock(...)``) or with ``app.dependency_overrides``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from service.accounts.security import TokenIssuer
from service.assessment.engine.factory import assessor_from_settings
from service.assessment.engine.result import Assessor
from service.core.clock import Clock
from service.core.config import Settings
from service.core.db import DatabaseLimits, ReadReplica, committing, unit_of_work
from service.core.keystore import Keystore
from service.core.mail import Mailer
from service.idempotency import service as idempotency
from service.verification.service import Verifier

# The dependencies that read an object off ``app.state`` are ``async def``: FastAPI runs a plain
# ``def`` dependency in a worker thread, and those hops (one per dependency, per request) were a
# fifth of a cached verification's CPU time. Anything that blocks stays ``def``.


async def get_settings(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


async def get_engine(request: Request) -> Engine:
    """The app's database engine (for work that needs its own transaction)."""
    engine: Engine = request.app.state.engine
    return engine


async def get_keystore(request: Request) -> Keystore:
    """The keystore holding the issuers' encrypted private keys."""
    keystore: Keystore = request.app.state.keystore
    return keystore


async def get_mailer(request: Request) -> Mailer | None:
    """The mailer, or None when mail is not configured."""
    mailer: Mailer | None = request.app.state.mailer
    return mailer


async def get_tokens(request: Request) -> TokenIssuer:
    """Signs and checks access tokens."""
    tokens: TokenIssuer = request.app.state.tokens
    return tokens


async def get_clock(request: Request) -> Clock:
    """The clock services read "now" from."""
    clock: Clock = request.app.state.clock
    return clock


async def get_verifier(request: Request) -> Verifier:
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
            assessor = request.app.state.assessor = assessor_from_settings(request.app.state.settings)
    return assessor


_replica_lock = threading.Lock()
READ_PRIMARY_COOKIE = "skillcred_read_primary"
"""Set on the answer to a request that wrote: until the Unix time it holds, this client's public
reads go to the primary (read-your-writes with a read replica, docs/scaling.md)."""


def read_replica_of(request: Request) -> ReadReplica | None:
    """The read replica (``SKILLCRED_DATABASE_READ_URL``), or None: built on first use and kept on
    ``app.state.read_replica`` (tests set their own there)."""
    with _replica_lock:
        if not hasattr(request.app.state, "read_replica"):
            settings: Settings = request.app.state.settings
            request.app.state.read_replica = (
                ReadReplica.from_url(
                    request.app.state.engine,
                    settings.database_read_url,
                    DatabaseLimits.for_workers(settings.request_threads, settings.issuing_concurrency),
                    max_lag_seconds=settings.database_read_sticky_seconds,
                )
                if settings.database_read_url
                else None
            )
    replica: ReadReplica | None = request.app.state.read_replica
    return replica


def reads_primary(request: Request, settings: Settings, *, now: float | None = None) -> bool:
    """Whether this request's reads must see the primary: it carries credentials (the writer's own
    requests), or a read-after-write cookie that has not run out. A cookie whose time lies further
    ahead than the sticky interval was not set here and is ignored."""
    if request.headers.get("authorization"):
        return True
    value = request.cookies.get(READ_PRIMARY_COOKIE)
    if not value:
        return False
    try:
        until = float(value)
    except ValueError:
        return False
    now = time.time() if now is None else now
    return now < until <= now + settings.database_read_sticky_seconds


async def get_read_engine(request: Request) -> Engine:
    """The engine for a public read: the replica when one is configured, this request may read it
    and it holds every status and key change the primary holds; the primary otherwise (asking the
    replica how fresh it is is a database round trip, made in a worker thread)."""
    primary: Engine = request.app.state.engine
    replica = read_replica_of(request)
    if replica is None:
        return primary
    if reads_primary(request, request.app.state.settings):
        replica.note("pinned")
        return primary
    return await run_in_threadpool(replica.engine_for_read)


def session_scope(
    request: Request, response: Response, engine: Annotated[Engine, Depends(get_engine)]
) -> Iterator[Session]:
    """The request's session; commits after the route returns, before the response is sent.

    With a read replica, a request that writes while its route runs (a flush, or an INSERT,
    UPDATE or DELETE statement) is answered with the read-after-write cookie. It is set when the
    write happens, because the route's answer is built before this dependency commits; an answer
    that is an error carries no cookie (nothing was committed).

    A request run under an ``Idempotency-Key`` (:mod:`service.api.idempotency`) marks its key's
    record committed in this same transaction, just before it commits."""
    with unit_of_work(engine) as session:
        if read_replica_of(request) is not None:
            _cookie_on_write(session, response, request.app.state.settings)
        yield session
        idempotency_record = request.scope.get("state", {}).get(idempotency.RECORD_ID_STATE)
        if idempotency_record is not None:  # the key's record says "committed" iff the changes are
            idempotency.mark_committed(session, idempotency_record)


_WRITES = frozenset({"INSERT", "UPDATE", "DELETE"})


def _cookie_on_write(session: Session, response: Response, settings: Settings) -> None:
    marked: list[bool] = []

    def mark() -> None:
        if marked:
            return
        marked.append(True)
        sticky = settings.database_read_sticky_seconds
        response.set_cookie(
            READ_PRIMARY_COOKIE,
            f"{time.time() + sticky:.3f}",
            max_age=sticky,
            httponly=True,
            samesite="lax",
            secure=settings.public_url.startswith("https://"),
        )

    # every statement the session sends, whichever way it went (a flush, an ORM statement, a Core
    # statement on session.connection(), text): a write is one that starts with its verb
    def on_statement(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip()[:6].upper() in _WRITES:
            mark()

    def on_begin(_session: Any, _transaction: Any, connection: Connection) -> None:
        event.listen(connection, "before_cursor_execute", on_statement)

    event.listen(session, "after_begin", on_begin)


def read_session_scope(request: Request, engine: Annotated[Engine, Depends(get_read_engine)]) -> Iterator[Session]:
    """A public read's session, on the engine :func:`get_read_engine` chose (on the replica its
    writes, if any, still go to the primary); commits like :func:`session_scope`."""
    with committing(open_read_session(request, engine)) as session:
        yield session


def open_read_session(request: Request, engine: Engine) -> Session:
    """A new session for a public read on ``engine`` (from :func:`get_read_engine`): with a read
    replica, one whose writes, if any, still go to the primary."""
    replica = read_replica_of(request)
    return replica.session(engine) if replica is not None else Session(engine, expire_on_commit=False)


SessionDep = Annotated[Session, Depends(session_scope, scope="function")]
ReadSessionDep = Annotated[Session, Depends(read_session_scope, scope="function")]
"""For public read routes only: may read a replica (never stale on status or keys)."""
ReadEngineDep = Annotated[Engine, Depends(get_read_engine)]
"""The engine of a public read that opens its own sessions (``POST /v1/verify``)."""
SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
KeystoreDep = Annotated[Keystore, Depends(get_keystore)]
MailerDep = Annotated[Mailer | None, Depends(get_mailer)]
TokensDep = Annotated[TokenIssuer, Depends(get_tokens)]
ClockDep = Annotated[Clock, Depends(get_clock)]
VerifierDep = Annotated[Verifier, Depends(get_verifier)]
AssessorDep = Annotated[Assessor, Depends(get_assessor)]
