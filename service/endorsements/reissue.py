"""Reissuing a credential with its accepted endorsements embedded. No FastAPI here, and nothing
commits.

OB 3.0 lets an AchievementCredential carry endorsements of itself (``endorsement``: a list of
signed EndorsementCredentials). An endorsement cannot be added to a signed credential, so the
earner (or the issuer's staff) asks for a *reissue*: a new credential, issued like a renewal
(``replaces_id`` names the old one, which stays valid until its own end unless revoked), with the
same recipient, ``validUntil``, evidence, results and assessment statement, for the achievement's
current version (as a renewal is; results that no longer fit it make the reissue fail), and with
``endorsement`` = the old credential's accepted endorsements plus those it already embedded
(except any the earner has since hidden or the issuer has revoked). Embedded endorsements keep
their own subject (the credential they were written about) and their own proofs; the
verification report checks each one as ``endorsements.<n>``.

Who may reissue: the earner the credential was issued to (the service then issues it, on their
request: the audit names them), an admin, or an issuer admin of the credential's issuer.
"""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session, col, select

from service.accounts.models import Account, Role
from service.audit.service import record
from service.core.config import Settings
from service.core.errors import Conflict, Forbidden
from service.core.keystore import Keystore
from service.core.models import utcnow
from service.credentials.entry_points import reissue_with_endorsements
from service.credentials.models import Credential, CredentialState
from service.credentials.service import get_credential, recipient_of
from service.endorsements.models import Endorsement, EndorsementState
from service.endorsements.service import accepted_endorsements, owns
from service.vc import openbadges as ob
from service.vc.skillcred import read_assessment

REISSUING_ROLES = frozenset({Role.admin, Role.issuer_admin})


def endorsements_to_embed(session: Session, credential: Credential) -> list[dict[str, Any]]:
    """The signed endorsements a reissue of ``credential`` embeds: those it already embeds, unless
    the earner has hidden them or the issuer revoked them since, then its accepted ones; each
    endorsement once (by ``id``)."""
    document = json.loads(credential.jsonld)
    embedded = document.get("endorsement")
    candidates = [e for e in embedded if isinstance(e, dict)] if isinstance(embedded, list) else []
    candidates += [json.loads(e.jsonld) for e in accepted_endorsements(session, credential.id)]
    hidden = set(
        session.exec(
            select(Endorsement.endorsement_uri).where(
                col(Endorsement.state).in_([EndorsementState.hidden, EndorsementState.revoked]),
                col(Endorsement.endorsement_uri).in_([str(e.get("id")) for e in candidates]),
            )
        )
    )
    chosen: dict[str, dict[str, Any]] = {}
    for endorsement in candidates:
        uri = str(endorsement.get("id"))
        if uri not in hidden and uri not in chosen:
            chosen[uri] = endorsement
    return list(chosen.values())


def _stored_results(document: dict[str, Any]) -> list[ob.Result]:
    subject = document.get("credentialSubject")
    results = subject.get("result") if isinstance(subject, dict) else None
    return [
        ob.Result(
            result_description=r["resultDescription"],
            value=r.get("value"),
            achieved_level=r.get("achievedLevel"),
            status=r.get("status"),
        )
        for r in results or []
        if isinstance(r, dict) and isinstance(r.get("resultDescription"), str)
    ]


def _stored_evidence(document: dict[str, Any]) -> list[dict[str, Any]]:
    evidence = document.get("evidence")
    return [item for item in evidence if isinstance(item, dict)] if isinstance(evidence, list) else []


def reissue_credential(
    session: Session, keystore: Keystore, settings: Settings, credential_id: str, *, actor: Account
) -> Credential:
    """Issue a new credential replacing ``credential_id``, with its endorsements embedded (see the
    module docstring). Raises :class:`NotFound` (also when ``actor`` may not see it),
    :class:`Forbidden` (a reviewer, or an earner's credential someone else holds), :class:`Conflict`
    (revoked, suspended or expired: renew an expired one instead) or
    :class:`~service.credentials.errors.InvalidCredentialRequest` (e.g. the achievement changed so
    that the old results no longer fit it)."""
    old = get_credential(session, credential_id, viewer=actor)
    by_earner = owns(session, actor, old)
    if not by_earner and actor.role not in REISSUING_ROLES:
        raise Forbidden("Only the earner or the issuer's admins may reissue a credential")
    if old.state != CredentialState.active:
        raise Conflict(
            f"The credential is {old.state}; only an active credential is reissued", code=f"credential_{old.state}"
        )
    if old.valid_until is not None and old.valid_until <= utcnow():
        raise Conflict("The credential has expired: renew it instead", code="credential_expired")
    document = json.loads(old.jsonld)
    embedded = endorsements_to_embed(session, old)
    identity = recipient_of(session, old)
    new = reissue_with_endorsements(
        session,
        keystore,
        settings,
        old,
        recipient={"email": identity.email} if identity.kind == "email" else {"did": identity.did},
        evidence=_stored_evidence(document),
        results=_stored_results(document),
        assessment=read_assessment(document),
        endorsements=embedded,
        requested_by=actor,
        now=utcnow(),
    )
    record(
        session,
        action="credential.reissue",
        object_type="credential",
        object_id=old.id,
        actor=actor,
        issuer_id=old.issuer_id,
        before={"state": str(old.state), "endorsements": len(document.get("endorsement") or [])},
        after={"replaced_by": new.id, "endorsements": [str(e.get("id")) for e in embedded]},
    )
    return new
