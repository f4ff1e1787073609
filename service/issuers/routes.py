"""Issuer routes: the /v1 administration API and the public did:web and JWKS documents."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response, status
from fastapi.responses import JSONResponse
from sqlmodel import Session

from service.accounts.models import Account
from service.api.auth import AdminAccount, IssuerManager, Public, ensure_issuer_scope
from service.api.conditional import etag_matches
from service.api.deps import ClockDep, KeystoreDep, ReadSessionDep, SessionDep, SettingsDep
from service.api.errors import error_responses
from service.api.paging import PageDep, set_paging_headers
from service.core.paging import Page
from service.endorsements.signed_by_key import page_of, signed_by_key
from service.issuers import did_moves, service, views
from service.issuers.models import Issuer
from service.issuers.schemas import (
    IssuerCreate,
    IssuerOut,
    IssuerUpdate,
    JsonWebKeySet,
    KeyCompromiseIn,
    KeyCompromiseOut,
    SignedByKeyOut,
    SigningKeyOut,
)
from service.verification.compromise import report_compromised_key

router = APIRouter(prefix="/v1", tags=["issuers"])
public_router = APIRouter(tags=["issuers"])

IssuerId = Annotated[str, Path(min_length=1, max_length=36, description="The issuer's id")]
KeyRef = Annotated[str, Path(min_length=1, max_length=64, description="The key's id, or its fragment (`key-1`)")]
PUBLIC_CACHE = "public, max-age=300"


class DidJSONResponse(JSONResponse):
    """A DID document in its JSON representation."""

    media_type = "application/did+json"


def _scoped_issuer(session: Session, account: Account, issuer_id: str) -> Issuer:
    ensure_issuer_scope(account, issuer_id)
    return service.get_issuer(session, issuer_id)


def _public_headers(response: Response) -> None:
    # verifiers fetch these documents, browsers included (hence CORS); they change only on rotation
    response.headers["Cache-Control"] = PUBLIC_CACHE
    response.headers["Access-Control-Allow-Origin"] = "*"


def _did_response(document: dict[str, Any], request: Request) -> Response:
    """The document with a strong ETag of its bytes; 304 when ``If-None-Match`` names it (RFC 9110
    section 13.1.2), so a verifier revalidating its copy after ``max-age`` gets no body back."""
    response = DidJSONResponse(document)
    _public_headers(response)
    etag = '"' + hashlib.sha256(bytes(response.body)).hexdigest()[:32] + '"'
    response.headers["ETag"] = etag
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers={k: v for k, v in response.headers.items() if k != "content-length"})
    return response


# --- /v1 -------------------------------------------------------------------------------------


@router.post(
    "/issuers",
    response_model=IssuerOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 409, 422),
)
def create_issuer(
    body: IssuerCreate, session: SessionDep, settings: SettingsDep, keystore: KeystoreDep, account: AdminAccount
) -> IssuerOut:
    """Create an issuer (admins only) with its did:web and two signing keys: Ed25519 (`key-1`,
    eddsa-rdfc-2022 proofs and EdDSA VC-JWTs) and RSA 3072 (`rsa-1`, RS256 VC-JWTs). The first
    issuer of a deployment holds the host DID; later ones `did:web:<host>:issuers:<id>`."""
    issuer = service.create_issuer(session, keystore, settings, **body.model_dump(), actor=account)
    return views.issuer_view(settings, issuer)


@router.get("/issuers", response_model=Page[IssuerOut], responses=error_responses(401, 403, 422))
def list_issuers(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    account: IssuerManager,
    params: PageDep,
) -> Page[IssuerOut]:
    """List issuers, oldest first: all of them for an admin, their own for an issuer admin.
    Paged with `limit`/`offset`; `X-Total-Count` and `Link` headers describe the whole list."""
    issuers, total = service.list_issuers(session, params, viewer=account)
    set_paging_headers(request, response, params, total)
    return Page(
        items=[views.issuer_view(settings, i) for i in issuers], total=total, limit=params.limit, offset=params.offset
    )


@router.get("/issuers/{issuer_id}", response_model=IssuerOut, responses=error_responses(401, 403, 404, 422))
def get_issuer(issuer_id: IssuerId, session: SessionDep, settings: SettingsDep, account: IssuerManager) -> IssuerOut:
    """One issuer's Profile and DID (an issuer admin sees only their own; others answer 404)."""
    return views.issuer_view(settings, _scoped_issuer(session, account, issuer_id))


