"""Earners a platform provisions: create, find, list, and who acts for them. No FastAPI, no commit.

A platform (a client of an issuer) creates an earner account for one of its users under its own id
for them (``external_id``) and an email address. The account has no password and an unproven
address: its owner claims it by redeeming the token mailed to the address together with a new
password (``POST /v1/auth/verify-email``), then signs in like any earner. Until then, and after,
the issuer's clients act for it with ``On-Behalf-Of`` (:mod:`service.platforms.principals`).

An address that already belongs to an account is never linked silently: that would let a platform
act for a stranger. The earner connects such an account through the authorization code grant.

Acting for an earner (:func:`acting_issuer`): a request a platform makes for its provisioned earner
is confined to the platform's issuer. It writes evidence and assessments only for that issuer's
achievements, and reads only that issuer's bundles, assessments and credentials of the earner.
Within that issuer the platform vouches for the earner's address (it provisioned it, and its
issuer sees those rows anyway), so an unclaimed earner may submit evidence there; credentials
other issuers issued to the address stay invisible until its owner proves it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from service.accounts.models import Account, Role
from service.accounts.service import (
    EMAIL_VERIFICATION_TTL,
    create_unclaimed_earner,
    find_by_email,
    is_replaceable,
    is_unclaimed,
    normalise_email,
    start_email_verification,
)
from service.audit.service import record
from service.core.errors import BadRequest, Conflict, NotFound
from service.core.mail import Message
from service.core.paging import PageParams, paginate
from service.issuers.service import get_issuer
from service.platforms.models import OAuthClient, PlatformEarner
from service.platforms.principals import Principal
from service.platforms.service import get_issuer_client


class EarnerHasAccount(Conflict):
    """The address belongs to an account this issuer did not provision."""

    code = "earner_has_account"

    def __init__(self) -> None:
        super().__init__(
            "This email address already has a SkillCred account, which your platform did not provision: "
            "it is not linked. Ask the earner to connect it to your platform through the OAuth 2.0 "
            "authorization code grant (they sign in and consent), then act for them with that token"
        )


class ExternalIdTaken(Conflict):
    """The platform's id for its user names an earner with another address."""

    code = "external_id_taken"

    def __init__(self) -> None:
        super().__init__("This external_id already names one of your earners, with another email address")


class EmailProvisioned(Conflict):
    """The address is already one of this issuer's earners, under another external id."""

    code = "email_provisioned"

    def __init__(self, earner_id: str) -> None:
        super().__init__(f"This email address is already your earner {earner_id}, under another external_id")


NO_SUCH_EARNER = "No such earner among your platform's earners"


@dataclass(frozen=True)
class ProvisionedEarner:
    """A platform's earner: the link, its account, and whether this call created it. ``claim_token``
    is a new token to mail to the earner (None when none was started)."""

    link: PlatformEarner
    account: Account
    created: bool
    claim_token: str | None = None


# --- whose earners ------------------------------------------------------------------------------


def caller_issuer(session: Session, caller: Account, issuer_id: str | None) -> str:
    """The issuer whose earners ``caller`` manages: an issuer admin's (or a client's service
    account's) own; an admin names one (400 ``issuer_required`` without, 404 for none). Another
    issuer named by an issuer admin is 404, so nobody learns it exists."""
    if caller.role == Role.admin:
        if not issuer_id:
            raise BadRequest("Admins name the issuer whose earners these are: issuer_id", code="issuer_required")
        return get_issuer(session, issuer_id).id
    if caller.issuer_id is None or (issuer_id is not None and issuer_id != caller.issuer_id):
        raise NotFound("No such issuer")
    return caller.issuer_id


def provisioning_client(
    session: Session, issuer_id: str, *, principal: Principal, client_id: str | None
) -> OAuthClient:
    """The client the earner is provisioned for: the calling client itself, or for a person the
    issuer's client named by ``client_id`` (400 ``client_required`` without one, 404
    ``client_not_found`` for none of the issuer's active clients)."""
    own = principal.client
    if own is not None:
        if client_id is not None and client_id != own.client_id:
            raise BadRequest("client_id: a client provisions earners for itself; leave it out", code="bad_request")
        return own
    if client_id is None:
        raise BadRequest(
            "client_id: name the issuer's platform client this earner is provisioned for", code="client_required"
        )
    client = get_issuer_client(session, issuer_id, client_id)
    if client.revoked_at is not None:
        raise NotFound("No such client", code="client_not_found")
    return client


# --- provisioning -------------------------------------------------------------------------------


