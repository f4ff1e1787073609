"""Browser sessions and CSRF tokens for the portal. No FastAPI here, and nothing commits.

- :func:`start_session` signs an account in: a new random token (the cookie's value; a fresh one
  at every sign-in, so a token planted before it is worth nothing) whose SHA-256 is the row's key.
- :func:`resolve_session` finds the live session of a cookie: not past its idle or absolute end,
  for an account that is enabled, may sign in and has the password it had at sign-in. Anything
  else deletes the row and answers None (the browser is signed out).
- :func:`end_session` (sign-out) and :func:`end_sessions_of` (every browser of an account).
- CSRF: a form's token is an HMAC of the session token (:func:`csrf_token`), so it is bound to the
  session, needs no storage and a page of another site cannot know it. Before sign-in, the login
  and sign-up forms are bound the same way to a short-lived random pre-session cookie
  (:func:`pre_session_csrf_token`), so a forged login (signing the victim into the attacker's
  account) fails too.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, select

from service.accounts.models import Account
from service.accounts.service import is_expired
from service.audit.service import record
from service.portal.models import PortalSession

IDLE_TIMEOUT = timedelta(hours=2)
"""A session nobody used for this long has ended."""
ABSOLUTE_LIFETIME = timedelta(hours=12)
"""A session ends this long after sign-in, however active."""
PRE_SESSION_LIFETIME = timedelta(hours=1)
"""How long the login and sign-up forms' pre-session cookie lasts."""
TOUCH_INTERVAL = timedelta(minutes=1)
"""``last_seen_at`` is written at most this often (a page view is otherwise a read)."""


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def password_stamp(account: Account) -> str:
    """What a session remembers of the account's password: the SHA-256 of its hash."""
    return _digest(account.password_hash or "")


@dataclass(frozen=True)
class LiveSession:
    """A resolved session: its row and its account."""

    row: PortalSession
    account: Account


def start_session(session: Session, account: Account, *, now: datetime) -> tuple[str, PortalSession]:
    """Sign ``account`` in: a new session row and the token for the cookie (only its hash is
    stored). Audited as ``account.sign_in`` (portal)."""
    token = secrets.token_urlsafe(32)
    row = PortalSession(
        token_hash=_digest(token),
        account_id=account.id,
        password_stamp=password_stamp(account),
        created_at=now,
        last_seen_at=now,
        expires_at=now + ABSOLUTE_LIFETIME,
    )
    session.add(row)
    session.flush()
    record(
        session,
        action="account.sign_in",
        object_type="account",
        object_id=account.id,
        actor=account,
        issuer_id=account.issuer_id,
        after={"via": "portal", "session_id": row.id},
    )
    return token, row


def _usable(account: Account | None, row: PortalSession, now: datetime) -> bool:
    if account is None or account.disabled or account.is_service or is_expired(account, now=now):
        return False
    if not hmac.compare_digest(row.password_stamp, password_stamp(account)):
        return False
    return now < row.expires_at and now < row.last_seen_at + IDLE_TIMEOUT


def _row(session: Session, token: str | None) -> PortalSession | None:
    if not token or len(token) > 256:
        return None
    return session.exec(select(PortalSession).where(PortalSession.token_hash == _digest(token))).first()


def resolve_session(session: Session, token: str | None, *, now: datetime) -> LiveSession | None:
    """The live session the cookie ``token`` names, or None: none, or one that has ended (idle,
    past its end, the account disabled or its password changed; :func:`discard_ended` deletes
    it, in a transaction of its own so that the refusal's rollback keeps it deleted).
    ``last_seen_at`` moves on at most every :data:`TOUCH_INTERVAL`."""
    row = _row(session, token)
    if row is None:
        return None
    account = session.get(Account, row.account_id)
    if not _usable(account, row, now):
        return None
    assert account is not None
    if now - row.last_seen_at >= TOUCH_INTERVAL:
        row.last_seen_at = now
        session.add(row)
        session.flush()
    return LiveSession(row, account)


def discard_ended(session: Session, token: str | None, *, now: datetime) -> bool:
    """Delete the session the cookie ``token`` names if it has ended; whether it did."""
    row = _row(session, token)
    if row is None or _usable(session.get(Account, row.account_id), row, now):
        return False
    session.delete(row)
    session.flush()
    return True


def end_session(session: Session, token: str | None) -> bool:
    """Sign out: delete the session the cookie ``token`` names; whether there was one."""
    row = _row(session, token)
    if row is None:
        return False
    account = session.get(Account, row.account_id)
    session.delete(row)
    session.flush()
    record(
        session,
        action="account.sign_out",
        object_type="account",
        object_id=row.account_id,
        actor=account,
        after={"via": "portal", "session_id": row.id},
    )
    return True


def end_sessions_of(session: Session, account_id: str) -> int:
    """End every browser session of an account (e.g. after an administrator disabled it or
    reset its password); how many there were."""
    result = session.execute(delete(PortalSession).where(col(PortalSession.account_id) == account_id))
    return int(getattr(result, "rowcount", 0) or 0)


def sweep_ended(session: Session, *, now: datetime) -> int:
    """Delete sessions past their absolute end or idle for longer than :data:`IDLE_TIMEOUT`."""
    result = session.execute(
        delete(PortalSession).where(
            (col(PortalSession.expires_at) <= now) | (col(PortalSession.last_seen_at) <= now - IDLE_TIMEOUT)
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- CSRF ---------------------------------------------------------------------------------------


def new_pre_session() -> str:
    """A random value for the pre-session cookie of the login and sign-up forms."""
    return secrets.token_urlsafe(32)


def csrf_token(key: bytes, session_token: str) -> str:
    """The forms' token for the session whose cookie holds ``session_token``."""
    return hmac.new(key, b"session:" + session_token.encode(), hashlib.sha256).hexdigest()


def pre_session_csrf_token(key: bytes, pre_session: str) -> str:
    """The login and sign-up forms' token for the pre-session cookie ``pre_session``."""
    return hmac.new(key, b"pre-session:" + pre_session.encode(), hashlib.sha256).hexdigest()


def csrf_matches(expected: str, sent: str | None) -> bool:
    """Whether a form sent the expected token (compared in constant time)."""
    return bool(sent) and hmac.compare_digest(expected.encode(), (sent or "").encode())