@router.patch("/issuers/{issuer_id}", response_model=IssuerOut, responses=error_responses(400, 401, 403, 404, 422))
def update_issuer(
    issuer_id: IssuerId, body: IssuerUpdate, session: SessionDep, settings: SettingsDep, account: IssuerManager
) -> IssuerOut:
    """Change an issuer's Profile: only the fields sent change; `null` clears email, image or
    description. The DID and keys do not change (rotate keys with `/keys/rotate`). Credentials
    already issued keep the Profile they were signed with."""
    issuer = _scoped_issuer(session, account, issuer_id)
    return views.issuer_view(settings, service.update_issuer(session, issuer, actor=account, **body.changes()))


@router.get(
    "/issuers/{issuer_id}/keys", response_model=list[SigningKeyOut], responses=error_responses(401, 403, 404, 422)
)
def list_keys(issuer_id: IssuerId, session: SessionDep, account: IssuerManager) -> list[SigningKeyOut]:
    """The issuer's signing keys, oldest first: public JWK, verification method, created and
    retired dates. Private keys never leave the keystore."""
    issuer = _scoped_issuer(session, account, issuer_id)
    return views.signing_key_views(issuer, service.issuer_keys(session, issuer.id))


@router.post(
    "/issuers/{issuer_id}/keys/rotate",
    response_model=list[SigningKeyOut],
    responses=error_responses(401, 403, 404, 409, 422),
)
def rotate_keys(
    issuer_id: IssuerId, session: SessionDep, keystore: KeystoreDep, account: IssuerManager
) -> list[SigningKeyOut]:
    """Retire the issuer's active keys and create new ones (`key-N+1`, `rsa-N+1`); answers every
    key, oldest first. New credentials are signed with the new keys; retired public keys stay in
    the DID document and the JWKS, so credentials signed before still verify."""
    issuer = _scoped_issuer(session, account, issuer_id)
    service.rotate_keys(session, keystore, issuer, actor=account)
    return views.signing_key_views(issuer, service.issuer_keys(session, issuer.id))


def _affected_path(issuer: Issuer, key_id: str) -> str:
    return f"/v1/issuers/{issuer.id}/keys/{key_id}/affected-credentials"


