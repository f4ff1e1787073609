"""Open Badges 3.0 ``EndorsementCredential``: building the one SkillCred signs on a client's behalf,
and reading the facts the service keeps from any endorsement (its own or a client's).

An endorsement of an issued credential::

    {"@context": [VC 2.0, OB 3.0.3, OB extensions],
     "id": "<public_url>/endorsements/<id>",
     "type": ["VerifiableCredential", "EndorsementCredential"],
     "name": "Endorsement by Grace Client",
     "issuer": <the endorser's Profile>,
     "validFrom": "...",
     "credentialSubject": {"id": "<the endorsed credential's id URL>",
                           "type": ["EndorsementSubject"],
                           "endorsementComment": "<statement>\\n\\nEngagement: ..."},
     "credentialSchema": [the 1EdTech EndorsementCredential schema],
     "proof": [eddsa-rdfc-2022]}

**Signed on the client's behalf.** OB 3.0 has no "signed on behalf of": an endorsement's
``issuer`` *is* the endorser, and a verifier accepts the proof only when the signing key belongs
to ``issuer.id``. So the ``issuer`` Profile carries the signing issuer's DID as its ``id`` (which
is what the signature proves) and describes the endorser: ``name`` is the client's name,
``description`` says that the issuer confirmed the client's email address and signed for them,
and ``otherIdentifier`` holds the confirmed address as a salted hash (never the address)::

    {"type": "IdentifierEntry", "identifierType": "ext:hashedEmailAddress",
     "identifier": "sha256$<hex>;salt=<salt>"}

where ``<hex>`` is SHA-256 of the address (trimmed, lower-cased) followed by the salt: OB 3.0's
``IdentityHash`` construction, as for a hashed recipient. (An ``IdentifierEntry`` has no ``salt``
member and the OB contexts define no other place for one on a Profile.) Whoever knows the
address can check it with :func:`endorser_email_matches`.

**Signed by the client.** A client with their own DID signs the whole EndorsementCredential;
its ``issuer`` is their DID and SkillCred stores it verbatim (see :mod:`.service`).

Pure: no database, no HTTP.
"""

from __future__ import annotations

import copy
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from service.vc import openbadges as ob
from service.vc.constants import CREDENTIALS_V2, OB_V3P0_CONTEXT, OB_V3P0_EXTENSIONS
from service.vc.errors import VCError
from service.vc.schema_validation import PURL_SCHEMA_BASE

ENDORSEMENT_SCHEMA_URL = PURL_SCHEMA_BASE + "ob_v3p0_endorsementcredential_schema.json"
ENDORSEMENT_TYPE = "EndorsementCredential"
ENDORSEMENT_SUBJECT_TYPE = "EndorsementSubject"
HASHED_EMAIL_IDENTIFIER_TYPE = "ext:hashedEmailAddress"

_HASHED_EMAIL = re.compile(r"(sha256\$[0-9a-f]{64});salt=([0-9A-Za-z]{1,64})")


class InvalidEndorsement(VCError):
    """A document is not an endorsement SkillCred can keep (wrong type, subject, issuer...)."""

    code = "invalid_endorsement"


