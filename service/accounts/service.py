"""Account logic: create, authenticate, bootstrap the first admin. No FastAPI, never commits."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from service.accounts.models import Account, Role
from service.accounts.security import hash_password, verify_password
from service.audit.service import record
from service.core.errors import BadRequest, Conflict

EMAIL_VERIFICATION_TTL = timedelta(hours=48)
ISSUER_ROLES = frozenset({Role.issuer_admin, Role.reviewer})
"""Roles that act for one issuer: their accounts must name it."""


class IssuerRequired(BadRequest):
    """An issuer admin or reviewer account without the id of an existing issuer."""

    code = "issuer_required"

    def __init__(self, role: Role) -> None:
        super().__init__(f"A {role} account needs the id of an existing issuer")


def normalise_email(email: str) -> str:
    """The address as stored: trimmed and lower-cased."""
    return email.strip().lower()


#: Providers whose mailboxes ignore dots in the local part (``a.da@gmail.com`` is ``ada@gmail.com``).
DOT_BLIND_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


def mailbox(email: str) -> str:
    """The mailbox an address delivers to, for telling people apart (not for sending): lower-cased,
    without a ``+tag`` (``ada+x@example.org`` reaches ``ada@example.org`` at most providers) and,
    at providers that ignore them, without dots in the local part."""
    local, _, domain = normalise_email(email).rpartition("@")
    local = local.split("+", 1)[0]
    if domain in DOT_BLIND_DOMAINS:
        local = local.replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"


def proven_email(account: Account) -> str | None:
    """The account's normalised email address when it has proved it controls it, else None.

    Matching an account to credentials issued to an email address must go through this: an
    unverified address could be anyone's."""
    return normalise_email(account.email) if account.email_verified else None


def find_by_email(session: Session, email: str) -> Account | None:
    return session.exec(select(Account).where(Account.email == normalise_email(email))).first()


def create_account(
    session: Session,
    *,
    email: str,
    password: str,
    role: Role,
    issuer_id: str | None = None,
    actor: Account | None = None,
    email_verified: bool = True,
) -> Account:
    """A new account; issuer admins and reviewers must belong to an issuer, others must not.

    That the named issuer exists is the caller's check (accounts sit below issuers): raise
    :class:`IssuerRequired` when it does not. ``email_verified`` False (self-registration) leaves
    the address unproven: start the proof with :func:`start_email_verification`."""
    if role in ISSUER_ROLES:
        if not issuer_id:
            raise IssuerRequired(role)
    elif issuer_id is not None:
        raise BadRequest(f"A {role} account does not belong to an issuer")
    if find_by_email(session, email) is not None:
        raise Conflict("An account with this email already exists", code="email_taken")
    account = Account(
        email=normalise_email(email),
        password_hash=hash_password(password),
        role=role,
        issuer_id=issuer_id,
        email_verified_at=datetime.now(UTC) if email_verified else None,
    )
    session.add(account)
    session.flush()
    record(
        session,
        action="account.create",
        object_type="account",
        object_id=account.id,
        actor=actor,
        issuer_id=issuer_id,
        after={"email": account.email, "role": str(role)},
    )
    return account


def authenticate(session: Session, email: str, password: str) -> Account | None:
    """The account for these credentials, or None (same work whether or not the email exists)."""
    account = find_by_email(session, email)
    ok = verify_password(account.password_hash if account else None, password)
    return account if ok and account is not None and not account.disabled else None


def has_admin(session: Session) -> bool:
    return session.exec(select(Account.id).where(Account.role == Role.admin)).first() is not None


def set_password(session: Session, account: Account, password: str, *, actor: Account | None = None) -> None:
    """Replace the account's password (``skillcred admin reset-password``); records ``account.password_reset``
    (the audit event names no password or hash)."""
    account.password_hash = hash_password(password)
    session.add(account)
    session.flush()
    record(
        session,
        action="account.password_reset",
        object_type="account",
        object_id=account.id,
        actor=actor,
        issuer_id=account.issuer_id,
    )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_email_verification(session: Session, account: Account) -> str:
    """A new one-time token proving ``account`` controls its email address (replaces any earlier
    one; valid 48 hours). Only its hash is stored; the caller delivers the token."""
    if account.email_verified:
        raise Conflict("This email address is already verified", code="email_already_verified")
    token = secrets.token_urlsafe(32)
    account.email_verification_hash = _token_hash(token)
    account.email_verification_expires = datetime.now(UTC) + EMAIL_VERIFICATION_TTL
    session.add(account)
    session.flush()
    record(
        session, action="account.email_verification.start", object_type="account", object_id=account.id, actor=account
    )
    return token


def verify_email(session: Session, token: str) -> Account:
    """Mark the account whose outstanding token this is as verified. An unknown, used or expired
    token is :class:`BadRequest` ``invalid_verification_token`` (the same answer for each)."""
    account = session.exec(
        select(Account).where(Account.email_verification_hash == _token_hash(token)).with_for_update()
    ).first()
    expires = account.email_verification_expires if account is not None else None
    if expires is not None and expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    if account is None or expires is None or expires < datetime.now(UTC):
        raise BadRequest("This verification token is unknown, used or expired", code="invalid_verification_token")
    account.email_verified_at = datetime.now(UTC)
    account.email_verification_hash = None
    account.email_verification_expires = None
    session.add(account)
    session.flush()
    record(
        session,
        action="account.email_verified",
        object_type="account",
        object_id=account.id,
        actor=account,
        after={"email": account.email},
    )
    return account
