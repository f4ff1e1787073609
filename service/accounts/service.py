"""Account logic: create, authenticate, bootstrap the first admin. No FastAPI, never commits."""

from __future__ import annotations

from sqlmodel import Session, select

from service.accounts.models import Account, Role
from service.accounts.security import hash_password, verify_password
from service.audit.service import record
from service.errors import BadRequest, Conflict


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(session: Session, email: str) -> Account | None:
    return session.exec(select(Account).where(Account.email == normalise_email(email))).first()


def create_account(session: Session, *, email: str, password: str, role: Role,
                   issuer_id: str | None = None, actor: Account | None = None) -> Account:
    """A new account; issuer admins and reviewers must belong to an issuer, others must not."""
    from service.issuers.models import Issuer

    if role in (Role.issuer_admin, Role.reviewer):
        if not issuer_id or session.get(Issuer, issuer_id) is None:
            raise BadRequest(f"A {role} account needs the id of an existing issuer", code="issuer_required")
    elif issuer_id is not None:
        raise BadRequest(f"A {role} account does not belong to an issuer")
    if find_by_email(session, email) is not None:
        raise Conflict("An account with this email already exists", code="email_taken")
    account = Account(email=normalise_email(email), password_hash=hash_password(password), role=role, issuer_id=issuer_id)
    session.add(account)
    session.flush()
    record(session, action="account.create", object_type="account", object_id=account.id, actor=actor,
           issuer_id=issuer_id, after={"email": account.email, "role": str(role)})
    return account


def authenticate(session: Session, email: str, password: str) -> Account | None:
    """The account for these credentials, or None (same work whether or not the email exists)."""
    account = find_by_email(session, email)
    ok = verify_password(account.password_hash if account else None, password)
    return account if ok and account is not None and not account.disabled else None


def has_admin(session: Session) -> bool:
    return session.exec(select(Account.id).where(Account.role == Role.admin)).first() is not None
