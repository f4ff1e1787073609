"""Open Badges 3.0 ``EndorsementCredential``: building the one SkillCred signs on a client's behalf,
and reading the facts the service keeps from any endorsement (its own or a client's).

An endorsement the issuer signs for a client whose email address it confirmed::

    {"@context": [VC 2.0, OB 3.0.3, OB extensions, SkillCred v1],
     "id": "<public_url>/endorsements/<id>",
     "type": ["VerifiableCredential", "EndorsementCredential"],
     "name": "Endorsement by Grace Client (email address confirmed by Acme Academy)",
     "description": "...",
     "issuer": <the issuer's own Profile, exactly as its AchievementCredentials carry it>,
     "validFrom": "...",
     "credentialSubject": {
       "id": "<the endorsed credential's id URL>",
       "type": ["EndorsementSubject"],
       "endorsementComment": "<statement>\\n\\nEngagement: ...",
       "endorser": {"type": "SkillCredEndorser",
                    "name": "Grace Client",
                    "description": "<what the issuer checked, and what it did not>",
                    "otherIdentifier": [<the confirmed address, as a salted hash>],
                    "confirmation": "email"}},
     "credentialStatus": <an entry in the issuer's revocation list>,
     "credentialSchema": [the 1EdTech EndorsementCredential schema],
     "proof": [eddsa-rdfc-2022]}

**Who is who.** The ``issuer`` is the issuer, and only the issuer: its DID (which the signature
proves), its own name, url, email, image and description. The person who wrote the endorsement
is described in ``credentialSubject.endorser`` (SkillCred's context defines the term, so it
survives JSON-LD expansion in safe mode and is signed): the name *they gave*, which nobody
verified; ``confirmation: "email"``, meaning the issuer confirmed only that they control an email
address, by a one-time token sent to it (not by their signature); and that address as a salted
hash (never the address)::

    {"type": "IdentifierEntry", "identifierType": "ext:hashedEmailAddress",
     "identifier": "sha256$<hex>;salt=<salt>"}

where ``<hex>`` is SHA-256 of the address (trimmed, lower-cased) followed by the salt: OB 3.0's
``IdentityHash`` construction, as for a hashed recipient. Whoever knows the address can check it
with :func:`endorser_email_matches`. A name the client gives can therefore never become the
issuer's name (issue 9, item 4: "Harvard University Registrar" stays a
self-described endorser under the issuer's own Profile).

*Before December 2026* SkillCred put the client's name in ``issuer.name`` (with the issuer's DID as
``issuer.id``) and the hashed address in ``issuer.otherIdentifier``, without a status entry. Such
stored endorsements stay valid documents: :func:`read_endorsement` and
:func:`endorser_email_matches` still read them, and the badge page labels them as signed by the
issuer on the endorser's behalf.

**Signed by the client.** A client with their own DID signs the whole EndorsementCredential;
its ``issuer`` is their DID and SkillCred stores it verbatim (see :mod:`.service`). Such a
document may not carry ``credentialSubject.endorser`` (:func:`describes_endorser`): that
property says the issuer signed for someone else.

Pure: no database, no HTTP.
"""

from __future__ import annotations

import copy
import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from service.vc import openbadges as ob
from service.vc.constants import CREDENTIALS_V2, OB_V3P0_CONTEXT, OB_V3P0_EXTENSIONS
from service.vc.errors import VCError
from service.vc.schema_validation import PURL_SCHEMA_BASE
from service.vc.skillcred import SKILLCRED_V1

ENDORSEMENT_SCHEMA_URL = PURL_SCHEMA_BASE + "ob_v3p0_endorsementcredential_schema.json"
ENDORSEMENT_TYPE = "EndorsementCredential"
ENDORSEMENT_SUBJECT_TYPE = "EndorsementSubject"
HASHED_EMAIL_IDENTIFIER_TYPE = "ext:hashedEmailAddress"
ENDORSER_PROPERTY = "endorser"
"""``credentialSubject.endorser``: who wrote an endorsement the issuer signed on their behalf."""
ENDORSER_TYPE = "SkillCredEndorser"
EMAIL_CONFIRMATION = "email"
"""``endorser.confirmation``: the issuer confirmed the endorser's email address (a one-time token
sent to it), not their name and not by their signature."""
MAX_ENDORSER_NAME = 200

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


def _identifier_lists(endorsement: Mapping[str, Any]) -> list[Any]:
    """The ``otherIdentifier`` lists that may hold the endorser's hashed address: the endorser's
    (``credentialSubject.endorser``), then the issuer Profile's (endorsements signed before the
    endorser had a property of its own)."""
    found = []
    endorser = endorser_node(endorsement)
    if endorser is not None:
        found.append(endorser.get("otherIdentifier"))
    issuer = endorsement.get("issuer")
    if isinstance(issuer, Mapping):
        found.append(issuer.get("otherIdentifier"))
    return [entries for entries in found if isinstance(entries, list)]


def endorser_email_matches(endorsement: Mapping[str, Any], email: str) -> bool:
    """True when the endorsement carries ``email`` as the endorser's hashed identifier."""
    for identifiers in _identifier_lists(endorsement):
        for entry in identifiers:
            if not isinstance(entry, Mapping) or entry.get("identifierType") != HASHED_EMAIL_IDENTIFIER_TYPE:
                continue
            match = _HASHED_EMAIL.fullmatch(str(entry.get("identifier", "")))
            if match and ob.identity_matches(
                {
                    "identityType": "emailAddress",
                    "hashed": True,
                    "identityHash": match.group(1),
                    "salt": match.group(2),
                },
                email,
            ):
                return True
    return False


