"""An issuer's OAuth clients, managed by hand by its admins (people only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from service.api.auth import IssuerManager, ensure_issuer_scope
from service.api.deps import SessionDep
from service.api.errors import error_responses
from service.core.errors import NotFound
from service.issuers import service as issuers
from service.platforms import service, views
from service.platforms.schemas import ClientCreate, ClientCreated, ClientOut

router = APIRouter(prefix="/v1", tags=["platforms"])
IssuerId = Annotated[str, Path(min_length=1, max_length=36, description="The issuer's id")]
ClientId = Annotated[str, Path(min_length=1, max_length=64, description="The client's `client_id`")]


@router.post(
    "/issuers/{issuer_id}/clients",
    response_model=ClientCreated,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(400, 401, 403, 404, 422),
)
def create_client(
    issuer_id: IssuerId, body: ClientCreate, session: SessionDep, account: IssuerManager
) -> ClientCreated:
    """Register a confidential OAuth client of this issuer by hand (its platform's server); the
    secret is shown this once. Errors: 400 `invalid_scope`, `invalid_client_metadata`,
    `invalid_redirect_uri`."""
    ensure_issuer_scope(account, issuer_id)
    if not issuers.issuer_exists(session, issuer_id):
        raise NotFound("No such issuer")
    registered = service.register_client(
        session,
        name=body.name,
        issuer_id=issuer_id,
        scope=body.scope,
        grant_types=body.grant_types,
        redirect_uris=body.redirect_uris,
        actor=account,
    )
    assert registered.secret is not None
    return views.created_view(registered.client, registered.secret)


@router.get("/issuers/{issuer_id}/clients", response_model=list[ClientOut], responses=error_responses(401, 403, 404))
def list_clients(issuer_id: IssuerId, session: SessionDep, account: IssuerManager) -> list[ClientOut]:
    """This issuer's OAuth clients, newest first; revoked ones carry `revoked_at`."""
    ensure_issuer_scope(account, issuer_id)
    if not issuers.issuer_exists(session, issuer_id):
        raise NotFound("No such issuer")
    return [views.client_view(client) for client in service.list_clients(session, issuer_id)]


@router.delete("/issuers/{issuer_id}/clients/{client_id}", status_code=204, responses=error_responses(401, 403, 404))
def revoke_client(issuer_id: IssuerId, client_id: ClientId, session: SessionDep, account: IssuerManager) -> Response:
    """Revoke a client: its access and refresh tokens stop working at once, and it can get no new
    ones. Revoking a revoked client changes nothing."""
    ensure_issuer_scope(account, issuer_id)
    service.revoke_client(session, service.get_issuer_client(session, issuer_id, client_id), actor=account)
    return Response(status_code=204)
