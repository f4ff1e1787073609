"""Status routes: revoke / suspend / unsuspend under /v1, and the public status list URL.

``GET /status/{list_id}`` serves a ``BitstringStatusListCredential`` byte for byte with a strong
``ETag`` (``If-None-Match`` -> 304) and ``Cache-Control: public, max-age=N``, where N is what is
left of the re-signing interval: a cache never keeps a copy past the moment a newer signature may
exist, so an outside verifier sees a change within the interval.
"""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Header, Path, Request, Response

from service.api.auth import IssuerManager, Public
from service.api.deps import SessionDep
from service.api.errors import error_responses
from service.core.errors import NotFound
from service.core.models import utcnow
from service.credentials import formats
from service.credentials import service as credentials
from service.credentials.schemas import CredentialOut
from service.status import publish
from service.status.schemas import StatusChangeIn
from service.status.service import StatusAction, change_status

router = APIRouter(prefix="/v1", tags=["credential status"])
public_router = APIRouter(tags=["status lists"])

CredentialId = Annotated[str, Path(min_length=1, max_length=36, description="The credential's id")]
ListId = Annotated[str, Path(min_length=1, max_length=36, description="The status list's id")]
CHANGE_ERRORS = error_responses(401, 403, 404, 409, 422)


def _change(
    action: StatusAction,
    credential_id: str,
    body: StatusChangeIn,
    request: Request,
    session: SessionDep,
    account: IssuerManager,
) -> CredentialOut:
    settings = request.app.state.settings
    credential = change_status(session, settings, credential_id, action, reason=body.reason, actor=account)
    return credentials.detail(settings, credential, credentials.recipient_of(session, credential))


@router.post("/credentials/{credential_id}/revoke", response_model=CredentialOut, responses=CHANGE_ERRORS)
def revoke_credential(
    credential_id: CredentialId, body: StatusChangeIn, request: Request, session: SessionDep, account: IssuerManager
) -> CredentialOut:
    """Revoke a credential, for good: its bit in the issuer's revocation list is set, so it fails
    verification here at once and everywhere once the list is re-signed (within the interval).
    409 if it is already revoked. Admins, and issuer admins for their own issuer's credentials."""
    return _change(StatusAction.revoke, credential_id, body, request, session, account)


@router.post("/credentials/{credential_id}/suspend", response_model=CredentialOut, responses=CHANGE_ERRORS)
def suspend_credential(
    credential_id: CredentialId, body: StatusChangeIn, request: Request, session: SessionDep, account: IssuerManager
) -> CredentialOut:
    """Suspend an active credential (its suspension bit is set) until it is unsuspended.
    409 if it is suspended already or revoked."""
    return _change(StatusAction.suspend, credential_id, body, request, session, account)


@router.post("/credentials/{credential_id}/unsuspend", response_model=CredentialOut, responses=CHANGE_ERRORS)
def unsuspend_credential(
    credential_id: CredentialId, body: StatusChangeIn, request: Request, session: SessionDep, account: IssuerManager
) -> CredentialOut:
    """Lift a suspension (the suspension bit is cleared). 409 unless the credential is suspended."""
    return _change(StatusAction.unsuspend, credential_id, body, request, session, account)


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 13.1.2: ``*`` or any listed tag equal by the weak comparison."""
    if not if_none_match:
        return False
    tags = [tag.strip() for tag in if_none_match.split(",")]
    return "*" in tags or etag.removeprefix("W/") in (tag.removeprefix("W/") for tag in tags)


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
def status_list_credential(
    list_id: ListId,
    request: Request,
    session: SessionDep,
    if_none_match: Annotated[str | None, Header(max_length=2000)] = None,
) -> Response:
    """A W3C Bitstring Status List credential (revocation or suspension) of one issuer, signed
    eddsa-rdfc-2022 with the issuer's key; `ttl` and `Cache-Control` say how long to keep it.
    Re-signed at most once per interval, and within the interval of a change."""
    settings = request.app.state.settings
    now = utcnow()
    published = publish.published_list(session, request.app.state.keystore, settings, list_id, now=now)
    if published is None:
        raise NotFound("No such status list")
    age = (now - published.signed_at).total_seconds()
    max_age = max(
        0,
        min(
            settings.status_list_resign_interval_seconds, math.floor(settings.status_list_resign_interval_seconds - age)
        ),
    )
    headers = {
        "ETag": published.etag,
        "Cache-Control": f"public, max-age={max_age}",
        "Access-Control-Allow-Origin": "*",
        "X-Content-Type-Options": "nosniff",
    }
    if etag_matches(if_none_match, published.etag):
        return Response(status_code=304, headers=headers)
    return Response(published.text.encode("utf-8"), media_type=formats.JSONLD_MEDIA_TYPE, headers=headers)
