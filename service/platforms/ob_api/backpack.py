"""``POST /ims/ob/v3p0/credentials``: a platform stores a credential in an earner's backpack.
No FastAPI here, and nothing commits.

What is stored must be worth storing, so before anything is written the credential is:

1. read: JSON-LD as a UTF-8 JSON object (``application/json``), or a compact JWS (``text/plain``);
2. verified by the service's verifier, as ``POST /v1/verify`` would (format, context, the OB 3.0
   JSON Schema, proof or JWT signature, the issuer's key, dates, status): any failed check refuses
   it, and the refusal names each failed check and why;
3. an ``AchievementCredential`` (or ``OpenBadgeCredential``): an endorsement is not a badge;
4. about the earner whose backpack it is: its ``credentialSubject`` names them by an
   ``IdentityObject`` of type ``emailAddress`` matching their *verified* email address (hashed
   with its salt, or plain), by ``id`` ``mailto:<that address>``, or by ``id`` their profile id
   (``GET /ims/ob/v3p0/profile``); when an issuer's platform acts for an earner it provisioned,
   it vouches for their address, verified or not (as on ``/v1``). A credential about someone else
   is refused: a backpack holds
   its owner's badges, and a platform must not file one earner's badge under another.

The upsert key is the credential's ``id`` (OB 3.0's credential equality: the same ``id`` is the
same credential, whatever its form), else the sha256 of the text. A second upload with the same
key replaces the first (its form may change: a JWS may replace JSON-LD). The text is kept exactly
as sent (a JWS without surrounding whitespace) and served back byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from service.accounts.models import Account
from service.accounts.service import normalise_email, proven_email
from service.audit.service import record
from service.core.config import Settings
from service.core.errors import BadRequest, UnsupportedMediaType
from service.core.keystore import Keystore
from service.platforms.models import StoredCredential
from service.platforms.ob_api.profiles import earner_profile_id
from service.platforms.ob_api.service import Format
from service.vc.openbadges import identity_matches
from service.vc.report import VerificationReport
from service.verification.service import Verifier

JSON_TYPES = frozenset({"application/json", "application/ld+json", "application/vc+ld+json"})
JWS_TYPES = frozenset({"text/plain", "application/vc+jwt", "application/jwt"})
COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+")
"""The OB 3.0 OpenAPI document's pattern of a compact JWS."""
MAX_KEY_LENGTH = 2048
_BADGE_TYPES = frozenset({"AchievementCredential", "OpenBadgeCredential"})


class InvalidCredential(BadRequest):
    """The upload is not a credential this backpack may hold (rendered with code minor ``invalid_data``)."""

    code = "invalid_data"


@dataclass(frozen=True)
class Upload:
    """A credential as sent: its form and the text to store and serve (exactly as sent)."""

    format: Format
    text: str


@dataclass(frozen=True)
class Upserted:
    """The stored credential, and whether the upload created it (else it replaced one)."""

    stored: StoredCredential
    created: bool


