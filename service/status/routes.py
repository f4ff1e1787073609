"""Status routes: revoke / suspend / unsuspend under /v1, and the public status list URL.

The state changes themselves are :mod:`service.credentials.lifecycle` (a credential's state is the
credentials domain's; it sets the entries of the status lists through :mod:`service.status.service`).

``GET /status/{list_id}`` serves a ``BitstringStatusListCredential`` byte for byte with a strong
``ETag`` (``If-None-Match`` -> 304) and ``Cache-Control: public, max-age=N``, where N is what is
left of the re-signing interval: a cache never keeps a copy past the moment a newer signature may
exist, so an outside verifier sees a change within the interval.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Path, Request, Response
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from service.accounts.models import Account
from service.api.auth import CredentialRevoker, Public
from service.api.conditional import etag_matches
from service.api.deps import ClockDep, SessionDep, SettingsDep, get_read_engine, open_read_session
from service.api.errors import error_responses
from service.core.clock import Clock
from service.core.config import Settings
from service.core.db import committing
from service.core.errors import NotFound
from service.core.keystore import Keystore
from service.credentials import formats
from service.credentials import service as credentials
from service.credentials import views as credential_views
from service.credentials.lifecycle import StatusAction, change_status
from service.credentials.schemas import CredentialOut
from service.status import publish, views
from service.status.schemas import StatusChangeIn
from service.status.served import ServedLists

router = APIRouter(prefix="/v1", tags=["status"])
public_router = APIRouter(tags=["status"])

CredentialId = Annotated[str, Path(min_length=1, max_length=36, description="The credential's id")]
ListId = Annotated[str, Path(min_length=1, max_length=36, description="The status list's id")]
CHANGE_ERRORS = error_responses(401, 403, 404, 409, 422)


def _change(
    action: StatusAction,
    credential_id: str,
    body: StatusChangeIn,
    session: Session,
    account: Account,
    settings: Settings,
    clock: Clock,
) -> CredentialOut:
    credential = change_status(
        session, settings, credential_id, action, reason=body.reason, actor=account, now=clock.now()
    )
    return credential_views.detail(settings, credential, credentials.recipient_of(session, credential))


@router.post("/credentials/{credential_id}/revoke", response_model=CredentialOut, responses=CHANGE_ERRORS)
def revoke_credential(
    credential_id: CredentialId,
    body: StatusChangeIn,
    session: SessionDep,
    account: CredentialRevoker,
    settings: SettingsDep,
    clock: ClockDep,
) -> CredentialOut:
    """Revoke a credential, for good: its bit in the issuer's revocation list is set, so it fails
    verification here at once and everywhere once the list is re-signed (within the interval).
    409 if it is already revoked. Admins, and issuer admins for their own issuer's credentials."""
    return _change(StatusAction.revoke, credential_id, body, session, account, settings, clock)


@router.post("/credentials/{credential_id}/suspend", response_model=CredentialOut, responses=CHANGE_ERRORS)
def suspend_credential(
    credential_id: CredentialId,
    body: StatusChangeIn,
    session: SessionDep,
    account: CredentialRevoker,
    settings: SettingsDep,
    clock: ClockDep,
) -> CredentialOut:
    """Suspend an active credential (its suspension bit is set) until it is unsuspended.
    409 if it is suspended already or revoked."""
    return _change(StatusAction.suspend, credential_id, body, session, account, settings, clock)


@router.post("/credentials/{credential_id}/unsuspend", response_model=CredentialOut, responses=CHANGE_ERRORS)
def unsuspend_credential(
    credential_id: CredentialId,
    body: StatusChangeIn,
    session: SessionDep,
    account: CredentialRevoker,
    settings: SettingsDep,
    clock: ClockDep,
) -> CredentialOut:
    """Lift a suspension (the suspension bit is cleared). 409 unless the credential is suspended."""
    return _change(StatusAction.unsuspend, credential_id, body, session, account, settings, clock)


@public_router.get(
    "/status/{list_id}",
    dependencies=[Public],
    response_class=Response,
    responses={
        200: {
            "description": "The signed BitstringStatusListCredential",
            "content": {formats.JSONLD_MEDIA_TYPE: {"schema": {"type": "object"}}},
        },
        304: {"description": "Not modified: the If-None-Match ETag is current"},
        **error_responses(404),
    },
)
async def status_list_credential(
    list_id: ListId,
    request: Request,
    if_none_match: Annotated[str | None, Header(max_length=2000)] = None,
) -> Response:
    """A W3C Bitstring Status List credential (revocation or suspension) of one issuer, signed
    eddsa-rdfc-2022 with the issuer's key; `ttl` and `Cache-Control` say how long to keep it.
    Re-signed at most once per interval, and within the interval of a change."""
    # the app's parts read here, not as one dependency each (each costs on every request)
    state = request.app.state
    settings: Settings = state.settings
    served: ServedLists = state.status_lists
    now = state.clock.now()
    engine = await get_read_engine(request)
    # the copy this process last served, while the list's row (read after this request arrived,
    # with the requests asking meanwhile) still names it; else the stored copy, signed if stale
    published = await served.current(engine, settings, list_id, now)
    if published is None:
        published = await run_in_threadpool(_published_list, request, engine, state.keystore, settings, list_id, now)
        if published is None:
            raise NotFound("No such status list")
        served.keep(settings, list_id, published)
    headers = views.list_headers(settings, published, now)
    if etag_matches(if_none_match, published.etag):
        return Response(status_code=304, headers=headers)
    return Response(views.list_body(published), media_type=formats.JSONLD_MEDIA_TYPE, headers=headers)


def _published_list(
    request: Request, engine: Engine, keystore: Keystore, settings: Settings, list_id: str, now: datetime
) -> publish.PublishedList | None:
    """:func:`publish.published_list` in a read session of its own (a worker thread's)."""
    with committing(open_read_session(request, engine)) as session:
        return publish.published_list(session, keystore, settings, list_id, now=now)
