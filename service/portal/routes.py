"""Signing in and out of the portal, signing up, and the email-verification landing page.

The same checks as the API: a sign-in is :func:`service.accounts.service.authenticate` under the
password grant's limits (``LOGIN_PER_ADDRESS`` per client address, ``LOGIN_BACKOFF`` per email),
a sign-up is :func:`service.accounts.service.register_earner` under ``REGISTRATION_PER_ADDRESS``,
and the landing page redeems the mailed token with :func:`service.accounts.service.verify_email`
under ``TOKEN_ATTEMPTS_PER_ADDRESS``. Every form is CSRF-checked (:mod:`service.api.page_auth`);
the pages are left out of the OpenAPI document (they are HTML, not the API).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError

from service.accounts import service as accounts
from service.accounts.passwords import WeakPassword
from service.accounts.schemas import EarnerRegistration
from service.api.deps import MailerDep, SessionDep, SettingsDep
from service.api.page_auth import (
    AnyPage,
    PagePublic,
    PreSessionCaller,
    PreSessionDep,
    html_page,
    redirect,
    session_token,
    sign_in_response,
    sign_out_response,
)
from service.api.ratelimit import LOGIN_BACKOFF, LOGIN_PER_ADDRESS, REGISTRATION_PER_ADDRESS, TOKEN_ATTEMPTS_PER_ADDRESS
from service.api.throttle import client_address, count, record_failure, record_success, refuse_while_locked
from service.core.errors import BadRequest, ServiceError, TooManyRequests
from service.core.mail import deliver, verification_message
from service.core.templates import render
from service.portal import sessions
from service.portal.redirects import HOME, safe_next

router = APIRouter(tags=["portal"], include_in_schema=False)

NextQuery = Annotated[str | None, Query(max_length=2048)]
TokenQuery = Annotated[str | None, Query(max_length=128)]


def _limited(error: TooManyRequests) -> str:
    return f"Too many attempts from here; try again in {error.headers.get('Retry-After', 'a few')} seconds."


# --- sign in and out ---------------------------------------------------------------------------


def _login_page(
    request: Request, caller: PreSessionCaller, *, next_path: str, email: str = "", error: str = "", status: int = 200
) -> Response:
    html = render("portal/login.html", csrf_token=caller.csrf, next=next_path, email=email, error=error)
    response = html_page(request, html, status_code=status, caller=caller)
    return response


@router.get("/login", dependencies=[PagePublic])
def login_form(request: Request, caller: PreSessionDep, next: NextQuery = None) -> Response:
    """The sign-in form (a signed-in browser goes straight on to ``next``)."""
    target = safe_next(next)
    if caller.signed_in is not None:
        return redirect(target)
    return _login_page(request, caller, next_path=target)


@router.post("/login", dependencies=[PagePublic])
def login(request: Request, session: SessionDep, caller: PreSessionDep) -> Response:
    """Sign in with email and password: the password grant's checks, limits and backoff; on
    success a new session (a new cookie: nothing set before signing in survives it)."""
    email, password = caller.field("email").strip(), caller.field("password")
    target = safe_next(caller.field("next"))
    if not email or not password or len(email) > 320 or len(password) > 256:
        return _login_page(
            request, caller, next_path=target, email=email[:320], error="Enter your email and password.", status=400
        )
    login_key = f"login:{accounts.normalise_email(email)}"
    try:
        decision = count(request, LOGIN_PER_ADDRESS, client_address(request))
        if decision is not None:
            request.state.rate_limit_headers = decision.headers()
        refuse_while_locked(request, login_key)
    except TooManyRequests as error:
        response = _login_page(request, caller, next_path=target, email=email, error=_limited(error), status=429)
        response.headers.update(error.headers)
        return response
    account = accounts.authenticate(session, email, password)
    if account is None or account.is_service:
        record_failure(request, login_key, LOGIN_BACKOFF)
        return _login_page(request, caller, next_path=target, email=email, error="Wrong email or password.", status=401)
    record_success(request, login_key)
    token, _ = sessions.start_session(session, account, now=request.app.state.clock.now())
    return sign_in_response(request, target, token)


@router.post("/logout")
def logout(request: Request, session: SessionDep, caller: AnyPage) -> Response:
    """Sign out: the session's row is deleted (the cookie is worth nothing from now on)."""
    sessions.end_session(session, session_token(request))
    return sign_out_response(request, "/login")


# --- sign up -----------------------------------------------------------------------------------


def _signup_page(
    request: Request,
    caller: PreSessionCaller,
    *,
    fields: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    error: str = "",
    status: int = 200,
) -> Response:
    fields = fields or {}
    html = render(
        "portal/signup.html",
        csrf_token=caller.csrf,
        display_name=fields.get("display_name", ""),
        email=fields.get("email", ""),
        errors=errors or {},
        error=error,
    )
    return html_page(request, html, status_code=status, caller=caller)


