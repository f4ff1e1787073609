"""What the public badge page shows of a credential's endorsements. No FastAPI here.

Two sources, each endorsement once: the endorsements the signed credential itself embeds (a
reissued credential: what was signed is what is shown), then the earner's accepted endorsements
of this credential that it does not embed yet. Pending and hidden endorsements are never shown
(an embedded one is part of the signed credential, so it is shown whatever its state since).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from service.credentials.models import Credential
from service.endorsements.credential import InvalidEndorsement, read_endorsement
from service.endorsements.models import Endorsement, EndorsementKind, EndorsementState
from service.endorsements.service import accepted_endorsements
from service.issuers.models import Issuer


def _date(value: str) -> str:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).strftime("%d %B %Y")
    except ValueError:
        return value


def _signed_by(row: Endorsement | None, endorser_id: str, issuer_name: str) -> str:
    if row is not None and row.kind == EndorsementKind.issuer_signed:
        return f"email address confirmed; signed on their behalf by {issuer_name}"
    return f"signed with their own key ({endorser_id})"


def page_endorsements(session: Session, credential: Credential, document: dict[str, Any]) -> list[dict[str, Any]]:
    """The endorsements to show on ``credential``'s page: endorser name, comment, date, how it
    was signed, and the relative link to the signed endorsement when it is public."""
    issuer = session.get(Issuer, credential.issuer_id)
    issuer_name = issuer.name if issuer is not None else "the issuer"
    embedded = document.get("endorsement")
    documents = [e for e in embedded if isinstance(e, dict)] if isinstance(embedded, list) else []
    uris = [str(e.get("id")) for e in documents]
    rows = (
        {
            row.endorsement_uri: row
            for row in session.exec(select(Endorsement).where(col(Endorsement.endorsement_uri).in_(uris)))
        }
        if uris
        else {}
    )
    shown: list[dict[str, Any]] = []
    seen: set[str] = set()
    for endorsement in documents:
        try:
            facts = read_endorsement(endorsement)
        except InvalidEndorsement:
            continue
        if facts.uri in seen:
            continue
        seen.add(facts.uri)
        row = rows.get(facts.uri)
        public = row is not None and row.state == EndorsementState.accepted
        shown.append(
            {
                "name": facts.endorser_name,
                "comment": facts.comment,
                "date": _date(facts.valid_from),
                "signed_by": _signed_by(row, facts.endorser_id, issuer_name),
                "url": f"../endorsements/{row.id}" if public and row else None,
            }
        )
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
