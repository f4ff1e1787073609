"""Who may call a route. Every route declares it, with exactly one of:

- ``Public`` (a dependency marker: anyone, no token needed), or
- ``Authenticated(Role.x, ..., scopes=...)`` (a bearer access token of an account with one of
  those roles; with no roles listed, any signed-in account). A platform client's token gets
  through only if it also holds one of the route's ``scopes``: a route declaring none is for
  people only. Client tokens are counted against a per-client rate limit.

``tests/test_access.py`` walks every route of the app and checks the declaration and its effect.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from service.accounts.models import Account, Role
from service.api.deps import SessionDep
from service.api.ratelimit import PLATFORM_PER_CLIENT
from service.api.throttle import count
from service.core.errors import Forbidden, NotFound, Unauthorized
from service.platforms import scopes
from service.platforms.principals import ON_BEHALF_OF, Principal, resolve_principal

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)


class Access:
    """A route's access rule for signed-in accounts; the dependency returns the account (the
    whole principal is on ``request.state.principal``)."""

    def __init__(self, roles: frozenset[Role], scopes: frozenset[str] = frozenset()) -> None:
        self.roles = roles  # empty: any signed-in account
        self.scopes = scopes  # empty: people only (no client token gets through)

    is_public = False

    def __call__(
        self, request: Request, session: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]
    ) -> Account:
        principal = current_principal(request, session, token)
        if principal.is_client:
            decision = count(request, PLATFORM_PER_CLIENT, principal.owner_key)
            if decision is not None:
                request.state.rate_limit_headers = decision.headers()
        if self.roles and principal.account.role not in self.roles:
            raise Forbidden("Your role may not do this")
        if not principal.allows(self.scopes):
            raise Forbidden(
                "This token's scopes do not cover this route"
                + (f"; it needs one of: {' '.join(sorted(self.scopes))}" if self.scopes else " (people only)"),
                code="insufficient_scope",
                headers={
                    "WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{" ".join(sorted(self.scopes))}"'
                },
            )
        request.state.principal = principal
        return principal.account

    def __repr__(self) -> str:
        return f"Authenticated({sorted(self.roles)}, scopes={sorted(self.scopes)})"


class PublicAccess:
    """The access rule of public routes: anyone, no token read (so none shows in OpenAPI)."""

    roles: frozenset[Role] = frozenset()
    is_public = True

    async def __call__(self) -> None:
        # async: FastAPI runs a sync dependency in a worker thread, a round trip for nothing
        return None

    def __repr__(self) -> str:
        return "Public"


def current_principal(request: Request, session: Session, token: str | None) -> Principal:
    """The principal a bearer token names; 401 when missing, invalid, expired, disabled or
    revoked (see :func:`service.platforms.principals.resolve_principal`)."""
    if not token:
        raise Unauthorized("Sign in: this route needs a bearer access token")
    claims = request.app.state.tokens.claims(token)
    if claims is None:
        raise Unauthorized("The access token is invalid or expired")
    return resolve_principal(session, claims, request.headers.get(ON_BEHALF_OF))


def current_account(request: Request, session: Session, token: str | None) -> Account:
    """The account a bearer token names (acts as); 401 as :func:`current_principal`."""
    return current_principal(request, session, token).account


def Authenticated(*roles: Role, scopes: frozenset[str] | set[str] | tuple[str, ...] = ()) -> Any:
    """Dependency: a signed-in account with one of ``roles`` (any role if none given); a client
    token must also hold one of ``scopes`` (none given: people only)."""
    return Depends(Access(frozenset(roles), frozenset(scopes)))


Public: Any = Depends(PublicAccess())
"""Dependency marker for routes anyone may call."""

# People only: a client token never gets through these (they declare no scope).
AnyAccount = Annotated[Account, Authenticated()]
AdminAccount = Annotated[Account, Authenticated(Role.admin)]
IssuerManager = Annotated[Account, Authenticated(Role.admin, Role.issuer_admin)]
IssuingAccount = Annotated[Account, Authenticated(Role.admin, Role.issuer_admin)]
EarnerAccount = Annotated[Account, Authenticated(Role.earner)]
IssuerStaff = Annotated[Account, Authenticated(Role.admin, Role.issuer_admin, Role.reviewer)]
ReissuingAccount = Annotated[Account, Authenticated(Role.earner, Role.issuer_admin, Role.admin)]
"""Admins, and an issuer's admins and reviewers (routes still scope them to their issuer)."""

# People, and platform clients holding one of the scopes named (service/platforms/scopes.py).
_MANAGERS = (Role.admin, Role.issuer_admin)
CredentialReader = Annotated[Account, Authenticated(scopes={scopes.CREDENTIAL_READONLY})]
CredentialIssuer = Annotated[Account, Authenticated(*_MANAGERS, scopes={scopes.CREDENTIALS_ISSUE})]
CredentialRevoker = Annotated[Account, Authenticated(*_MANAGERS, scopes={scopes.CREDENTIALS_REVOKE})]
JobReader = Annotated[Account, Authenticated(*_MANAGERS, scopes={scopes.CREDENTIALS_ISSUE, scopes.JOBS_READ})]
WebhookManager = Annotated[Account, Authenticated(*_MANAGERS, scopes={scopes.WEBHOOKS_MANAGE})]
EarnerProvisioner = Annotated[Account, Authenticated(*_MANAGERS, scopes={scopes.EARNERS_PROVISION})]
EvidenceWriter = Annotated[Account, Authenticated(Role.earner, scopes={scopes.EVIDENCE_WRITE})]
EvidenceReader = Annotated[Account, Authenticated(scopes={scopes.EVIDENCE_WRITE, scopes.ASSESSMENTS_READ})]
AssessmentReader = Annotated[Account, Authenticated(scopes={scopes.ASSESSMENTS_READ})]
AchievementReader = Annotated[
    Account,
    Authenticated(
        Role.admin, Role.issuer_admin, Role.reviewer, scopes={scopes.ACHIEVEMENTS_READ, scopes.CREDENTIALS_ISSUE}
    ),
]
RubricReader = Annotated[
    Account, Authenticated(scopes={scopes.ACHIEVEMENTS_READ, scopes.EVIDENCE_WRITE, scopes.ASSESSMENTS_READ})
]


def ensure_issuer_scope(account: Account, issuer_id: str, *, what: str = "issuer") -> None:
    """An issuer admin or reviewer acts only for their own issuer; admins for all.

    Answers 404, not 403, so nobody learns that another issuer's object exists.
    """
    if account.role != Role.admin and account.issuer_id != issuer_id:
        raise NotFound(f"No such {what}")
