"""The issuer's OAuth clients: list them, register one by hand (its secret shown this once) and
revoke one after a confirmation step, as ``/v1/issuers/{id}/clients`` does, with the same door
(admins; the issuer's admins for their own issuer) and the same service functions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import ValidationError
from sqlmodel import Session

from service.api.deps import SessionDep
from service.api.page_auth import (
    IdPath,
    IssuerAdminPage,
    PageCaller,
    html_page,
    issuer_in_scope,
    redirect,
)
from service.core.errors import ServiceError
from service.core.templates import render
from service.issuers.models import Issuer
from service.platforms import scopes, views
from service.platforms import service as platforms
from service.platforms.schemas import ClientCreate, ClientCreated

router = APIRouter(tags=["portal"], include_in_schema=False)

ClientId = Annotated[str, Path(min_length=1, max_length=64)]
GRANTS = {
    "client_credentials": "Client credentials: the platform's server acts for your issuer",
    "authorization_code": "Authorization code: earners sign in and consent",
    "refresh_token": "Refresh tokens (with the authorization code grant)",
}


def _list(
    request: Request,
    session: Session,
    caller: PageCaller,
    issuer: Issuer,
    *,
    created: ClientCreated | None = None,
    form: dict[str, Any] | None = None,
    notice: str = "",
    error: str = "",
    status: int = 200,
) -> Response:
    clients = [views.client_view(client) for client in platforms.list_clients(session, issuer.id)]
    html = render(
        "portal/issuer_clients.html",
        account=caller.account,
        csrf_token=caller.csrf,
        issuer=issuer,
        clients=clients,
        created=created,
        form=form or {"name": "", "scopes": [], "grants": ["client_credentials"], "redirect_uris": ""},
        scopes=scopes.DESCRIPTIONS,
        grants=GRANTS,
        notice=notice,
        error=error,
    )
    return html_page(request, html, status_code=status)


@router.get("/portal/issuer/{issuer_id}/clients")
def client_list(
    issuer_id: IdPath,
    request: Request,
    session: SessionDep,
    caller: IssuerAdminPage,
    done: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    """The issuer's OAuth clients, newest first (revoked ones marked), and the form to register one."""
    issuer = issuer_in_scope(session, caller, issuer_id)
    notice = "The client was revoked: its tokens no longer work." if done == "revoked" else ""
    return _list(request, session, caller, issuer, notice=notice)


@router.post("/portal/issuer/{issuer_id}/clients")
def register_client(issuer_id: IdPath, request: Request, session: SessionDep, caller: IssuerAdminPage) -> Response:
    """Register a confidential client as ``POST /v1/issuers/{id}/clients`` does; the answer shows its
    secret this once (never in a URL; the page is not cached)."""
    issuer = issuer_in_scope(session, caller, issuer_id)
    chosen = [v for v in caller.form.getlist("scope") if isinstance(v, str)] if caller.form else []
    grants = [v for v in caller.form.getlist("grant_type") if isinstance(v, str)] if caller.form else []
    uris = [line.strip() for line in caller.field("redirect_uris").splitlines() if line.strip()]
    name = caller.field("name")
    form = {"name": name, "scopes": chosen, "grants": grants, "redirect_uris": "\n".join(uris)}
    try:
        body = ClientCreate(name=name.strip(), scope=" ".join(chosen), grant_types=grants, redirect_uris=uris)
    except ValidationError:
        message = "Give the client a name (1 to 200 characters), at least one scope and one grant."
        return _list(request, session, caller, issuer, form=form, error=message, status=422)
    try:
        registered = platforms.register_client(
            session,
            name=body.name,
            issuer_id=issuer.id,
            scope=body.scope,
            grant_types=body.grant_types,
            redirect_uris=body.redirect_uris,
            actor=caller.account,
        )
    except ServiceError as refused:
        session.rollback()
        return _list(request, session, caller, issuer, form=form, error=refused.detail, status=refused.status_code)
    assert registered.secret is not None
    created = views.created_view(registered.client, registered.secret)
    return _list(request, session, caller, issuer, created=created, status=201)


@router.get("/portal/issuer/{issuer_id}/clients/{client_id}/revoke")
def confirm_revoke_client(
    issuer_id: IdPath, client_id: ClientId, request: Request, session: SessionDep, caller: IssuerAdminPage
) -> Response:
    """The confirmation step of revoking a client."""
    issuer = issuer_in_scope(session, caller, issuer_id)
    client = views.client_view(platforms.get_issuer_client(session, issuer.id, client_id))
    html = render(
        "portal/issuer_client_revoke.html", account=caller.account, csrf_token=caller.csrf, issuer=issuer, client=client
    )
    return html_page(request, html)


@router.post("/portal/issuer/{issuer_id}/clients/{client_id}/revoke")
def revoke_client(
    issuer_id: IdPath, client_id: ClientId, request: Request, session: SessionDep, caller: IssuerAdminPage
) -> Response:
    """Revoke a client as ``DELETE /v1/issuers/{id}/clients/{client_id}`` does: its tokens stop working."""
    issuer = issuer_in_scope(session, caller, issuer_id)
    platforms.revoke_client(session, platforms.get_issuer_client(session, issuer.id, client_id), actor=caller.account)
    return redirect(f"/portal/issuer/{issuer.id}/clients?done=revoked")
