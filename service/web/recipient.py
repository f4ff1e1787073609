"""Who the badge page says the credential belongs to, and "Is this you?".

The earner chooses (``Credential.show_name``) whether the page shows their display name; it is
shown only when they chose to and when the credential's recipient is an account that proved its
email address (the account whose verified address is the recipient's) and has a display name.
Otherwise the page says how the recipient is identified: a hashed email address, a DID.

"Is this you?": a client who was given an email address can check it against the credential's
hashed identity (OB 3.0 ``identityHash`` = ``sha256$`` + hex sha256(email + salt)), in the browser
(``static/badge.js``) or on the server (:func:`email_matches`), which never stores or logs the
address. No FastAPI here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlmodel import Session

from service.accounts.models import Account
from service.credentials.models import Credential, RecipientIdentity
from service.vc import openbadges as ob

MAX_EMAIL_CHARS = 320
_ACCOUNTS = cast(sa.Table, Account.__table__)  # type: ignore[attr-defined]
_RECIPIENTS = cast(sa.Table, RecipientIdentity.__table__)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class EmailIdentity:
    """A hashed email identity of the credential, as the browser check needs it (both are public:
    they are in the signed credential)."""

    hash: str
    """The hex digest, lower case, without the ``sha256$`` prefix."""
    salt: str


def display_name(session: Session, credential: Credential) -> str | None:
    """The earner's display name when the page may show it: the earner chose to, and the
    recipient's email address belongs to an account that verified it and has a name."""
    if not credential.show_name:
        return None
    accounts, recipients = _ACCOUNTS.c, _RECIPIENTS.c
    statement = (
        sa.select(accounts.display_name)
        .select_from(_RECIPIENTS)
        .join(_ACCOUNTS, sa.and_(accounts.email == recipients.email, accounts.email_verified_at.is_not(None)))
        .where(recipients.id == credential.recipient_id, recipients.kind == "email")
    )
    name = session.execute(statement).scalar_one_or_none()
    return name.strip() or None if isinstance(name, str) else None


def _subject(document: dict[str, Any]) -> dict[str, Any]:
    subject = document.get("credentialSubject")
    return subject if isinstance(subject, dict) else {}


def _identities(document: dict[str, Any]) -> list[dict[str, Any]]:
    identifiers = _subject(document).get("identifier")
    return [i for i in identifiers if isinstance(i, dict)] if isinstance(identifiers, list) else []


def recipient_labels(document: dict[str, Any]) -> list[str]:
    """How the credential identifies its recipient, in words, never the value of an email or other
    identifier: "a DID: did:key:...", "a hashed email address", "an email address (not shown)"."""
    labels = []
    subject_id = _subject(document).get("id")
    if isinstance(subject_id, str) and subject_id.startswith("did:"):
        labels.append(f"a DID: {subject_id}")
    for identity in _identities(document):
        kind = "email address" if identity.get("identityType") == "emailAddress" else "identifier"
        labels.append(f"a hashed {kind}" if identity.get("hashed") is True else f"an {kind} (not shown)")
    return labels


def email_identities(document: dict[str, Any]) -> list[EmailIdentity]:
    """The credential's hashed SHA-256 email identities (what a browser can check an address against)."""
    found = []
    for identity in _identities(document):
        claimed = identity.get("identityHash")
        salt = identity.get("salt")
        if (
            identity.get("identityType") == "emailAddress"
            and identity.get("hashed") is True
            and isinstance(claimed, str)
            and claimed.lower().startswith("sha256$")
        ):
            found.append(EmailIdentity(claimed[7:].lower(), salt if isinstance(salt, str) else ""))
    return found


def has_email_identity(document: dict[str, Any]) -> bool:
    """Whether the credential identifies its recipient by an email address at all."""
    return any(identity.get("identityType") == "emailAddress" for identity in _identities(document))


def email_matches(document: dict[str, Any], email: str) -> bool:
    """Whether ``email`` is the address the credential was issued to (as typed, or trimmed and
    lower-cased as issuance normalises it; constant-time comparison). The address is not kept."""
    if not email or len(email) > MAX_EMAIL_CHARS:
        return False
    return any(ob.identity_matches(identity, email) for identity in _identities(document))
