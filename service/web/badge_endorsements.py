"""What the public badge page shows of a credential's endorsements.

Two sources, each endorsement once: the endorsements the signed credential itself embeds (a
reissued credential: what was signed is what is shown), then the earner's accepted endorsements
of this credential that it does not embed yet. Pending and hidden endorsements are never shown
(an embedded one is part of the signed credential, so it is shown whatever the earner decided
since), and revoked ones never, embedded or not: the issuer withdrew them.

An endorsement the issuer signed on a client's behalf names the client as the endorser (from
``credentialSubject.endorser``, or, in those signed before December 2026, from the ``issuer``
Profile, where SkillCred then put the client's name) and says what was checked: the client's
email address, not their name.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlmodel import Session

from service.core.errors import NotFound
from service.credentials.models import Credential
from service.endorsements.credential import InvalidEndorsement, read_endorsement
from service.endorsements.models import Endorsement, EndorsementKind, EndorsementState
from service.endorsements.service import accepted_endorsements, endorsements_by_uri
from service.issuers.service import get_issuer


def _date(value: str) -> str:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).strftime("%d %B %Y")
    except ValueError:
        return value


def _signed_by(row: Endorsement | None, endorser_id: str, issuer_name: str, *, on_behalf: bool = False) -> str:
    if on_behalf or (row is not None and row.kind == EndorsementKind.issuer_signed):
        return f"name as they gave it; email address confirmed and signed on their behalf by {issuer_name}"
    return f"signed with their own key ({endorser_id})"


def _issuer_name(session: Session, credential: Credential) -> str:
    try:
        return get_issuer(session, credential.issuer_id).name
    except NotFound:
        return "the issuer"


def _embedded(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The endorsements the signed credential carries (``endorsement``), as sent."""
    embedded = document.get("endorsement")
    return [e for e in embedded if isinstance(e, dict)] if isinstance(embedded, list) else []


def _embedded_views(
    session: Session, documents: list[dict[str, Any]], issuer_name: str, seen: set[str]
) -> list[dict[str, Any]]:
    """The embedded endorsements to show (readable ones, each once), adding their URIs to ``seen``;
    linked when the earner has accepted the stored copy (it is public)."""
    rows = endorsements_by_uri(session, [str(e.get("id")) for e in documents])
    shown: list[dict[str, Any]] = []
    for endorsement in documents:
        try:
            facts = read_endorsement(endorsement)
        except InvalidEndorsement:
            continue
        if facts.uri in seen:
            continue
        seen.add(facts.uri)
        row = rows.get(facts.uri)
        if row is not None and row.state == EndorsementState.revoked:
            continue
        public = row is not None and row.state == EndorsementState.accepted
        shown.append(
            {
                "name": facts.endorser_name,
                "comment": facts.comment,
                "date": _date(facts.valid_from),
                "signed_by": _signed_by(row, facts.endorser_id, issuer_name, on_behalf=facts.on_behalf),
                "url": f"../endorsements/{row.id}" if public and row else None,
            }
        )
    return shown


def _accepted_views(session: Session, credential: Credential, issuer_name: str, seen: set[str]) -> list[dict[str, Any]]:
    """The credential's accepted endorsements not in ``seen`` (not embedded), oldest first."""
    shown: list[dict[str, Any]] = []
    for row in accepted_endorsements(session, credential.id):
        if row.endorsement_uri in seen:
            continue
        seen.add(row.endorsement_uri)
        facts = read_endorsement(json.loads(row.jsonld))
        shown.append(
            {
                "name": row.endorser_name,
                "comment": row.comment,
                "date": _date(facts.valid_from),
                "signed_by": _signed_by(row, row.endorser_id, issuer_name),
                "url": f"../endorsements/{row.id}",
            }
        )
    return shown


def page_endorsements(session: Session, credential: Credential, document: dict[str, Any]) -> list[dict[str, Any]]:
    """The endorsements to show on ``credential``'s page (never a revoked one): endorser name,
    comment, date, how it was signed, and the relative link to the signed endorsement when it is
    public."""
    issuer_name = _issuer_name(session, credential)
    seen: set[str] = set()
    embedded = _embedded_views(session, _embedded(document), issuer_name, seen)
    return embedded + _accepted_views(session, credential, issuer_name, seen)