def provision_earner(
    session: Session,
    *,
    issuer_id: str,
    client: OAuthClient,
    external_id: str,
    email: str,
    actor: Account,
    claim_ttl: timedelta = EMAIL_VERIFICATION_TTL,
) -> ProvisionedEarner:
    """Create an earner for the platform's user ``external_id`` with ``email``, linked to
    ``issuer_id``, and start its claim (a verification token, valid ``claim_ttl``).

    Idempotent: the same ``external_id`` with the same address answers the existing earner (and,
    when it is unclaimed and its claim token expired, starts a new one). The same ``external_id``
    with another address is :class:`ExternalIdTaken`; an address already this issuer's earner
    under another id is :class:`EmailProvisioned`; an address of any other account is
    :class:`EarnerHasAccount` (a never-verified self-registration excepted: it is replaced, as an
    admin-created account replaces it)."""
    address = normalise_email(email)
    existing_link = _link_by_external_id(session, issuer_id, external_id)
    if existing_link is not None:
        account = session.get(Account, existing_link.account_id)
        if account is None or account.email != address:
            raise ExternalIdTaken()
        token = start_email_verification(session, account, ttl=claim_ttl) if _claim_lapsed(account) else None
        return ProvisionedEarner(existing_link, account, created=False, claim_token=token)
    holder = find_by_email(session, address)
    if holder is not None and not is_replaceable(holder):
        linked = _link_by_account(session, issuer_id, holder.id)
        if linked is not None:
            raise EmailProvisioned(holder.id)
        raise EarnerHasAccount()
    try:
        account = create_unclaimed_earner(session, email=address, actor=actor, issuer_id=issuer_id)
    except Conflict:  # a simultaneous request took the address (the transaction was rolled back)
        raise EarnerHasAccount() from None
    link = PlatformEarner(issuer_id=issuer_id, account_id=account.id, external_id=external_id, client_pk=client.id)
    session.add(link)
    try:
        session.flush()
    except IntegrityError:  # a simultaneous request provisioned this external id first
        session.rollback()
        raise Conflict(
            "A simultaneous request provisioned this external_id; repeat the request to read it",
            code="external_id_taken",
        ) from None
    record(
        session,
        action="platform.earner.provision",
        object_type="account",
        object_id=account.id,
        actor=actor,
        issuer_id=issuer_id,
        after={"external_id": external_id, "email": address, "client_id": client.client_id},
    )
    token = start_email_verification(session, account, ttl=claim_ttl)
    return ProvisionedEarner(link, account, created=True, claim_token=token)


def _claim_lapsed(account: Account, *, now: datetime | None = None) -> bool:
    """An unclaimed account whose claim token is used up or expired (its owner needs a new one)."""
    if not is_unclaimed(account) or account.email_verified:
        return False
    expires = account.email_verification_expires
    if expires is not None and expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    return expires is None or expires <= (now or datetime.now(UTC))


def claim_message(to: str, token: str, public_url: str, *, issuer_name: str, valid_hours: int) -> Message:
    """The message inviting a provisioned earner to claim their account (set a password)."""
    return Message(
        to=to,
        subject=f"{issuer_name} created a SkillCred account for you",
        body=(
            f"{issuer_name} created a SkillCred account for this address, to assess your work and issue "
            "you verifiable credentials.\n\n"
            f"Your claim token: {token}\n\n"
            f"Claim the account (and choose its password) with POST {public_url}/v1/auth/verify-email "
            f'{{"token": "<token>", "password": "<your new password>"}} within {valid_hours} hours; then '
            "sign in with your email address and that password.\n"
            "If you do not know this platform, ignore this message: nobody can sign in to the account "
            "without the token.\n"
        ),
    )


# --- reading ------------------------------------------------------------------------------------


def _link_by_external_id(session: Session, issuer_id: str, external_id: str) -> PlatformEarner | None:
    return session.exec(
        select(PlatformEarner).where(
            col(PlatformEarner.issuer_id) == issuer_id, col(PlatformEarner.external_id) == external_id
        )
    ).first()


def _link_by_account(session: Session, issuer_id: str, account_id: str) -> PlatformEarner | None:
    return session.exec(
        select(PlatformEarner).where(
            col(PlatformEarner.issuer_id) == issuer_id, col(PlatformEarner.account_id) == account_id
        )
    ).first()


def get_earner(session: Session, issuer_id: str, earner_id: str) -> tuple[PlatformEarner, Account]:
    """The issuer's earner ``earner_id`` (an account id) and its link; another issuer's, or none,
    is :class:`NotFound` ``earner_not_found``."""
    link = _link_by_account(session, issuer_id, earner_id)
    account = session.get(Account, earner_id) if link is not None else None
    if link is None or account is None:
        raise NotFound(NO_SUCH_EARNER, code="earner_not_found")
    return link, account


def list_earners(
    session: Session, params: PageParams, *, issuer_id: str, external_id: str | None = None
) -> tuple[list[tuple[PlatformEarner, Account]], int]:
    """One page of the issuer's earners, newest first (filtered by ``external_id``); (rows, total)."""
    statement = (
        select(PlatformEarner, Account)
        .join(Account, col(Account.id) == col(PlatformEarner.account_id))
        .where(col(PlatformEarner.issuer_id) == issuer_id)
        .order_by(col(PlatformEarner.created_at).desc(), col(PlatformEarner.id))
    )
    if external_id is not None:
        statement = statement.where(col(PlatformEarner.external_id) == external_id)
    rows, total = paginate(session, statement, params)
    return [(row[0], row[1]) for row in rows], total


# --- acting for an earner -----------------------------------------------------------------------


def acting_issuer(principal: Principal | None) -> str | None:
    """The issuer whose platform acts for the earner in this request (``On-Behalf-Of``), else None.

    A client acting through its own grant for someone else than the grant's account is acting for
    a provisioned earner (:func:`service.platforms.principals.act_for`); a person's token, a
    client's own service account and an earner's consented grant act for nobody else."""
    if principal is None or principal.client is None or principal.grant is None:
        return None
    if principal.grant.account_id == principal.account.id:
        return None
    return principal.client.issuer_id
