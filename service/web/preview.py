"""What a badge's link-preview image says (:class:`service.web.preview_image.Preview`), read from
the signed credential and the credential's row: the achievement, the issuer, the earner's name
only when the page shows it, the issue date, and whether it is revoked, suspended or expired now
(the issuer's own record, so the image is honest without verifying the credential again).
No FastAPI here.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlmodel import Session

from service.credentials.models import Credential
from service.web.badge_skill import achievement_of
from service.web.preview_image import Preview
from service.web.recipient import display_name
from service.web.report_view import human_date


def preview_of(session: Session, credential: Credential, *, now: datetime) -> Preview:
    """The preview of ``credential`` as of ``now``."""
    document = json.loads(credential.jsonld)
    name = achievement_of(document).get("name")
    issuer = document.get("issuer")
    issuer_name = issuer.get("name") if isinstance(issuer, dict) else None
    state = str(credential.state)
    until = credential.valid_until
    if until is not None and until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    word = state.capitalize() if state in ("revoked", "suspended") else None
    if word is None and until is not None and until < now:
        word = "Expired"
    return Preview(
        achievement=name if isinstance(name, str) else "Open Badge",
        issuer=issuer_name if isinstance(issuer_name, str) and issuer_name else "its issuer",
        earner=display_name(session, credential),
        issued=human_date(document.get("validFrom") or document.get("issuanceDate")),
        state=word,
    )
