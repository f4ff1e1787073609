"""Endorsements signed by the client's own DID (flow B). No FastAPI here, and nothing commits.

:func:`create_challenge` gives a random nonce bound to the credential and the DID (valid
:data:`CHALLENGE_TTL`, single use: :func:`spend_challenge` consumes it, in a transaction of its
own, before anything is checked); :func:`submit_signed_endorsement` checks the signed challenge
(:mod:`service.endorsements.challenge`), then the EndorsementCredential itself: its issuer is that
DID, its subject the credential (with no ``credentialSubject.endorser``: that property is for
endorsements an issuer signs on a client's behalf), and it verifies in full with an
eddsa-rdfc-2022 proof. It is
stored as submitted and, like every endorsement, waits for the earner's decision.

Checking needs a :class:`CredentialVerifier` (the app's
:class:`~service.verification.service.Verifier`, passed in by the route): verification sits above
endorsements, so this module only names what it needs of it.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from service.core.config import Settings
from service.core.errors import Conflict, NotFound
from service.core.keystore import Keystore
from service.credentials.service import credential_url
from service.endorsements.challenge import ControlProofError, verify_control_proof
from service.endorsements.credential import ENDORSER_PROPERTY, InvalidEndorsement, describes_endorser, read_endorsement
from service.endorsements.models import Endorsement, EndorsementChallenge, EndorsementKind
from service.endorsements.service import InvalidEndorsementRequest, TooManyRequests, endorsable, store
from service.vc.did import KeyResolver
from service.vc.report import VerificationReport

CHALLENGE_TTL = timedelta(minutes=10)
MAX_OPEN_CHALLENGES = 50
DID_METHODS = ("did:key:", "did:web:")
NO_SUCH_CHALLENGE = "No such challenge"


class CredentialVerifier(Protocol):
    """Resolves keys and verifies credentials (did:key, this service's issuers, other did:web)."""

    def key_resolver(self, session: Session, settings: Settings) -> KeyResolver:
        """The key resolver verification uses."""
        ...

    def verify(
        self,
        session: Session,
        settings: Settings,
        source: Mapping[str, Any] | str | bytes,
        *,
        keystore: Keystore | None = None,
        now: datetime | None = None,
    ) -> VerificationReport:
        """Verify ``source`` as of ``now``; never raises for bad input."""
        ...


def create_challenge(
    session: Session, settings: Settings, credential_id: str, did: str, *, now: datetime
) -> EndorsementChallenge:
    """A fresh challenge for ``did`` to sign before endorsing ``credential_id``. Raises
    :class:`NotFound`, :class:`Conflict`, :class:`InvalidEndorsementRequest` (a DID method
    other than did:key and did:web) or :class:`TooManyRequests`."""
    credential = endorsable(session, credential_id, now)
    if not did.startswith(DID_METHODS):
        raise InvalidEndorsementRequest(
            "Only did:key and did:web endorsers are supported", code="unsupported_did_method"
        )
    open_challenges = session.exec(
        select(func.count())
        .select_from(EndorsementChallenge)
        .where(
            EndorsementChallenge.credential_id == credential.id,
            col(EndorsementChallenge.used_at).is_(None),
            col(EndorsementChallenge.expires_at) > now,
        )
    ).one()
    if open_challenges >= MAX_OPEN_CHALLENGES:
        raise TooManyRequests("Too many open challenges for this credential; try again later")
    challenge = EndorsementChallenge(
        credential_id=credential.id,
        did=did,
        nonce=secrets.token_urlsafe(32),
        expires_at=now + CHALLENGE_TTL,
        created_at=now,
    )
    session.add(challenge)
    session.flush()
    return challenge


def spend_challenge(
    session: Session, credential_id: str, challenge_id: str, now: datetime
) -> EndorsementChallenge | None:
    """Mark a challenge of ``credential_id`` used, whatever comes next; returns it, or None when
    there is no such challenge or it was already used. Run it in a transaction of its own."""
    challenge = session.get(EndorsementChallenge, challenge_id)
    if challenge is None or challenge.credential_id != credential_id:
        return None
    spent = (
        session.connection()
        .execute(
            update(EndorsementChallenge)
            .where(col(EndorsementChallenge.id) == challenge_id, col(EndorsementChallenge.used_at).is_(None))
            .values(used_at=now)
        )
        .rowcount
    )
    return challenge if spent == 1 else None


def submit_signed_endorsement(
    session: Session,
    settings: Settings,
    keystore: Keystore,
    credential_id: str,
    challenge: EndorsementChallenge | None,
    *,
    verifier: CredentialVerifier,
    proof: str,
    endorsement: dict[str, Any] | str,
    now: datetime,
) -> Endorsement:
    """Store an EndorsementCredential signed by the client's DID, after checking the signed
    ``challenge`` (already spent by :func:`spend_challenge`; None: unknown or used) and the
    endorsement (issuer = the DID, subject = the credential, verifies with eddsa-rdfc-2022).
    Raises :class:`NotFound`, :class:`Conflict` or :class:`InvalidEndorsementRequest`."""
    if challenge is None:
        raise NotFound(f"{NO_SUCH_CHALLENGE} (or it was already used): ask for a new one")
    if challenge.expires_at <= now:
        raise Conflict("The challenge has expired: ask for a new one", code="challenge_expired")
    credential = endorsable(session, credential_id, now)
    audience = credential_url(settings, credential.id)
    try:
        verify_control_proof(
            proof,
            did=challenge.did,
            nonce=challenge.nonce,
            audience=audience,
            key_resolver=verifier.key_resolver(session, settings),
        )
    except ControlProofError as err:
        raise InvalidEndorsementRequest(
            f"The proof does not show control of {challenge.did}: {err.code}: {err}", code="invalid_control_proof"
        ) from err
    document, text = _parse_submitted(endorsement)
    try:
        facts = read_endorsement(document)
    except InvalidEndorsement as err:
        raise InvalidEndorsementRequest(str(err), code="invalid_endorsement") from err
    if describes_endorser(document):
        # the property says "the issuer signed for this person"; a self-signed endorsement's
        # endorser is its issuer (issue 9, item 4)
        raise InvalidEndorsementRequest(
            f"credentialSubject.{ENDORSER_PROPERTY} is for endorsements an issuer signs on a client's behalf; "
            "yours is described by its issuer",
            code="invalid_endorsement",
        )
    if facts.endorser_id != challenge.did:
        raise InvalidEndorsementRequest(
            f"The endorsement's issuer is {facts.endorser_id}, not the DID whose control was proven ({challenge.did})",
            code="endorser_mismatch",
        )
    if facts.subject_id != audience:
        raise InvalidEndorsementRequest(
            f"credentialSubject.id must be the endorsed credential, {audience}", code="subject_mismatch"
        )
    report = verifier.verify(session, settings, document, keystore=keystore, now=now)
    proof_check = report.check("proof")
    if not report.verified or proof_check is None or proof_check.outcome != "passed":
        problems = "; ".join(
            f"{c.id}: {c.reason}"
            for c in report.checks
            if c.outcome == "failed" or (c.id == "proof" and c.outcome != "passed")
        )
        raise InvalidEndorsementRequest(f"The endorsement does not verify: {problems}", code="endorsement_not_verified")
    return store(session, credential, document, text, kind=EndorsementKind.self_signed, now=now)


def _parse_submitted(endorsement: dict[str, Any] | str) -> tuple[dict[str, Any], str]:
    """The submitted endorsement as an object, and the text to keep (the text as sent, when it
    was sent as text)."""
    if isinstance(endorsement, str):
        try:
            document = json.loads(endorsement)
        except (ValueError, RecursionError) as err:
            raise InvalidEndorsementRequest("endorsement: not JSON", code="invalid_endorsement") from err
        if not isinstance(document, dict):
            raise InvalidEndorsementRequest("endorsement: not a JSON object", code="invalid_endorsement")
        return document, endorsement
    return endorsement, json.dumps(endorsement, ensure_ascii=False, indent=2)
