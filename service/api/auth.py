"""Who may call a route. Every route declares it, with exactly one of:

- ``Public`` (a dependency marker: anyone, no token needed), or
- ``Authenticated(Role.x, ...)`` (a bearer access token of an account with one of those roles;
  with no roles listed, any signed-in account).

``tests/test_access.py`` walks every route of the app and checks the declaration and its effect.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from service.accounts.models import Account, Role
from service.api.deps import SessionDep
from service.core.errors import Forbidden, NotFound, Unauthorized

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)


class Access:
    """A route's access rule for signed-in accounts; the dependency returns the account."""

    def __init__(self, roles: frozenset[Role]) -> None:
        self.roles = roles  # empty: any signed-in account

    is_public = False

    def __call__(
        self, request: Request, session: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]
    ) -> Account:
        account = current_account(request, session, token)
        if self.roles and account.role not in self.roles:
            raise Forbidden("Your role may not do this")
        return account

    def __repr__(self) -> str:
        return f"Authenticated({sorted(self.roles)})"


class PublicAccess:
    """The access rule of public routes: anyone, no token read (so none shows in OpenAPI)."""

    roles: frozenset[Role] = frozenset()
    is_public = True

    async def __call__(self) -> None:
        # async: FastAPI runs a sync dependency in a worker thread, a round trip for nothing
        return None

    def __repr__(self) -> str:
        return "Public"


def current_account(request: Request, session: Session, token: str | None) -> Account:
    """The account a bearer token names; 401 when missing, invalid, expired or disabled."""
    if not token:
        raise Unauthorized("Sign in: this route needs a bearer access token")
    account_id = request.app.state.tokens.subject(token)
    account = session.get(Account, account_id) if account_id else None
    if account is None or account.disabled:
        raise Unauthorized("The access token is invalid or expired")
    return account


def Authenticated(*roles: Role) -> Any:
    """Dependency: a signed-in account with one of ``roles`` (any role if none given)."""
    return Depends(Access(frozenset(roles)))


Public: Any = Depends(PublicAccess())
"""Dependency marker for routes anyone may call."""

AnyAccount = Annotated[Account, Authenticated()]
AdminAccount = Annotated[Account, Authenticated(Role.admin)]
IssuerManager = Annotated[Account, Authenticated(Role.admin, Role.issuer_admin)]
IssuingAccount = Annotated[Account, Authenticated(Role.admin, Role.issuer_admin)]
EarnerAccount = Annotated[Account, Authenticated(Role.earner)]
IssuerStaff = Annotated[Account, Authenticated(Role.admin, Role.issuer_admin, Role.reviewer)]
ReissuingAccount = Annotated[Account, Authenticated(Role.earner, Role.issuer_admin, Role.admin)]
"""Admins, and an issuer's admins and reviewers (routes still scope them to their issuer)."""


def ensure_issuer_scope(account: Account, issuer_id: str, *, what: str = "issuer") -> None:
    """An issuer admin or reviewer acts only for their own issuer; admins for all.

    Answers 404, not 403, so nobody learns that another issuer's object exists.
    """
    if account.role != Role.admin and account.issuer_id != issuer_id:
        raise NotFound(f"No such {what}")
