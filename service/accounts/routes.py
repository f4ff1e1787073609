"""Sign-in, registration and account administration."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Request, status

from service.accounts import service
from service.accounts.models import Account, Role
from service.accounts.schemas import (
    AccountCreate,
    AccountOut,
    EarnerRegistration,
    EmailVerificationIn,
    EmailVerificationOut,
    RegistrationOut,
    TokenResponse,
)
from service.api.auth import AnyAccount, IssuerManager, Public, ensure_issuer_scope
from service.api.deps import SessionDep
from service.api.errors import error_responses
from service.core.errors import Forbidden, Unauthorized
from service.core.mail import deliver, verification_message

router = APIRouter(prefix="/v1", tags=["accounts"])


@router.post("/auth/token", response_model=TokenResponse, dependencies=[Public], responses=error_responses(401, 422))
def issue_token(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=256)],
) -> TokenResponse:
    """OAuth 2.0 password flow: exchange an email and password for a short-lived access token."""
    account = service.authenticate(session, username, password)
    if account is None:
        raise Unauthorized("Wrong email or password", code="invalid_credentials")
    tokens = request.app.state.tokens
    return TokenResponse(
        access_token=tokens.issue(account.id, str(account.role)), expires_in=int(tokens.ttl.total_seconds())
    )


@router.post(
    "/auth/register",
    response_model=RegistrationOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Public],
    responses=error_responses(409, 422),
)
def register_earner(
    request: Request, body: EarnerRegistration, session: SessionDep, background: BackgroundTasks
) -> RegistrationOut:
    """A freelancer creates their own earner account. Its email address is unverified until the
    verification token mailed to it is redeemed; until then the account sees no credential issued
    to it and cannot submit evidence."""
    account = service.create_account(
        session, email=body.email, password=body.password, role=Role.earner, email_verified=False
    )
    token = _send_verification(request, background, session, account)
    shown = None if request.app.state.settings.is_production else token
    return RegistrationOut(**AccountOut.model_validate(account).model_dump(), verification_token=shown)


@router.post(
    "/auth/verify-email", response_model=AccountOut, dependencies=[Public], responses=error_responses(400, 422)
)
def verify_email(body: EmailVerificationIn, session: SessionDep) -> Account:
    """Redeem an email verification token: the account proves it controls its address."""
    return service.verify_email(session, body.token)


@router.post("/auth/verify-email/resend", response_model=EmailVerificationOut, responses=error_responses(401, 409))
def resend_verification(
    request: Request, session: SessionDep, account: AnyAccount, background: BackgroundTasks
) -> EmailVerificationOut:
    """Mail a new verification token to the signed-in account (the earlier one stops working)."""
    token = _send_verification(request, background, session, account)
    return EmailVerificationOut(verification_token=None if request.app.state.settings.is_production else token)


def _send_verification(request: Request, background: BackgroundTasks, session: SessionDep, account: Account) -> str:
    """A new token for ``account``, mailed after the response (the request never waits for mail)."""
    token = service.start_email_verification(session, account)
    settings = request.app.state.settings
    background.add_task(
        deliver, request.app.state.mailer, verification_message(account.email, token, settings.public_url)
    )
    return token


@router.get("/me", response_model=AccountOut, responses=error_responses(401))
def me(account: AnyAccount) -> Account:
    """The signed-in account."""
    return account


@router.post(
    "/accounts",
    response_model=AccountOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
def create_account(body: AccountCreate, session: SessionDep, account: IssuerManager) -> Account:
    """Create an account. Admins create any role; issuer admins create reviewers and issuer
    admins for their own issuer only."""
    if account.role == Role.issuer_admin:
        if body.role not in (Role.reviewer, Role.issuer_admin):
            raise Forbidden("Issuer admins may only create reviewers and issuer admins")
        ensure_issuer_scope(account, body.issuer_id or "")
    return service.create_account(
        session, email=body.email, password=body.password, role=body.role, issuer_id=body.issuer_id, actor=account
    )
