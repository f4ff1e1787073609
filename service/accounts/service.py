"""Account logic: create, authenticate, bootstrap the first admin. No FastAPI, never commits."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from service.accounts.models import Account, Role
from service.accounts.passwords import check_new_password
from service.accounts.security import hash_password, verify_password
from service.audit.service import record
from service.core.errors import BadRequest, Conflict, ServiceError
from service.core.mail import Message

EMAIL_VERIFICATION_TTL = timedelta(hours=48)
"""The default lifetime of a verification token, and of a never-verified account after it
(``SKILLCRED_UNVERIFIED_ACCOUNT_HOURS``)."""
REPLACED_DOMAIN = "replaced.invalid"
"""Where a replaced never-verified account that other rows still name is parked: ``.invalid`` is
reserved and never delivers (RFC 2606 section 2), so the row frees the real address."""
ISSUER_ROLES = frozenset({Role.issuer_admin, Role.reviewer})
"""Roles that act for one issuer: their accounts must name it."""


class IssuerRequired(BadRequest):
    """An issuer admin or reviewer account without the id of an existing issuer."""

    code = "issuer_required"

    def __init__(self, role: Role) -> None:
        super().__init__(f"A {role} account needs the id of an existing issuer")


class PasswordRequired(ServiceError):
    """Claiming an account that has no password (a platform provisioned it) needs one: 422."""

    status_code, code = 422, "password_required"

    def __init__(self) -> None:
        super().__init__("This account has no password yet: claim it by sending a new `password` with the token")


class PasswordNotExpected(ServiceError):
    """A password sent with the verification token of an account that already has one: 422."""

    status_code, code = 422, "password_not_expected"

    def __init__(self) -> None:
        super().__init__("This account already has a password: send the token alone")


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
    display_name: str | None = None,
) -> Account:
    """A new account; issuer admins and reviewers must belong to an issuer, others must not.
    ``display_name``: the name the person is shown by (already validated by the caller's schema).

    That the named issuer exists is the caller's check (accounts sit below issuers): raise
    :class:`IssuerRequired` when it does not. ``email_verified`` False (self-registration) leaves
    the address unproven: start the proof with :func:`start_email_verification`.

    A never-verified account for the same address (:func:`is_replaceable`) is replaced; any other
    is :class:`Conflict` ``email_taken`` (also when a simultaneous request wins the address: the
    transaction is then rolled back). The password must pass
    :func:`~service.accounts.passwords.check_new_password` (422 ``weak_password``)."""
    if role in ISSUER_ROLES:
        if not issuer_id:
            raise IssuerRequired(role)
    elif issuer_id is not None:
        raise BadRequest(f"A {role} account does not belong to an issuer")
    check_new_password(password, email=normalise_email(email))
    existing = find_by_email(session, email)
    if existing is not None and not is_replaceable(existing):
        raise Conflict("An account with this email already exists", code="email_taken")
    replaced = None if existing is None else _park_unverified(session, existing)
    account = Account(
        email=normalise_email(email),
        password_hash=hash_password(password),
        role=role,
        issuer_id=issuer_id,
        display_name=display_name,
        email_verified_at=datetime.now(UTC) if email_verified else None,
    )
    details: dict[str, object] = {"role": str(role)}
    if display_name is not None:
        details["display_name"] = display_name
    return _insert_account(session, account, replaced, actor, issuer_id, details)


def _insert_account(
    session: Session,
    account: Account,
    replaced: str | None,
    actor: Account | None,
    issuer_id: str | None,
    details: dict[str, object],
) -> Account:
    """Store a new ``account`` and audit it (and the never-verified account it ``replaced``);
    :class:`Conflict` ``email_taken`` when a simultaneous request won the address."""
    session.add(account)
    try:
        session.flush()
    except IntegrityError:  # another request created an account for this address meanwhile
        session.rollback()  # the failed flush ended the transaction; nothing of it was kept
        raise Conflict("An account with this email already exists", code="email_taken") from None
    record(
        session,
        action="account.create",
        object_type="account",
        object_id=account.id,
        actor=actor,
        issuer_id=issuer_id,
        after={"email": account.email, **details},
    )
    if replaced is not None:
        _record_replaced(session, replaced, account, actor)
    return account


def _record_replaced(session: Session, replaced: str, account: Account, actor: Account | None) -> None:
    """Audit that the never-verified account ``replaced`` gave way to ``account``."""
    record(
        session,
        action="account.replace_unverified",
        object_type="account",
        object_id=replaced,
        actor=actor,
        before={"email": account.email, "email_verified": False},
        after={"email": f"{replaced}@{REPLACED_DOMAIN}", "disabled": True, "replaced_by": account.id},
    )


def is_replaceable(account: Account) -> bool:
    """Whether a new account for ``account``'s address replaces it: a self-registered earner
    account that never proved its address (issue 9: a never-verified registration must not squat
    an address; only the mailbox owner can redeem the new account's token). An unclaimed account
    a platform provisioned (:func:`is_unclaimed`) is not: a platform acts for it, and its owner
    claims it rather than registering again."""
    return account.role == Role.earner and not account.email_verified and not is_unclaimed(account)


def is_unclaimed(account: Account) -> bool:
    """Whether ``account`` is an earner account a platform provisioned that its owner has not
    claimed yet: it has no password (so it cannot sign in) until the owner redeems the token
    mailed to its address with one (:func:`verify_email`)."""
    return account.role == Role.earner and not account.password_hash and not account.is_service


def create_unclaimed_earner(
    session: Session, *, email: str, actor: Account | None = None, issuer_id: str | None = None
) -> Account:
    """A new earner account for a platform's user: no password and an unproven address, until
    its owner claims it (:func:`start_email_verification`, then :func:`verify_email` with a
    password). A never-verified self-registered account for the address is replaced, as
    :func:`create_account` does; any other account for it is :class:`Conflict` ``email_taken``
    (also when a simultaneous request wins the address). ``issuer_id`` names the provisioning
    platform's issuer in the audit event."""
    existing = find_by_email(session, email)
    if existing is not None and not is_replaceable(existing):
        raise Conflict("An account with this email already exists", code="email_taken")
    replaced = None if existing is None else _park_unverified(session, existing)
    account = Account(email=normalise_email(email), password_hash="", role=Role.earner)
    return _insert_account(
        session, account, replaced, actor, issuer_id, {"role": str(Role.earner), "provisioned": True}
    )


def is_expired(account: Account, *, now: datetime | None = None) -> bool:
    """Whether ``account`` is a never-verified account whose latest verification token has
    expired: it can no longer sign in (the address owner registers again)."""
    if account.email_verified:
        return False
    expires = account.email_verification_expires
    if expires is not None and expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    return expires is None or expires <= (now or datetime.now(UTC))


def _park_unverified(session: Session, account: Account) -> str:
    """Take a never-verified account out of the way of a new one for its address: disable it and
    move it to ``<id>@replaced.invalid``, so its verification token and access tokens stop working
    and its address is free. The row stays (audit events, and any evidence it stored before
    evidence needed a verified address, still name it; nothing can use it). Returns its id."""
    account.email = f"{account.id}@{REPLACED_DOMAIN}"
    account.disabled = True
    account.email_verification_hash = None
    account.email_verification_expires = None
    session.add(account)
    session.flush()
    return account.id


def register_earner(
    session: Session,
    *,
    email: str,
    password: str,
    ttl: timedelta = EMAIL_VERIFICATION_TTL,
    display_name: str | None = None,
) -> tuple[Account, str] | None:
    """A self-registration: a new unverified earner account (shown by ``display_name``, if given)
    and its verification token, or None when the address already has an account that is not
    replaceable (the caller answers the same either way and mails the owner
    :func:`existing_account_message`; the existing account's name is left alone). A weak password
    is refused first (:class:`~service.accounts.passwords.WeakPassword`), whoever owns the address."""
    check_new_password(password, email=normalise_email(email))
    existing = find_by_email(session, email)
    if existing is None or is_replaceable(existing):
        try:
            account = create_account(
                session,
                email=email,
                password=password,
                role=Role.earner,
                email_verified=False,
                display_name=display_name,
            )
        except Conflict:  # created by a simultaneous request: answer as for an existing account
            return None
        return account, start_email_verification(session, account, ttl=ttl)
    hash_password(password)  # the same argon2 work as a new account, so timing does not tell
    return None


def existing_account_message(to: str, public_url: str) -> Message:
    """The notice mailed to an address that already has an account when someone registers it."""
    return Message(
        to=to,
        subject="Someone tried to register your SkillCred address",
        body=(
            "Someone (hopefully you) tried to register a SkillCred account with this address, which "
            "already has one. Nothing was changed.\n\n"
            f"If it was you, sign in at {public_url} with your password (an administrator can reset it "
            "with `skillcred admin reset-password`).\n"
            "If it was not you, ignore this message.\n"
        ),
    )


def authenticate(session: Session, email: str, password: str) -> Account | None:
    """The account for these credentials, or None (same work whether or not the email exists).
    A disabled account, or a never-verified one past its expiry (:func:`is_expired`), is None."""
    account = find_by_email(session, email)
    ok = verify_password(account.password_hash if account else None, password)
    if not ok or account is None or account.disabled or is_expired(account):
        return None
    return account


def set_display_name(session: Session, account: Account, display_name: str | None) -> Account:
    """Change the name ``account`` is shown by (None removes it: pages then show the badge only);
    records ``account.display_name`` with the names before and after. Unchanged: nothing written."""
    before = account.display_name
    if before == display_name:
        return account
    account.display_name = display_name
    session.add(account)
    session.flush()
    record(
        session,
        action="account.display_name",
        object_type="account",
        object_id=account.id,
        actor=account,
        issuer_id=account.issuer_id,
        before={"display_name": before},
        after={"display_name": display_name},
    )
    return account


def has_admin(session: Session) -> bool:
    return session.exec(select(Account.id).where(Account.role == Role.admin)).first() is not None


def set_password(session: Session, account: Account, password: str, *, actor: Account | None = None) -> None:
    """Replace the account's password (``skillcred admin reset-password``); records ``account.password_reset``
    (the audit event names no password or hash). A weak password is
    :class:`~service.accounts.passwords.WeakPassword` and changes nothing."""
    check_new_password(password, email=account.email)
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


def start_email_verification(session: Session, account: Account, *, ttl: timedelta = EMAIL_VERIFICATION_TTL) -> str:
    """A new one-time token proving ``account`` controls its email address (replaces any earlier
    one; valid ``ttl``, which also extends the unverified account's life). Only its hash is
    stored; the caller delivers the token."""
    if account.email_verified:
        raise Conflict("This email address is already verified", code="email_already_verified")
    token = secrets.token_urlsafe(32)
    account.email_verification_hash = _token_hash(token)
    account.email_verification_expires = datetime.now(UTC) + ttl
    session.add(account)
    session.flush()
    record(
        session, action="account.email_verification.start", object_type="account", object_id=account.id, actor=account
    )
    return token


def verify_email(session: Session, token: str, *, password: str | None = None) -> Account:
    """Mark the account whose outstanding token this is as verified. An unknown, used or expired
    token is :class:`BadRequest` ``invalid_verification_token`` (the same answer for each).

    Claiming: an account a platform provisioned has no password (:func:`is_unclaimed`); its owner
    sets one here, with the token (``password`` missing: :class:`PasswordRequired`; a weak one:
    :class:`~service.accounts.passwords.WeakPassword`; either leaves the token usable). An account
    that has a password takes none (:class:`PasswordNotExpected`): this is not a password reset."""
    account = session.exec(
        select(Account).where(Account.email_verification_hash == _token_hash(token)).with_for_update()
    ).first()
    expires = account.email_verification_expires if account is not None else None
    if expires is not None and expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    if account is None or expires is None or expires < datetime.now(UTC):
        raise BadRequest("This verification token is unknown, used or expired", code="invalid_verification_token")
    claiming = is_unclaimed(account)
    if claiming:
        if password is None:
            raise PasswordRequired()
        check_new_password(password, email=account.email)
        account.password_hash = hash_password(password)
    elif password is not None:
        raise PasswordNotExpected()
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
        after={"email": account.email, **({"claimed": True} if claiming else {})},
    )
    return account