@dataclass(frozen=True)
class Engagement:
    """The work the client hired the earner for (every part optional)."""

    project_name: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    contract_id: str | None = None

    def describe(self) -> str | None:
        """``project X; 2025-01-01 to 2025-03-31; platform contract C-1``, or None when empty."""
        parts = []
        if self.project_name:
            parts.append(f"project {self.project_name}")
        if self.start_date and self.end_date:
            parts.append(f"{self.start_date.isoformat()} to {self.end_date.isoformat()}")
        elif self.start_date:
            parts.append(f"from {self.start_date.isoformat()}")
        elif self.end_date:
            parts.append(f"until {self.end_date.isoformat()}")
        if self.contract_id:
            parts.append(f"platform contract {self.contract_id}")
        return "; ".join(parts) or None

    def to_json(self) -> dict[str, str]:
        return {
            key: value.isoformat() if isinstance(value, date) else value
            for key, value in vars(self).items()
            if value is not None
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Engagement:
        def day(value: Any) -> date | None:
            return date.fromisoformat(value) if isinstance(value, str) else None

        return cls(
            project_name=data.get("project_name"),
            start_date=day(data.get("start_date")),
            end_date=day(data.get("end_date")),
            contract_id=data.get("contract_id"),
        )


def endorsement_comment(statement: str, engagement: Engagement | None) -> str:
    """The ``endorsementComment``: the client's statement, then the engagement when given."""
    described = None if engagement is None else engagement.describe()
    return statement.strip() + (f"\n\nEngagement: {described}" if described else "")


def hashed_email_identifier(email: str, salt: str | None = None) -> dict[str, str]:
    """An ``IdentifierEntry`` holding ``email`` as ``sha256$<hex>;salt=<salt>`` (see the module
    docstring). A random 128-bit salt is drawn when none is given."""
    salt = secrets.token_hex(16) if salt is None else salt
    identity = ob.hashed_email_identity(email.strip().lower(), salt)
    return {
        "type": "IdentifierEntry",
        "identifierType": HASHED_EMAIL_IDENTIFIER_TYPE,
        "identifier": f"{identity['identityHash']};salt={salt}",
    }


def endorser_email_matches(endorsement: Mapping[str, Any], email: str) -> bool:
    """True when the endorsement's issuer Profile carries ``email`` as a hashed identifier."""
    issuer = endorsement.get("issuer")
    identifiers = issuer.get("otherIdentifier") if isinstance(issuer, Mapping) else None
    for entry in identifiers if isinstance(identifiers, list) else []:
        if not isinstance(entry, Mapping) or entry.get("identifierType") != HASHED_EMAIL_IDENTIFIER_TYPE:
            continue
        match = _HASHED_EMAIL.fullmatch(str(entry.get("identifier", "")))
        if match and ob.identity_matches(
            {"identityType": "emailAddress", "hashed": True, "identityHash": match.group(1), "salt": match.group(2)},
            email,
        ):
            return True
    return False


def build_issuer_signed_endorsement(
    *,
    endorsement_id: str,
    issuer_did: str,
    issuer_name: str,
    endorser_name: str,
    endorser_email: str,
    subject_id: str,
    achievement_name: str,
    comment: str,
    valid_from: datetime,
    salt: str | None = None,
) -> dict[str, Any]:
    """The unsigned EndorsementCredential the issuer signs for a client whose email address it
    confirmed (see the module docstring for why the issuer Profile looks as it does)."""
    return {
        "@context": [CREDENTIALS_V2, OB_V3P0_CONTEXT, OB_V3P0_EXTENSIONS],
        "id": endorsement_id,
        "type": ["VerifiableCredential", ENDORSEMENT_TYPE],
        "name": f"Endorsement by {endorser_name}",
        "description": f"{endorser_name} endorses this {achievement_name} credential.",
        "issuer": {
            "id": issuer_did,
            "type": ["Profile"],
            "name": endorser_name,
            "description": (
                f"{endorser_name} wrote this endorsement. {issuer_name} confirmed their "
                "email address and signed it on their behalf with its own key."
            ),
            "otherIdentifier": [hashed_email_identifier(endorser_email, salt)],
        },
        "validFrom": ob.format_datetime(valid_from, "validFrom"),
        "credentialSubject": {"id": subject_id, "type": [ENDORSEMENT_SUBJECT_TYPE], "endorsementComment": comment},
        "credentialSchema": [{"id": ENDORSEMENT_SCHEMA_URL, "type": ob.JSON_SCHEMA_VALIDATOR_TYPE}],
    }


@dataclass(frozen=True)
class EndorsementFacts:
    """What the service keeps (and shows) of an endorsement, read from the document itself."""

    uri: str
    endorser_id: str
    endorser_name: str
    subject_id: str
    comment: str
    valid_from: str


def _types(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def read_endorsement(document: Any) -> EndorsementFacts:
    """The facts of an EndorsementCredential, or :class:`InvalidEndorsement` when it is not one
    (type, id, issuer, ``credentialSubject`` of type ``EndorsementSubject`` with an id)."""
    if not isinstance(document, Mapping):
        raise InvalidEndorsement("An endorsement is a JSON object")
    if ENDORSEMENT_TYPE not in _types(document.get("type")):
        raise InvalidEndorsement(f"type must include {ENDORSEMENT_TYPE}")
    uri = document.get("id")
    if not isinstance(uri, str) or not uri:
        raise InvalidEndorsement("The endorsement needs an id")
    issuer = document.get("issuer")
    endorser_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    if not isinstance(endorser_id, str) or not endorser_id:
        raise InvalidEndorsement("The endorsement needs an issuer id")
    name = issuer.get("name") if isinstance(issuer, Mapping) else None
    subject = document.get("credentialSubject")
    if not isinstance(subject, Mapping) or ENDORSEMENT_SUBJECT_TYPE not in _types(subject.get("type")):
        raise InvalidEndorsement(f"credentialSubject must be an {ENDORSEMENT_SUBJECT_TYPE}")
    subject_id = subject.get("id")
    if not isinstance(subject_id, str):
        raise InvalidEndorsement("credentialSubject.id must name what is endorsed")
    comment = subject.get("endorsementComment")
    valid_from = document.get("validFrom") or document.get("issuanceDate")
    return EndorsementFacts(
        uri=uri,
        endorser_id=endorser_id,
        endorser_name=(name if isinstance(name, str) and name.strip() else endorser_id)[:200],
        subject_id=subject_id,
        comment=comment if isinstance(comment, str) else "",
        valid_from=valid_from if isinstance(valid_from, str) else "",
    )


def copy_endorsement(document: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy (for embedding: the original stays as stored)."""
    return copy.deepcopy(dict(document))