def read_upload(body: bytes, media_type: str) -> Upload:
    """The upload in ``body``, by its media type: JSON-LD text or a compact JWS."""
    if media_type not in JSON_TYPES | JWS_TYPES:
        accepted = ", ".join(sorted(JSON_TYPES | JWS_TYPES))
        raise UnsupportedMediaType(
            f"Content-Type {media_type or 'none'} is not accepted; send one of {accepted}",
            code="unsupported_media_type",
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidCredential("The body is not UTF-8 text") from None
    if media_type in JWS_TYPES:
        token = text.strip()
        if COMPACT_JWS.fullmatch(token) is None:
            raise InvalidCredential("A text/plain body must be one compact JWS (header.payload.signature)")
        return Upload("jwt", token)
    try:
        parsed = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as err:
        raise InvalidCredential(f"The body is not JSON: {err}") from None
    if not isinstance(parsed, dict):
        raise InvalidCredential("The body must be a JSON object: an AchievementCredential")
    return Upload("jsonld", text)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def check_report(
    report: VerificationReport, earner: Account, upload: Upload, *, vouched: bool = False
) -> dict[str, Any]:
    """The verified credential, or :class:`InvalidCredential` naming every failed check; also
    refused when it is not a badge (AchievementCredential) or not about ``earner``."""
    failed = [f"{check.id}: {check.reason}" for check in report.checks if check.outcome == "failed"]
    if failed or report.credential is None:
        raise InvalidCredential(
            "The credential does not verify, so it is not stored. Failed checks: " + "; ".join(failed or ["format"])
        )
    expected = "vc-jwt" if upload.format == "jwt" else "json-ld"
    if report.format != expected:
        raise InvalidCredential(f"The body was read as {report.format}, not {expected}")
    credential = report.credential
    types = credential.get("type")
    if not _BADGE_TYPES & set([types] if isinstance(types, str) else types if isinstance(types, list) else []):
        raise InvalidCredential("type: only an AchievementCredential (OpenBadgeCredential) goes in a backpack")
    if not is_about(credential, earner, vouched=vouched):
        raise InvalidCredential(
            "credentialSubject: the credential is not about this earner (it must name them by their verified "
            "email address, as a hashed or plain emailAddress identifier or a mailto: id, or by their profile id)"
        )
    return credential


def is_about(credential: Mapping[str, Any], earner: Account, *, vouched: bool = False) -> bool:
    """Whether ``credentialSubject`` names ``earner`` (see the module's rule 4); ``vouched``: the
    issuer's platform that provisioned the earner vouches for their address, verified or not."""
    email = normalise_email(earner.email) if vouched else proven_email(earner)
    subjects = credential.get("credentialSubject")
    for subject in subjects if isinstance(subjects, list) else [subjects]:
        if not isinstance(subject, Mapping):
            continue
        ids = {earner_profile_id(earner)} | ({f"mailto:{email}"} if email else set())
        if subject.get("id") in ids:
            return True
        identifiers = subject.get("identifier")
        for identity in identifiers if isinstance(identifiers, list) else [identifiers]:
            if email and isinstance(identity, Mapping) and identity_matches(identity, email):
                return True
    return False


def credential_key(credential: Mapping[str, Any], upload: Upload) -> str:
    """What makes two uploads the same credential: its ``id``, else a digest of the text."""
    identifier = credential.get("id")
    if isinstance(identifier, str) and identifier and len(identifier) <= MAX_KEY_LENGTH:
        return identifier
    if isinstance(identifier, str) and identifier:
        return "sha256-id:" + hashlib.sha256(identifier.encode()).hexdigest()
    return "sha256:" + hashlib.sha256(upload.text.encode()).hexdigest()


def upsert(
    session: Session,
    settings: Settings,
    verifier: Verifier,
    keystore: Keystore,
    *,
    earner: Account,
    body: bytes,
    media_type: str,
    client_pk: str | None,
    now: datetime,
    vouched: bool = False,
) -> Upserted:
    """Verify the credential in ``body`` and store it in ``earner``'s backpack, replacing the one
    with the same key; :class:`InvalidCredential` (nothing stored) when it may not go there."""
    upload = read_upload(body, media_type)
    report = verifier.verify(session, settings, upload.text, keystore=keystore, now=now)
    credential = check_report(report, earner, upload, vouched=vouched)
    key = credential_key(credential, upload)
    existing = _stored(session, earner.id, key)
    if existing is None:
        row = StoredCredential(
            account_id=earner.id,
            credential_key=key,
            format=upload.format,
            text=upload.text,
            client_pk=client_pk,
            created_at=now,
            updated_at=now,
        )
        savepoint = session.begin_nested()
        try:
            session.add(row)
            session.flush()
        except IntegrityError:  # a parallel upload of the same credential won: replace it
            savepoint.rollback()
            existing = _stored(session, earner.id, key)
            if existing is None:
                raise
        else:
            savepoint.commit()
            _audit(session, earner, row, created=True)
            return Upserted(row, created=True)
    existing.format = upload.format
    existing.text = upload.text
    existing.client_pk = client_pk
    existing.updated_at = now
    session.add(existing)
    session.flush()
    _audit(session, earner, existing, created=False)
    return Upserted(existing, created=False)


def _audit(session: Session, earner: Account, row: StoredCredential, *, created: bool) -> None:
    """The audit event of a store or replace, in the upsert's transaction: who (the earner; the
    client that acted for them, when one did), which credential (its key and a digest of the text)."""
    record(
        session,
        action="backpack.credential_stored" if created else "backpack.credential_replaced",
        object_type="stored_credential",
        object_id=row.id,
        actor=earner,
        after={
            "credential_key": row.credential_key,
            "format": row.format,
            "sha256": hashlib.sha256(row.text.encode()).hexdigest(),
            "client_pk": row.client_pk,
        },
    )


def _stored(session: Session, account_id: str, key: str) -> StoredCredential | None:
    return session.exec(
        select(StoredCredential).where(
            col(StoredCredential.account_id) == account_id, col(StoredCredential.credential_key) == key
        )
    ).first()