@router.post(
    "/issuers/{issuer_id}/keys/{key_id}/compromise",
    response_model=KeyCompromiseOut,
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
def report_key_compromised(
    issuer_id: IssuerId,
    key_id: KeyRef,
    body: KeyCompromiseIn,
    session: SessionDep,
    keystore: KeystoreDep,
    clock: ClockDep,
    account: IssuerManager,
) -> KeyCompromiseOut:
    """Report one of the issuer's keys (active or retired) known or suspected compromised since
    `compromised_at` (default now; never in the future), with a reason. From then on nothing the
    key signed verifies, whatever its dates say (a thief can backdate): this service's verifier
    fails its `issuer_key` check with `key_compromised`, and the DID document lists the key as
    `revoked` under no relationship (and the JWKS drops it), so other verifiers stop trusting it.
    An active key is retired and replaced by a new key of its algorithm; the status lists it
    signed are signed again with the new key. List what it signed (to reissue) at
    `affected_credentials`. A key already reported answers 409; audited as `issuer.key.compromise`.
    A `compromised_at` in the future is 422 `invalid_compromise_report`."""
    issuer = _scoped_issuer(session, account, issuer_id)
    now = clock.now()
    outcome = report_compromised_key(
        session,
        keystore,
        issuer,
        key_id,
        compromised_at=body.compromised_at or now,
        reason=body.reason,
        now=now,
        actor=account,
    )
    return KeyCompromiseOut(
        key=views.signing_key_view(issuer, outcome.key),
        replacement=views.signing_key_view(issuer, outcome.replacement) if outcome.replacement else None,
        status_lists_resigned=outcome.status_lists_resigned,
        affected_credentials=_affected_path(issuer, outcome.key.id),
    )


@router.get(
    "/issuers/{issuer_id}/keys/{key_id}/affected-credentials",
    response_model=Page[SignedByKeyOut],
    responses=error_responses(401, 403, 404, 422),
)
def affected_credentials(
    issuer_id: IssuerId,
    key_id: KeyRef,
    request: Request,
    response: Response,
    session: SessionDep,
    account: IssuerManager,
    params: PageDep,
) -> Page[SignedByKeyOut]:
    """The credentials and issuer-signed endorsements this service stores that the key signed
    (any key, typically one reported compromised, so the issuer can reissue them), oldest first,
    with the signed forms the key signed (`json-ld` for Ed25519 keys, `vc-jwt` for RSA keys).
    Paged with `limit`/`offset`; `X-Total-Count` and `Link` headers describe the whole list."""
    issuer = _scoped_issuer(session, account, issuer_id)
    records, total = page_of(signed_by_key(session, issuer, service.find_key(session, issuer, key_id)), params)
    set_paging_headers(request, response, params, total)
    items = [SignedByKeyOut.model_validate(record, from_attributes=True) for record in records]
    return Page(items=items, total=total, limit=params.limit, offset=params.offset)


# --- public documents ---------------------------------------------------------------------------

_DID_DOCUMENT: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A DID document (JSON representation, DID v1 context first), with an `ETag`",
        "content": {"application/did+json": {"schema": {"type": "object"}}},
    },
    304: {"description": "Not modified: the `If-None-Match` ETag is the document's current one"},
}


def _json_errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    # error_responses() would list the errors under the route's media type (did+json); they are JSON
    return {
        code: {
            "description": entry["description"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
        }
        for code, entry in error_responses(*statuses).items()
    }


@public_router.get(
    "/.well-known/did.json",
    dependencies=[Public],
    response_class=DidJSONResponse,
    responses={**_DID_DOCUMENT, **_json_errors(404)},
)
def host_did_document(request: Request, session: ReadSessionDep, settings: SettingsDep) -> Response:
    """The DID document of the issuer holding this service's host DID (`did:web:<host>`)."""
    moved = did_moves.alias_document_at(session, settings, str(request.base_url))  # reached under a former public URL
    if moved is not None:
        return _did_response(moved, request)
    issuer = service.host_did_issuer(session, settings)
    return _did_response(service.did_document(session, issuer), request)


@public_router.get(
    "/issuers/{issuer_id}/did.json",
    dependencies=[Public],
    response_class=DidJSONResponse,
    responses={**_DID_DOCUMENT, **_json_errors(404, 422)},
)
def issuer_did_document(
    issuer_id: IssuerId, request: Request, session: ReadSessionDep, settings: SettingsDep
) -> Response:
    """The DID document of `did:web:<host>:issuers:<issuer_id>`: every key, active and retired."""
    # reached under a former public URL: the DID this issuer held there
    moved = did_moves.alias_document_at(session, settings, f"{request.base_url}issuers/{issuer_id}")
    if moved is not None:
        return _did_response(moved, request)
    issuer = service.path_did_issuer(session, settings, issuer_id)
    return _did_response(service.did_document(session, issuer), request)


@public_router.get("/.well-known/jwks.json", dependencies=[Public], response_model=JsonWebKeySet)
def jwks(response: Response, session: ReadSessionDep) -> dict[str, Any]:
    """RFC 7517 JWK Set of every issuer's public keys, active and retired, for VC-JWT verifiers:
    `kid` is the verification method (the `kid` header of the JWTs this service signs)."""
    _public_headers(response)
    return service.jwks(session)
