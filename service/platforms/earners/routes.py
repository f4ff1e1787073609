"""Routes of the earners a platform provisions: ``/v1/platform/earners``.

A platform (an issuer's client with ``earners:provision``) creates earner accounts for its users,
then acts for them by naming them in ``On-Behalf-Of``. Issuer admins (and admins, naming the
issuer) manage the same list.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Path, Query, Request, Response, status

from service.api.auth import EarnerProvisioner
from service.api.deps import MailerDep, SessionDep, SettingsDep
from service.api.errors import error_responses
from service.api.paging import PageDep, set_paging_headers
from service.core.mail import deliver
from service.core.paging import Page
from service.issuers.service import get_issuer
from service.platforms.earners import service, views
from service.platforms.earners.schemas import EarnerProvision, PlatformEarnerOut

router = APIRouter(prefix="/v1/platform", tags=["platforms"])

EarnerId = Annotated[str, Path(min_length=1, max_length=36, description="The earner's account id")]
IssuerQuery = Annotated[
    str | None, Query(max_length=36, description="Admins only: the issuer whose earners to read (required for them)")
]


@router.post(
    "/earners",
    response_model=PlatformEarnerOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": PlatformEarnerOut, "description": "Already provisioned: the existing earner"},
        **error_responses(400, 401, 403, 404, 409, 422),
    },
)
def provision_earner(
    body: EarnerProvision,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    mailer: MailerDep,
    background: BackgroundTasks,
    account: EarnerProvisioner,
) -> PlatformEarnerOut:
    """Provision an earner for one of your platform's users: an earner account with no password
    and an unverified email address, linked to your issuer under your `external_id` for the user
    (201). A claim token is mailed to the address: its owner redeems it with a new password
    (`POST /v1/auth/verify-email` `{"token", "password"}`) and can then sign in. Meanwhile, and
    after, act for the earner by sending their `id` in the `On-Behalf-Of` header with your client
    credentials token (within your token's scopes and your issuer's achievements).

    The same `external_id` and email again answer the existing earner (200; an unclaimed earner
    whose claim token expired is mailed a new one). 409 `external_id_taken`: the `external_id`
    names an earner with another address; 409 `email_provisioned`: the address is already your
    earner under another `external_id`; 409 `earner_has_account`: the address already has a
    SkillCred account your platform did not provision. It is never linked silently: the earner
    connects it to your platform through the OAuth 2.0 authorization code grant.

    A client provisions for itself; an issuer admin or admin names the issuer's client
    (`client_id`, 400 `client_required`), and an admin the issuer (`issuer_id`, 400
    `issuer_required`)."""
    issuer_id = service.caller_issuer(session, account, body.issuer_id)
    client = service.provisioning_client(
        session, issuer_id, principal=request.state.principal, client_id=body.client_id
    )
    provisioned = service.provision_earner(
        session,
        issuer_id=issuer_id,
        client=client,
        external_id=body.external_id,
        email=body.email,
        actor=account,
        claim_ttl=timedelta(hours=settings.unverified_account_hours),
    )
    if provisioned.claim_token is not None:
        issuer = get_issuer(session, issuer_id)
        message = service.claim_message(
            provisioned.account.email,
            provisioned.claim_token,
            settings.public_url,
            issuer_name=issuer.name,
            valid_hours=settings.unverified_account_hours,
        )
        background.add_task(deliver, mailer, message)
    if not provisioned.created:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/v1/platform/earners/{provisioned.account.id}"
    return views.earner_view(provisioned.link, provisioned.account)


@router.get(
    "/earners",
    response_model=Page[PlatformEarnerOut],
    responses=error_responses(400, 401, 403, 404, 422),
)
def list_earners(
    request: Request,
    response: Response,
    session: SessionDep,
    account: EarnerProvisioner,
    page: PageDep,
    issuer_id: IssuerQuery = None,
    external_id: Annotated[str | None, Query(min_length=1, max_length=255, description="Your id for the user")] = None,
) -> Page[PlatformEarnerOut]:
    """Your issuer's provisioned earners, newest first, paged (`X-Total-Count`, `Link`); filter
    by your `external_id` for a user."""
    issuer = service.caller_issuer(session, account, issuer_id)
    rows, total = service.list_earners(session, page, issuer_id=issuer, external_id=external_id)
    set_paging_headers(request, response, page, total)
    return Page(
        items=[views.earner_view(link, earner) for link, earner in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get(
    "/earners/{earner_id}",
    response_model=PlatformEarnerOut,
    responses=error_responses(400, 401, 403, 404, 422),
)
def get_earner(
    earner_id: EarnerId, session: SessionDep, account: EarnerProvisioner, issuer_id: IssuerQuery = None
) -> PlatformEarnerOut:
    """One of your issuer's provisioned earners; another issuer's, or none, is 404
    `earner_not_found`."""
    issuer = service.caller_issuer(session, account, issuer_id)
    link, earner = service.get_earner(session, issuer, earner_id)
    return views.earner_view(link, earner)
