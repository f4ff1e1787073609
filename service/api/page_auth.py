"""Who may open a portal page, and the browser session and CSRF checks that come with it.

The portal's pages authenticate with a session cookie (:mod:`service.portal.sessions`), never a
bearer token; the API never reads the cookie. A page route declares its door like an API route:

- ``PageAccess(Role.x, ...)`` (an :class:`~service.api.auth.Access`, so the access table and its
  test see the same roles): a signed-in browser whose account has one of the roles. A browser
  without a live session is sent to ``/login?next=<this page>`` (a GET) or refused (a POST);
  a role the page does not admit gets a 403 page.
- ``PagePublic`` (a :class:`~service.api.auth.PublicAccess`): anyone, e.g. the login and sign-up
  forms. Their forms are bound to a pre-session cookie instead.

Every POST is checked for its CSRF token before anything else happens (the form field
``csrf_token``, an HMAC of the session's or pre-session's cookie): a missing or wrong token is a
403 page and nothing is changed. The form itself is read once, by :func:`read_form`.

Cookies: ``HttpOnly``, ``SameSite=Lax``, ``Path=/``, and ``Secure`` outside development (there
the session cookie also takes the ``__Host-`` prefix, which browsers only accept from a secure
origin with no ``Domain``).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session
from starlette.datastructures import FormData

from service.accounts.models import Account, Role
from service.api.auth import Access, PublicAccess, ensure_issuer_scope
from service.api.deps import SessionDep
from service.core.config import Settings
from service.core.db import unit_of_work
from service.core.errors import ServiceError
from service.core.templates import render
from service.issuers import service as issuers
from service.issuers.models import Issuer
from service.portal import sessions
from service.portal.models import PortalSession

CSRF_FIELD = "csrf_token"
CSRF_PURPOSE = "portal-csrf"
MAX_FORM_FIELDS = 50
MAX_FORM_FILES = 1
MAX_FIELD_BYTES = 1_100_000
"""A narrative may hold up to a million characters (the evidence API's limit)."""


UPLOAD_PATH_PATTERN = r"/portal/apply/[^/]+/files"
MULTIPART_OVERHEAD = 64 * 1024


def page_upload_limits(settings: Settings) -> tuple[tuple[str, int], ...]:
    """``(path pattern, body limit)`` of the portal's evidence upload, for the body-size middleware:
    one file as large as the evidence API takes, plus the form around it."""
    return ((UPLOAD_PATH_PATTERN, settings.evidence_max_file_bytes + MULTIPART_OVERHEAD),)


def secure_cookies(settings: Settings) -> bool:
    """Cookies carry ``Secure`` everywhere but development (``SKILLCRED_ENV=development``)."""
    return settings.env != "development"


def session_cookie_name(settings: Settings) -> str:
    return "__Host-skillcred_session" if secure_cookies(settings) else "skillcred_session"


def pre_session_cookie_name(settings: Settings) -> str:
    return "__Host-skillcred_presession" if secure_cookies(settings) else "skillcred_presession"


def _csrf_key(request: Request) -> bytes:
    key: bytes = request.app.state.keystore.derive_secret(CSRF_PURPOSE)
    return key


class PageError(Exception):
    """An answer a page gives instead of itself: an HTML error page, or a redirect (``location``)."""

    def __init__(
        self, status_code: int, title: str, message: str, *, location: str | None = None, clear_session: bool = False
    ) -> None:
        super().__init__(message)
        self.status_code, self.title, self.message = status_code, title, message
        self.location = location
        self.clear_session = clear_session


def csrf_refused() -> PageError:
    return PageError(
        403,
        "This form has expired",
        "The form was not sent from a page of this site or has expired (its security token did not match), "
        "so nothing was changed. Go back, reload the page and try again.",
    )


def page_headers(response: Response) -> Response:
    """What every portal page carries: never cached, never framed."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    return response


ERROR_TITLES = {404: "Not found", 403: "Not allowed", 409: "Not now", 429: "Too many attempts", 503: "Busy"}


def install_page_handlers(app: FastAPI) -> None:
    """Render :class:`PageError` as an HTML page (or its redirect), and a ``ServiceError`` a page
    route let through as an HTML page too (API routes keep the one JSON error shape). Call after
    :func:`service.api.errors.install_error_handlers`."""
    api_handler = app.exception_handlers[ServiceError]

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> Response:
        if not getattr(request.state, "is_page", False):
            answer = api_handler(request, exc)
            return await answer if inspect.isawaitable(answer) else answer
        title = ERROR_TITLES.get(exc.status_code, "Something went wrong")
        html = render("portal/error.html", title=title, message=exc.detail, signed_in=None)
        response = HTMLResponse(html, status_code=exc.status_code, headers=dict(exc.headers))
        return page_headers(response)

    @app.exception_handler(PageError)
    async def _page_error(request: Request, exc: PageError) -> Response:
        if exc.location is not None:
            response: Response = RedirectResponse(exc.location, status_code=303)
        else:
            html = render("portal/error.html", title=exc.title, message=exc.message, signed_in=None)
            response = HTMLResponse(html, status_code=exc.status_code)
        if exc.clear_session:
            settings: Settings = request.app.state.settings
            clear_cookie(response, settings, session_cookie_name(settings))
        return page_headers(response)


def set_cookie(response: Response, settings: Settings, name: str, value: str, *, max_age: int | None) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/", httponly=True, samesite="lax", secure=secure_cookies(settings)
    )


def clear_cookie(response: Response, settings: Settings, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=secure_cookies(settings))


async def read_form(request: Request) -> FormData | None:
    """The POSTed form (urlencoded or multipart), bounded; None for other methods. Read here once,
    before the access rule checks its CSRF token."""
    if request.method != "POST":
        return None
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise csrf_refused()
    try:
        return await request.form(max_files=MAX_FORM_FILES, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_FIELD_BYTES)
    except Exception as error:  # a malformed body: the token cannot be read either
        raise csrf_refused() from error


FormDep = Annotated[FormData | None, Depends(read_form)]


def _sent_token(form: FormData | None) -> str | None:
    value = form.get(CSRF_FIELD) if form is not None else None
    return value if isinstance(value, str) else None


def _cross_site(request: Request) -> bool:
    """Fetch metadata says the request came from another site (a forged form or fetch)."""
    return request.headers.get("sec-fetch-site", "").lower() == "cross-site"


@dataclass(frozen=True)
class PageCaller:
    """A signed-in browser: its account, its session, the token its forms carry, and the POSTed form."""

    account: Account
    row: PortalSession
    csrf: str
    form: FormData | None

    def field(self, name: str) -> str:
        """A text field of the form ("" when absent or not text)."""
        value = self.form.get(name) if self.form is not None else None
        return value if isinstance(value, str) else ""


class PageAccess(Access):
    """A page's access rule: a signed-in browser (session cookie) whose account has one of
    ``roles``; the dependency returns a :class:`PageCaller`. POSTs must carry the session's CSRF token."""

    def __init__(self, roles: frozenset[Role]) -> None:
        super().__init__(roles, frozenset())  # people only: no platform client has a browser session

    def __call__(self, request: Request, session: SessionDep, form: FormDep) -> PageCaller:  # type: ignore[override]
        request.state.is_page = True
        settings: Settings = request.app.state.settings
        token = request.cookies.get(session_cookie_name(settings))
        live = sessions.resolve_session(session, token, now=request.app.state.clock.now())
        if request.method == "POST":
            expected = sessions.csrf_token(_csrf_key(request), token) if live is not None and token else None
            if expected is None or _cross_site(request) or not sessions.csrf_matches(expected, _sent_token(form)):
                raise csrf_refused()
        if live is None or token is None:
            if token:  # an ended session: deleted for good, whatever this request's outcome
                with unit_of_work(request.app.state.engine) as own:
                    sessions.discard_ended(own, token, now=request.app.state.clock.now())
            if request.method == "POST":
                raise csrf_refused()
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise PageError(
                303,
                "Sign in",
                "Sign in to see this page.",
                location=f"/login?next={quote(target, safe='/')}",
                clear_session=token is not None,
            )
        if self.roles and live.account.role not in self.roles:
            raise PageError(403, "Not for your account", "Your account's role may not open this page.")
        caller = PageCaller(live.account, live.row, sessions.csrf_token(_csrf_key(request), token), form)
        request.state.page_caller = caller
        return caller

    def __repr__(self) -> str:
        return f"Page({sorted(self.roles)})"


@dataclass(frozen=True)
class PreSessionCaller:
    """A visitor of a form that needs no sign-in: the pre-session value its forms are bound to
    (``new``: it must be set on the answer), the token, the POSTed form, and the signed-in
    account if there is one."""

    pre_session: str
    new: bool
    csrf: str
    form: FormData | None
    signed_in: Account | None

    def field(self, name: str) -> str:
        value = self.form.get(name) if self.form is not None else None
        return value if isinstance(value, str) else ""


class PagePublicAccess(PublicAccess):
    """The access rule of pre-login forms: anyone; a POST must carry the pre-session's CSRF token."""

    async def __call__(self) -> None:  # the checks are :func:`pre_session`'s
        return None

    def __repr__(self) -> str:
        return "PagePublic"


def pre_session(request: Request, session: SessionDep, form: FormDep) -> PreSessionCaller:
    """The pre-session of a public form: a POST without the matching token is refused (403 page)."""
    request.state.is_page = True
    settings: Settings = request.app.state.settings
    key = _csrf_key(request)
    value = request.cookies.get(pre_session_cookie_name(settings))
    if request.method == "POST":
        if not value or _cross_site(request):
            raise csrf_refused()
        if not sessions.csrf_matches(sessions.pre_session_csrf_token(key, value), _sent_token(form)):
            raise csrf_refused()
    new = not value or len(value) > 128
    if new:
        value = sessions.new_pre_session()
    assert value is not None
    token = request.cookies.get(session_cookie_name(settings))
    live = sessions.resolve_session(session, token, now=request.app.state.clock.now()) if token else None
    return PreSessionCaller(
        value, new, sessions.pre_session_csrf_token(key, value), form, live.account if live else None
    )


PagePublic: Any = Depends(PagePublicAccess())
"""Dependency marker for pages anyone may open."""
PreSessionDep = Annotated[PreSessionCaller, Depends(pre_session)]
AnyPage = Annotated[PageCaller, Depends(PageAccess(frozenset()))]
EarnerPage = Annotated[PageCaller, Depends(PageAccess(frozenset({Role.earner})))]
StaffPage = Annotated[PageCaller, Depends(PageAccess(frozenset({Role.admin, Role.issuer_admin, Role.reviewer})))]
"""Issuer staff: reviewers, issuer admins and admins."""
IssuerAdminPage = Annotated[PageCaller, Depends(PageAccess(frozenset({Role.admin, Role.issuer_admin})))]
"""Those who manage an issuer: its admins and admins."""

IdPath = Annotated[str, Path(min_length=1, max_length=36)]
NoticeQuery = Annotated[str | None, Query(max_length=32)]
"""Which fixed message a page shows after a form (a key of the page's notices: nothing is echoed)."""
PageNumberQuery = Annotated[int, Query(ge=1, le=100_000)]


def signed_in_page(
    request: Request, template: str, caller: PageCaller, *, status: int = 200, **context: Any
) -> HTMLResponse:
    """A signed-in page: ``template`` with the account and the CSRF token its forms carry."""
    html = render(template, account=caller.account, csrf_token=caller.csrf, **context)
    return html_page(request, html, status_code=status)


def issuer_in_scope(session: Session, caller: PageCaller, issuer_id: str) -> Issuer:
    """The issuer an issuer page is about: 404 for an unknown one and, in the same words, for
    another issuer's (the API's :func:`~service.api.auth.ensure_issuer_scope`)."""
    ensure_issuer_scope(caller.account, issuer_id)
    return issuers.get_issuer(session, issuer_id)


def html_page(
    request: Request, html: str, *, status_code: int = 200, caller: PreSessionCaller | None = None
) -> HTMLResponse:
    """A portal page: no caching, no framing, and the pre-session cookie when it is new."""
    response = HTMLResponse(html, status_code=status_code)
    if caller is not None and caller.new:
        settings: Settings = request.app.state.settings
        max_age = int(sessions.PRE_SESSION_LIFETIME.total_seconds())
        set_cookie(response, settings, pre_session_cookie_name(settings), caller.pre_session, max_age=max_age)
    page_headers(response)
    return response


def redirect(location: str) -> RedirectResponse:
    """See-other to a page of this site (after a POST: the browser GETs it)."""
    response = RedirectResponse(location, status_code=303)
    page_headers(response)
    return response


def sign_in_response(request: Request, location: str, token: str) -> RedirectResponse:
    """The redirect after signing in: the session cookie set, the pre-session cookie cleared."""
    settings: Settings = request.app.state.settings
    response = redirect(location)
    max_age = int(sessions.ABSOLUTE_LIFETIME.total_seconds())
    set_cookie(response, settings, session_cookie_name(settings), token, max_age=max_age)
    clear_cookie(response, settings, pre_session_cookie_name(settings))
    return response


def sign_out_response(request: Request, location: str) -> RedirectResponse:
    """The redirect after signing out: the session cookie cleared."""
    settings: Settings = request.app.state.settings
    response = redirect(location)
    clear_cookie(response, settings, session_cookie_name(settings))
    return response


def session_token(request: Request) -> str | None:
    """The session cookie's value (for signing out)."""
    settings: Settings = request.app.state.settings
    return request.cookies.get(session_cookie_name(settings))
