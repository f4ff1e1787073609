"""Endorsement routes: clients endorse (two ways), earners decide, anyone reads accepted ones.

Endorsing, for a client who worked with the earner (no account needed):

A. Signed by the issuer on the client's behalf:
   1. ``POST /v1/credentials/{id}/endorsements/requests`` with email, name, statement and optional
      engagement: a one-time token goes to the email (see the delivery note on that route);
   2. ``POST /v1/endorsements/requests/{request_id}/confirm`` with the token: the endorsement is
      issued, ``pending`` the earner's decision (the response has its state, not the document).

B. Signed by the client's own DID (did:key, or did:web fetched over the SSRF-safe resolver):
   1. ``POST /v1/credentials/{id}/endorsements/challenges`` with the DID: a nonce to sign;
   2. ``POST /v1/credentials/{id}/endorsements/signed`` with the challenge id, the signed
      challenge (compact JWS) and the EndorsementCredential the client signed (eddsa-rdfc-2022,
      issuer = the DID, ``credentialSubject.id`` = the credential's id URL).

Then the earner lists (``GET /v1/credentials/{id}/endorsements``) and accepts or hides each
(``POST /v1/endorsements/{id}/accept`` | ``/hide``); accepted ones are public at
``GET /endorsements/{id}`` and on the badge page, and ``POST /v1/credentials/{id}/reissue``
embeds them in a new credential. The signed document is released only once accepted. The issuer's
admins may revoke any endorsement of their credentials (``POST /v1/endorsements/{id}/revoke``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Path, Request, Response, status

from service.accounts.service import mailbox
from service.api.auth import AnyAccount, EarnerAccount, IssuerManager, Public, ReissuingAccount
from service.api.deps import ClockDep, EngineDep, KeystoreDep, MailerDep, SessionDep, SettingsDep, VerifierDep
from service.api.errors import error_responses
from service.api.gates import IssuingSlot
from service.api.paging import PageDep, set_paging_headers
from service.api.ratelimit import (
    ENDORSEMENT_REQUESTS_PER_ADDRESS,
    ENDORSEMENT_REQUESTS_PER_ENDORSER,
    TOKEN_ATTEMPTS_PER_ADDRESS,
)
from service.api.throttle import Throttle, count
from service.core.db import unit_of_work
from service.core.mail import deliver, endorsement_message
from service.core.paging import Page
from service.credentials import service as credentials
from service.credentials import views as credential_views
from service.credentials.formats import JSONLD_MEDIA_TYPE
from service.credentials.schemas import CredentialOut
from service.endorsements import reissue, self_signed, service, views
from service.endorsements.models import EndorsementState
from service.endorsements.schemas import (
    ChallengeIn,
    ChallengeOut,
    EndorsementConfirmIn,
    EndorsementOut,
    EndorsementRequestIn,
    EndorsementRequestOut,
    EndorsementRevokeIn,
    SignedEndorsementIn,
)

router = APIRouter(prefix="/v1", tags=["endorsements"])
public_router = APIRouter(tags=["endorsements"])

CredentialId = Annotated[str, Path(min_length=1, max_length=36, description="The endorsed credential's id")]
EndorsementId = Annotated[str, Path(min_length=1, max_length=36, description="The endorsement's id")]
RequestId = Annotated[str, Path(min_length=1, max_length=36, description="The endorsement request's id")]


@router.post(
    "/credentials/{credential_id}/endorsements/requests",
    dependencies=[Public, Throttle(ENDORSEMENT_REQUESTS_PER_ADDRESS)],
    response_model=EndorsementRequestOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(404, 409, 413, 422, 429),
)
def request_endorsement(
    request: Request,
    credential_id: CredentialId,
    body: EndorsementRequestIn,
    session: SessionDep,
    settings: SettingsDep,
    mailer: MailerDep,
    clock: ClockDep,
    background: BackgroundTasks,
) -> EndorsementRequestOut:
    """A client asks to endorse a credential (Flow A: the issuer signs on their behalf). Give your
    email address, your name, your statement and optionally the engagement (project name, start
    and end dates, the platform's contract id). A one-time token is sent to the address; confirm
    with it within 48 hours (`POST /v1/endorsements/requests/{request_id}/confirm`).

    **Delivery:** the token is mailed to the address (SMTP, `SKILLCRED_SMTP_*`). Development and
    test deployments also return it in `verification_token`; production never does. The endorsement
    will publish your name and a salted hash of your address, never the address. One pending request
    per address per credential (409), at most 20 pending per credential (429); the credential must
    be active (409). Requests are limited per client address (10 an hour) and per endorser
    address (3 a day), so junk cannot flood an address with mail (429 with `Retry-After`).

    A name that is a DID or a URL as people read it (or the issuer's own name) is 422
    `invalid_endorser_name`; an engagement that ends before it starts is 422 `dates_out_of_order`;
    the earner's own address is 422 `self_endorsement`."""
    count(request, ENDORSEMENT_REQUESTS_PER_ENDORSER, mailbox(str(body.email)))
    pending, token = service.request_endorsement(
        session,
        settings,
        credential_id,
        email=str(body.email),
        name=body.name,
        statement=body.statement,
        engagement=None if body.engagement is None else body.engagement.to_engagement(),
        now=clock.now(),
    )
    background.add_task(deliver, mailer, endorsement_message(str(body.email), token, pending.id, settings.public_url))
    return views.request_view(settings, pending, token)


@router.post(
    "/endorsements/requests/{request_id}/confirm",
    dependencies=[Public, Throttle(TOKEN_ATTEMPTS_PER_ADDRESS)],
    response_model=EndorsementOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(404, 409, 422, 429),
)
def confirm_endorsement(
    request_id: RequestId,
    body: EndorsementConfirmIn,
    session: SessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    keystore: KeystoreDep,
    clock: ClockDep,
) -> EndorsementOut:
    """Confirm an endorsement request with the token sent to the endorser's address: the
    credential's issuer signs the EndorsementCredential (eddsa-rdfc-2022; `issuer` is the issuer's
    own Profile, you are `credentialSubject.endorser`; it has an entry in the issuer's revocation
    list) and it waits for the earner to accept it. The response gives the endorsement's id and
    state but not the signed document: that is released once the earner accepts it, at
    `GET /endorsements/{id}`. A token other than the one sent is 422 `invalid_token`; five
    attempts per request (then 429: ask again); 409 once expired."""
    now = clock.now()
    with unit_of_work(engine) as attempt_session:  # counted even if this fails
        attempt = service.spend_attempt(attempt_session, request_id, now)
    service.raise_unless_allowed(attempt)
    endorsement = service.confirm_request(session, keystore, settings, request_id, body.token, now=now)
    return views.endorsement_view(settings, endorsement)


@router.post(
    "/credentials/{credential_id}/endorsements/challenges",
    dependencies=[Public],
    response_model=ChallengeOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(404, 409, 422, 429),
)
def create_challenge(
    credential_id: CredentialId, body: ChallengeIn, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> ChallengeOut:
    """A client who endorses with their own DID (Flow B) first gets a challenge: sign it as a
    compact JWS with a key of the DID — header `{"alg": "EdDSA" or "ES256", "kid": "<DID URL>"}`,
    payload `{"nonce": <nonce>, "aud": <audience>, "iss": <did>}` — and send it with the
    endorsement to `POST /v1/credentials/{credential_id}/endorsements/signed` within 10 minutes.
    A challenge is good for one submission."""
    challenge = self_signed.create_challenge(session, settings, credential_id, body.did, now=clock.now())
    return views.challenge_view(settings, challenge)


@router.post(
    "/credentials/{credential_id}/endorsements/signed",
    dependencies=[Public],
    response_model=EndorsementOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(404, 409, 413, 422),
)
def submit_signed_endorsement(
    credential_id: CredentialId,
    body: SignedEndorsementIn,
    session: SessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    keystore: KeystoreDep,
    verifier: VerifierDep,
    clock: ClockDep,
) -> EndorsementOut:
    """Submit an EndorsementCredential signed by your own DID (Flow B), with the signed challenge.
    The challenge is used up by this call whatever its outcome. Accepted when the JWS proves
    control of the challenge's DID (its key listed under authentication or assertionMethod), the
    endorsement's `issuer` is that DID, its `credentialSubject` is
    `{"id": <the credential's id URL>, "type": ["EndorsementSubject"], ...}`, and it verifies
    fully with an eddsa-rdfc-2022 proof by a key of the DID. It is stored as sent (send it as
    JSON text to have it kept byte for byte) and waits for the earner to accept it.

    What no schema can check answers 422 with its code: `invalid_control_proof` (the JWS does not
    prove control of the DID), `invalid_endorsement` (not an EndorsementCredential),
    `endorser_mismatch` (its issuer is not the DID), `subject_mismatch` (it endorses another
    credential) and `endorsement_not_verified` (its proof fails)."""
    now = clock.now()
    with unit_of_work(engine) as challenge_session:  # single use, whatever follows
        challenge = self_signed.spend_challenge(challenge_session, credential_id, body.challenge_id, now)
        if challenge is not None:
            challenge_session.expunge(challenge)
    endorsement = self_signed.submit_signed_endorsement(
        session,
        settings,
        keystore,
        credential_id,
        challenge,
        verifier=verifier,
        proof=body.proof,
        endorsement=body.endorsement,
        now=now,
    )
    return views.endorsement_view(settings, endorsement)


@router.get(
    "/credentials/{credential_id}/endorsements",
    response_model=Page[EndorsementOut],
    responses=error_responses(401, 404, 422),
)
def list_endorsements(
    credential_id: CredentialId,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    account: AnyAccount,
    page: PageDep,
) -> Page[EndorsementOut]:
    """A credential's endorsements in every state (pending, accepted, hidden, revoked), newest
    first, for its earner, its issuer's staff and admins (404 for anyone else). `endorsement` (the
    signed document) is given for accepted ones only."""
    rows, total = service.list_endorsements(session, credential_id, page, viewer=account)
    set_paging_headers(request, response, page, total)
    return Page(items=views.endorsement_views(settings, rows), total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/endorsements/{endorsement_id}/accept",
    response_model=EndorsementOut,
    responses=error_responses(401, 403, 404, 409, 422),
)
def accept_endorsement(
    endorsement_id: EndorsementId, session: SessionDep, settings: SettingsDep, clock: ClockDep, account: EarnerAccount
) -> EndorsementOut:
    """The earner accepts an endorsement of their credential (pending or hidden): it becomes
    public (badge page, `GET /endorsements/{id}`), the response carries the signed document, and
    it is embedded by the next reissue. A revoked endorsement cannot be accepted (409)."""
    endorsement = service.decide(session, endorsement_id, EndorsementState.accepted, viewer=account, now=clock.now())
    return views.endorsement_view(settings, endorsement)


@router.post(
    "/endorsements/{endorsement_id}/hide",
    response_model=EndorsementOut,
    responses=error_responses(401, 403, 404, 409, 422),
)
def hide_endorsement(
    endorsement_id: EndorsementId, session: SessionDep, settings: SettingsDep, clock: ClockDep, account: EarnerAccount
) -> EndorsementOut:
    """The earner hides an endorsement of their credential (pending or accepted): it is no longer
    public and no longer embedded by a reissue. It can be accepted again later."""
    endorsement = service.decide(session, endorsement_id, EndorsementState.hidden, viewer=account, now=clock.now())
    return views.endorsement_view(settings, endorsement)


@router.post(
    "/endorsements/{endorsement_id}/revoke",
    response_model=EndorsementOut,
    responses=error_responses(401, 403, 404, 409, 422),
)
def revoke_endorsement(
    endorsement_id: EndorsementId,
    body: EndorsementRevokeIn,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    account: IssuerManager,
) -> EndorsementOut:
    """The issuer withdraws an endorsement of one of its credentials, whatever its state, for
    good: it is no longer public (`GET /endorsements/{id}` 404), no longer on the badge page and no
    longer embedded by a reissue; one the issuer signed has its bit set in the issuer's revocation
    list, so it fails verification here at once and everywhere once the list is re-signed. The
    reason goes to the audit log. Admins, and issuer admins for their own issuer's credentials
    (another issuer's endorsement is 404); 409 if already revoked."""
    endorsement = service.revoke(session, settings, endorsement_id, reason=body.reason, actor=account, now=clock.now())
    return views.endorsement_view(settings, endorsement)


@router.post(
    "/credentials/{credential_id}/reissue",
    response_model=CredentialOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[IssuingSlot],
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
def reissue_credential(
    credential_id: CredentialId,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    keystore: KeystoreDep,
    account: ReissuingAccount,
) -> CredentialOut:
    """Reissue a credential with its accepted endorsements embedded (`endorsement`): a new
    credential replacing this one (`replaces_id`), with the same recipient, achievement,
    `validUntil`, evidence and results; the old one stays valid until its own end unless revoked.
    The earner may ask, as may admins and the issuer's admins; a revoked, suspended or expired
    credential is not reissued (409)."""
    credential = reissue.reissue_credential(session, keystore, settings, credential_id, actor=account)
    response.headers["Location"] = f"/v1/credentials/{credential.id}"
    return credential_views.detail(settings, credential, credentials.recipient_of(session, credential))


@public_router.get(
    "/endorsements/{endorsement_id}",
    dependencies=[Public],
    response_class=Response,
    responses={
        200: {
            "content": {JSONLD_MEDIA_TYPE: {"schema": {"type": "object"}}},
            "description": "The signed EndorsementCredential, byte for byte",
        },
        **error_responses(404, 422),
    },
)
def get_endorsement(endorsement_id: EndorsementId, session: SessionDep) -> Response:
    """An accepted endorsement: the signed EndorsementCredential as stored, byte for byte
    (`application/vc+ld+json`). Pending, hidden and revoked endorsements are not public (404)."""
    endorsement = service.public_endorsement(session, endorsement_id)
    response = Response(endorsement.jsonld.encode("utf-8"), media_type=JSONLD_MEDIA_TYPE)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
