"""What a submitted credential says about itself, as text for the verify page.

The credential may come from anyone, so every value is read defensively: only strings are taken
(anything else is ignored), each is cut to a sane length, URLs become links only through
:func:`~service.web.links.safe_href`, and nothing is fetched (the achievement's image is not
loaded: it would tell its host who is looking, and it is not part of what was verified). The
templates escape all of it. Pure: no FastAPI, no database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from service.web.links import safe_href
from service.web.report_view import human_date

MAX_TEXT = 2000
MAX_NAME = 300
MAX_ITEMS = 10

IDENTITY_WORDS = {
    "emailaddress": "email address",
    "email": "email address",
    "url": "web address",
    "phone": "phone number",
    "telephone": "phone number",
    "did": "DID",
    "name": "name",
    "studentid": "student id",
    "sourcedid": "sourced id",
    "lissourcedid": "LIS sourced id",
    "ltiuserid": "LTI user id",
    "ltiplatformid": "LTI platform id",
    "identifier": "identifier",
}


@dataclass(frozen=True)
class Link:
    """A value shown as text, and linked when its URL is safe (``href`` None: text only)."""

    text: str
    href: str | None


@dataclass(frozen=True)
class ClaimsView:
    """The credential's own statements: not confirmed unless the report says it verified."""

    achievement: str | None
    description: str | None
    criteria: str | None
    issuer: str | None
    issuer_link: Link | None
    recipient: tuple[str, ...]
    issued: str | None
    expires: str | None
    credential_id: Link | None

    @property
    def empty(self) -> bool:
        """True when the credential states nothing this page shows."""
        return not any((self.achievement, self.issuer, self.recipient, self.issued, self.expires))


def claims_view(credential: Any) -> ClaimsView | None:
    """The claims of ``credential`` (a parsed credential, or anything else: None)."""
    if not isinstance(credential, Mapping):
        return None
    subject = _first_mapping(credential.get("credentialSubject"))
    achievement = _mapping(subject.get("achievement"))
    criteria = _mapping(achievement.get("criteria"))
    issuer = credential.get("issuer")
    issuer_map = _mapping(issuer)
    issuer_id = _text(issuer if isinstance(issuer, str) else issuer_map.get("id"), MAX_NAME)
    issuer_url = _text(issuer_map.get("url"), MAX_NAME)
    link_target = issuer_url or issuer_id
    return ClaimsView(
        achievement=_text(achievement.get("name") or credential.get("name"), MAX_NAME),
        description=_text(achievement.get("description"), MAX_TEXT),
        criteria=_text(criteria.get("narrative"), MAX_TEXT),
        issuer=_text(issuer_map.get("name"), MAX_NAME) or issuer_id,
        issuer_link=Link(link_target, safe_href(link_target)) if link_target else None,
        recipient=_recipient(subject),
        issued=_date(credential.get("validFrom") or credential.get("issuanceDate")),
        expires=_date(credential.get("validUntil") or credential.get("expirationDate")),
        credential_id=_link(credential.get("id")),
    )


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _first_mapping(value: Any) -> Mapping[str, Any]:
    if isinstance(value, list):
        value = value[0] if value else None
    return _mapping(value)


def _text(value: Any, limit: int) -> str | None:
    """A string value, whitespace-trimmed and cut to ``limit`` characters; None otherwise."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _link(value: Any) -> Link | None:
    text = _text(value, MAX_NAME)
    return Link(text, safe_href(text)) if text else None


def _date(value: Any) -> str | None:
    return human_date(value) if isinstance(value, str) else None


def _recipient(subject: Mapping[str, Any]) -> tuple[str, ...]:
    """Who the credential is about, in words: each identifier of the subject, a hashed one
    described but never shown (its hash tells a reader nothing), then the subject's id."""
    found: list[str] = []
    identifiers = subject.get("identifier")
    for identity in (identifiers if isinstance(identifiers, list) else [identifiers])[:MAX_ITEMS]:
        if not isinstance(identity, Mapping):
            continue
        kind = _text(identity.get("identityType"), 60) or "identifier"
        word = IDENTITY_WORDS.get(kind.replace("_", "").replace("-", "").lower(), kind)
        if identity.get("hashed") is True:
            found.append(f"A hashed {word} (only someone who already knows it can check it matches)")
        else:
            value = _text(identity.get("identityHash"), MAX_NAME)
            if value:
                found.append(f"{word[:1].upper()}{word[1:]}: {value}")
    subject_id = _text(subject.get("id"), MAX_NAME)
    if subject_id:
        found.append(f"Identifier: {subject_id}")
    name = _text(subject.get("name"), MAX_NAME)
    if name:
        found.append(f"Name: {name}")
    return tuple(found)