def _field_errors(error: ValidationError) -> dict[str, str]:
    words = {
        "email": "Enter a valid email address.",
        "password": "The password must be 12 to 256 characters.",
        "display_name": "A name of 1 to 100 characters, without control characters.",
    }
    found = {}
    for problem in error.errors():
        name = str(problem["loc"][0]) if problem["loc"] else ""
        found[name] = words.get(name, "Check this field.")
    return found


@router.get("/signup", dependencies=[PagePublic])
def signup_form(request: Request, caller: PreSessionDep) -> Response:
    """The sign-up form of a freelancer (an earner account) with the name their badges show."""
    if caller.signed_in is not None:
        return redirect(HOME)
    return _signup_page(request, caller)


@router.post("/signup", dependencies=[PagePublic])
def signup(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    mailer: MailerDep,
    background: BackgroundTasks,
    caller: PreSessionDep,
) -> Response:
    """Create an earner account as ``POST /v1/auth/register`` does (the same schema, service,
    limit and mail); the answer is the same whether or not the address had an account."""
    fields = {name: caller.field(name) for name in ("display_name", "email")}
    try:
        decision = count(request, REGISTRATION_PER_ADDRESS, client_address(request))
        if decision is not None:
            request.state.rate_limit_headers = decision.headers()
    except TooManyRequests as error:
        response = _signup_page(request, caller, fields=fields, error=_limited(error), status=429)
        response.headers.update(error.headers)
        return response
    try:
        body = EarnerRegistration(
            email=fields["email"].strip(),
            password=caller.field("password"),
            display_name=fields["display_name"] or None,
        )
    except ValidationError as error:
        return _signup_page(request, caller, fields=fields, errors=_field_errors(error), status=422)
    ttl = timedelta(hours=settings.unverified_account_hours)
    try:
        created = accounts.register_earner(
            session, email=body.email, password=body.password, ttl=ttl, display_name=body.display_name
        )
    except WeakPassword as error:
        session.rollback()
        return _signup_page(request, caller, fields=fields, errors={"password": error.detail}, status=422)
    email = accounts.normalise_email(body.email)
    if created is None:
        background.add_task(deliver, mailer, accounts.existing_account_message(email, settings.public_url))
    else:
        account, token = created
        message = verification_message(
            account.email, token, settings.public_url, valid_hours=settings.unverified_account_hours
        )
        background.add_task(deliver, mailer, message)
    return html_page(request, render("portal/signup_done.html", email=email), caller=caller)


# --- the email-verification landing page --------------------------------------------------------


def _verify_page(
    request: Request,
    caller: PreSessionCaller,
    *,
    token: str = "",
    verified: str = "",
    error: str = "",
    needs_password: bool = False,
    status: int = 200,
) -> Response:
    html = render(
        "portal/verify_email.html",
        csrf_token=caller.csrf,
        token=token,
        verified=verified,
        error=error,
        needs_password=needs_password,
    )
    return html_page(request, html, status_code=status, caller=caller)


@router.get("/verify-email", dependencies=[PagePublic])
def verify_email_landing(request: Request, caller: PreSessionDep, token: TokenQuery = None) -> Response:
    """Where the mailed link lands: one button that redeems the token (a GET changes nothing,
    so a mail scanner that follows links does not use it up)."""
    return _verify_page(request, caller, token=token or "")


@router.post("/verify-email", dependencies=[PagePublic])
def verify_email(request: Request, session: SessionDep, caller: PreSessionDep) -> Response:
    """Redeem the token as ``POST /v1/auth/verify-email`` does (claiming a provisioned account
    takes a new password here too)."""
    token, password = caller.field("token"), caller.field("password") or None
    try:
        decision = count(request, TOKEN_ATTEMPTS_PER_ADDRESS, client_address(request))
        if decision is not None:
            request.state.rate_limit_headers = decision.headers()
    except TooManyRequests as error:
        return _verify_page(request, caller, token=token, error=_limited(error), status=429)
    if not 16 <= len(token) <= 128:
        return _verify_page(
            request, caller, error="This link is incomplete: open it again from the message.", status=400
        )
    try:
        account = accounts.verify_email(session, token, password=password)
    except accounts.PasswordRequired:
        return _verify_page(request, caller, token=token, needs_password=True)
    except (BadRequest, ServiceError) as error:
        session.rollback()
        claiming = error.code in ("weak_password", "password_required")
        return _verify_page(
            request, caller, token=token if claiming else "", error=error.detail, needs_password=claiming, status=400
        )
    return _verify_page(request, caller, verified=account.email)
