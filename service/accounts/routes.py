"""Sign-in, registration and account administration."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, BackgroundTasks, status
from sqlmodel import Session

from service.accounts import service, views
from service.accounts.models import Account, Role
from service.accounts.schemas import (
    AccountCreate,
    AccountOut,
    AccountUpdate,
    EarnerRegistration,
    EmailVerificationIn,
    EmailVerificationOut,
    RegistrationOut,
)
from service.api.auth import AnyAccount, IssuerManager, Public, ensure_issuer_scope
from service.api.deps import MailerDep, SessionDep, SettingsDep
from service.api.errors import error_responses
from service.api.ratelimit import REGISTRATION_PER_ADDRESS, TOKEN_ATTEMPTS_PER_ADDRESS
from service.api.throttle import Throttle
from service.core.config import Settings
from service.core.errors import Forbidden
from service.core.mail import Mailer, deliver, verification_message
from service.issuers import service as issuers

router = APIRouter(prefix="/v1", tags=["accounts"])


@router.post(
    "/auth/register",
    response_model=RegistrationOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Public, Throttle(REGISTRATION_PER_ADDRESS)],
    responses=error_responses(422, 429),
)
def register_earner(
    body: EarnerRegistration,
    session: SessionDep,
    settings: SettingsDep,
    mailer: MailerDep,
    background: BackgroundTasks,
) -> RegistrationOut:
    """A freelancer creates their own earner account. Its email address is unverified until the
    verification token mailed to it is redeemed; until then the account sees no credential issued
    to it and cannot submit evidence.

    The answer does not say whether the address already had an account: when it has one, nothing
    is created and its owner is mailed a notice instead. A never-verified account for the address
    is replaced (its token stops working). A weak password is 422 `weak_password`. An optional
    `display_name` is the name the earner's badge pages show (when they allow it)."""
    ttl = timedelta(hours=settings.unverified_account_hours)
    created = service.register_earner(
        session, email=body.email, password=body.password, ttl=ttl, display_name=body.display_name
    )
    email = service.normalise_email(body.email)
    if created is None:
        background.add_task(deliver, mailer, service.existing_account_message(email, settings.public_url))
        return views.registration_view(email, None)
    account, token = created
    background.add_task(
        deliver,
        mailer,
        verification_message(account.email, token, settings.public_url, valid_hours=settings.unverified_account_hours),
    )
    return views.registration_view(email, _shown(settings, token))


@router.post(
    "/auth/verify-email",
    response_model=AccountOut,
    dependencies=[Public, Throttle(TOKEN_ATTEMPTS_PER_ADDRESS)],
    responses=error_responses(400, 422, 429),
)
def verify_email(body: EmailVerificationIn, session: SessionDep) -> AccountOut:
    """Redeem an email verification token: the account proves it controls its address. A token
    that was never issued, is used or has expired is 400 `invalid_verification_token`.

    Claiming an account a platform provisioned (`POST /v1/platform/earners`): it has no password,
    so its owner sends the token mailed to them together with a new `password` (422
    `password_required` without one, `weak_password` for a weak one; the token stays usable).
    Once claimed, the earner signs in with `POST /v1/auth/token`. For an account that already has
    a password, `password` is refused (422 `password_not_expected`)."""
    return views.account_view(service.verify_email(session, body.token, password=body.password))


@router.post(
    "/auth/verify-email/resend",
    response_model=EmailVerificationOut,
    dependencies=[Throttle(TOKEN_ATTEMPTS_PER_ADDRESS)],
    responses=error_responses(401, 409, 429),
)
def resend_verification(
    session: SessionDep, settings: SettingsDep, mailer: MailerDep, account: AnyAccount, background: BackgroundTasks
) -> EmailVerificationOut:
    """Mail a new verification token to the signed-in account (the earlier one stops working)."""
    token = _send_verification(session, settings, mailer, background, account)
    return views.verification_view(_shown(settings, token))


def _send_verification(
    session: Session, settings: Settings, mailer: Mailer | None, background: BackgroundTasks, account: Account
) -> str:
    """A new token for ``account``, mailed after the response (the request never waits for mail)."""
    token = service.start_email_verification(session, account, ttl=timedelta(hours=settings.unverified_account_hours))
    background.add_task(
        deliver,
        mailer,
        verification_message(account.email, token, settings.public_url, valid_hours=settings.unverified_account_hours),
    )
    return token


def _shown(settings: Settings, token: str) -> str | None:
    """The verification token to return in the response: never in production (only mailed).

    Outside production the token shows that an account was created (none is for an address that
    already has one), which lets development and tests finish a registration without a mailbox;
    production answers every registration alike."""
    return None if settings.is_production else token


@router.get("/me", response_model=AccountOut, responses=error_responses(401))
def me(account: AnyAccount) -> AccountOut:
    """The signed-in account."""
    return views.account_view(account)


@router.patch("/me", response_model=AccountOut, responses=error_responses(401, 422))
def update_me(body: AccountUpdate, session: SessionDep, account: AnyAccount) -> AccountOut:
    """Change the signed-in account's `display_name`, the name its badge pages show when the
    earner allows it (`null` removes it: the pages then show the badge only). Audited."""
    return views.account_view(service.set_display_name(session, account, body.display_name))


@router.post(
    "/accounts",
    response_model=AccountOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
def create_account(body: AccountCreate, session: SessionDep, account: IssuerManager) -> AccountOut:
    """Create an account. Admins create any role; issuer admins create reviewers and issuer
    admins for their own issuer only. An issuer admin or reviewer names its issuer in `issuer_id`
    (400 `issuer_required` when it is missing or names no issuer); other roles name none (400).
    A never-verified self-registered account for the address is replaced; any other is 409
    `email_taken`. A weak password (see `password`) is 422 `weak_password`."""
    if account.role == Role.issuer_admin:
        if body.role not in (Role.reviewer, Role.issuer_admin):
            raise Forbidden("Issuer admins may only create reviewers and issuer admins")
        ensure_issuer_scope(account, body.issuer_id or "")
    if body.role in service.ISSUER_ROLES and body.issuer_id and not issuers.issuer_exists(session, body.issuer_id):
        raise service.IssuerRequired(body.role)
    created = service.create_account(
        session, email=body.email, password=body.password, role=body.role, issuer_id=body.issuer_id, actor=account
    )
    return views.account_view(created)