def _comparable(name: str) -> str:
    """``name`` as people read it: NFKC, case-folded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def endorser_name_problem(name: str, issuer_name: str | None = None) -> str | None:
    """Why ``name`` cannot be an endorser's name, or None when it can.

    Refused: empty or over :data:`MAX_ENDORSER_NAME` characters; any control, format (bidi
    overrides, zero-width characters), private-use, unassigned or line/paragraph separator
    character; an identifier instead of a name (a DID or a URL); and ``issuer_name`` itself,
    compared as people read it (an endorser claiming to be the issuer that signs for them).
    """
    if not name.strip():
        return "the name is empty"
    if len(name) > MAX_ENDORSER_NAME:
        return f"the name is over {MAX_ENDORSER_NAME} characters"
    for character in name:
        category = unicodedata.category(character)
        if category[0] == "C" or category in ("Zl", "Zp"):
            return f"the name contains the character U+{ord(character):04X} ({category})"
    readable = _comparable(name)
    if readable.startswith("did:") or "://" in readable:
        return "give a name, not a DID or a URL"
    if issuer_name is not None and readable == _comparable(issuer_name):
        return "an endorser cannot take the name of the issuer that signs for them"
    return None


def endorser_description(issuer_name: str) -> str:
    """What ``credentialSubject.endorser`` says about itself: what the issuer checked, and not."""
    return (
        "The person who wrote this endorsement, under the name they gave. "
        f"{issuer_name} confirmed only that they control the email address hashed in otherIdentifier "
        "(a one-time token was sent to it); it did not verify their name. "
        f"They did not sign this endorsement: {issuer_name} signed it on their behalf."
    )


def build_issuer_signed_endorsement(
    *,
    endorsement_id: str,
    issuer: ob.IssuerProfile,
    endorser_name: str,
    endorser_email: str,
    subject_id: str,
    achievement_name: str,
    comment: str,
    valid_from: datetime,
    status_entry: Mapping[str, Any] | None,
    salt: str | None = None,
) -> dict[str, Any]:
    """The unsigned EndorsementCredential the issuer signs for a client whose email address it
    confirmed: ``issuer`` is the issuer's own Profile; the client is ``credentialSubject.endorser``
    (see the module docstring). ``status_entry``: its entry in the issuer's revocation list."""
    problem = endorser_name_problem(endorser_name, issuer.name)
    if problem is not None:
        raise InvalidEndorsement(f"endorser name: {problem}")
    document: dict[str, Any] = {
        "@context": [CREDENTIALS_V2, OB_V3P0_CONTEXT, OB_V3P0_EXTENSIONS, SKILLCRED_V1],
        "id": endorsement_id,
        "type": ["VerifiableCredential", ENDORSEMENT_TYPE],
        "name": f"Endorsement by {endorser_name} (email address confirmed by {issuer.name})",
        "description": (
            f"{endorser_name} endorses this {achievement_name} credential. {issuer.name} confirmed their "
            "email address and signed this endorsement on their behalf; see credentialSubject.endorser."
        ),
        "issuer": ob.build_profile(issuer),
        "validFrom": ob.format_datetime(valid_from, "validFrom"),
        "credentialSubject": {
            "id": subject_id,
            "type": [ENDORSEMENT_SUBJECT_TYPE],
            "endorsementComment": comment,
            ENDORSER_PROPERTY: {
                "type": ENDORSER_TYPE,
                "name": endorser_name,
                "description": endorser_description(issuer.name),
                "otherIdentifier": [hashed_email_identifier(endorser_email, salt)],
                "confirmation": EMAIL_CONFIRMATION,
            },
        },
    }
    if status_entry is not None:
        document["credentialStatus"] = dict(status_entry)
    document["credentialSchema"] = [{"id": ENDORSEMENT_SCHEMA_URL, "type": ob.JSON_SCHEMA_VALIDATOR_TYPE}]
    return document


def endorser_node(document: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """``credentialSubject.endorser`` when it is a :data:`ENDORSER_TYPE` object, else None."""
    subject = document.get("credentialSubject")
    node = subject.get(ENDORSER_PROPERTY) if isinstance(subject, Mapping) else None
    return node if isinstance(node, Mapping) and ENDORSER_TYPE in _types(node.get("type")) else None


def describes_endorser(document: Mapping[str, Any]) -> bool:
    """True when the document has a ``credentialSubject.endorser`` property of any shape (only
    the endorsements SkillCred's issuers sign on a client's behalf may)."""
    subject = document.get("credentialSubject")
    subjects = subject if isinstance(subject, list) else [subject]
    return any(isinstance(item, Mapping) and ENDORSER_PROPERTY in item for item in subjects)


@dataclass(frozen=True)
class EndorsementFacts:
    """What the service keeps (and shows) of an endorsement, read from the document itself."""

    uri: str
    endorser_id: str
    """The ``issuer`` id: who signed (the issuer itself when it signed on the endorser's behalf)."""
    endorser_name: str
    """The endorser's name: ``credentialSubject.endorser.name`` when the issuer signed on their
    behalf, else the ``issuer`` Profile's name (or its id)."""
    subject_id: str
    comment: str
    valid_from: str
    on_behalf: bool = False
    """True when the document describes its endorser in ``credentialSubject.endorser``."""


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
    endorser = endorser_node(document)
    if endorser is not None:
        name = endorser.get("name")
    return EndorsementFacts(
        uri=uri,
        endorser_id=endorser_id,
        endorser_name=(name if isinstance(name, str) and name.strip() else endorser_id)[:MAX_ENDORSER_NAME],
        subject_id=subject_id,
        comment=comment if isinstance(comment, str) else "",
        valid_from=valid_from if isinstance(valid_from, str) else "",
        on_behalf=endorser is not None,
    )


def copy_endorsement(document: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy (for embedding: the original stays as stored)."""
    return copy.deepcopy(dict(document))
