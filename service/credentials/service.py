"""Issuing and reading credentials. No FastAPI here, and nothing commits.

Issuing is one unit of work: allocate the credential's revocation and suspension indexes
(:mod:`service.status.allocation`), build the Open Badges 3.0 AchievementCredential from the
achievement's current version with those two ``credentialStatus`` entries, sign it twice (an
embedded eddsa-rdfc-2022 proof and an RS256 VC-JWT of the same unsigned credential), store the
signed JSON-LD text verbatim, the recipient identity and an audit event. The caller's session
commits all of it or none of it. Every check of the request runs before anything is written.

Who sees what: admins see every credential; issuer admins and reviewers their issuer's; earners
the credentials issued to their account's email address. Anyone else gets 404, never 403, so
nobody learns that a credential exists.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from service.accounts.models import Account, Role
from service.accounts.service import normalise_email, proven_email
from service.achievements.models import Achievement
from service.achievements.service import NO_SUCH_ACHIEVEMENT, get_version, ob_achievement
from service.audit.service import record
from service.core.config import Settings
from service.core.errors import Conflict, Forbidden, NotFound, ServiceError
from service.core.keystore import Keystore
from service.core.models import new_id
from service.core.paging import PageParams, paginate
from service.credentials.models import Credential, CredentialState, RecipientIdentity
from service.credentials.refresh import refresh_service_url
from service.credentials.schemas import (
    CredentialLinks,
    CredentialOut,
    CredentialSummary,
    EvidenceIn,
    RecipientOut,
    ResultIn,
    is_did,
)
from service.issuers.service import active_signer, get_issuer, issuer_profile
from service.status.allocation import allocate, record_allocation
from service.vc import data_integrity, jose
from service.vc import openbadges as ob
from service.vc.errors import VCError
from service.vc.skillcred import AssessmentStatement

NO_SUCH_CREDENTIAL = "No such credential"
ISSUING_ROLES = frozenset({Role.admin, Role.issuer_admin})


class InvalidCredentialRequest(ServiceError):
    """The request cannot make a valid credential (a date in the past, an unknown result...)."""

    status_code, code = 422, "invalid_credential_request"


@dataclass(frozen=True)
class Recipient:
    """A parsed recipient: exactly one of an (already normalised) email address or a DID."""

    email: str | None = None
    did: str | None = None

    @classmethod
    def parse(cls, recipient: Mapping[str, Any]) -> Recipient:
        """``{"email": ...}`` or ``{"did": ...}``; anything else is :class:`InvalidCredentialRequest`."""
        keys = {k for k, v in recipient.items() if v is not None}
        if keys == {"email"} and isinstance(recipient["email"], str) and "@" in recipient["email"]:
            return cls(email=normalise_email(recipient["email"]))
        if keys == {"did"} and isinstance(recipient["did"], str) and is_did(recipient["did"]):
            return cls(did=recipient["did"])
        raise InvalidCredentialRequest("recipient: give exactly one of a valid email or a DID")


# --- issuing -----------------------------------------------------------------------------------


def issue_credential(
    session: Session,
    keystore: Keystore,
    settings: Settings,
    *,
    achievement_id: str,
    recipient: Mapping[str, Any],
    valid_until: datetime | None = None,
    evidence: Sequence[EvidenceIn | ob.Evidence | Mapping[str, Any]] = (),
    results: Sequence[ResultIn | ob.Result] = (),
    actor: Account | None,
    replaces: Credential | None = None,
    assessment: AssessmentStatement | None = None,
    authorised_by: Account | None = None,
    endorsements: Sequence[Mapping[str, Any]] = (),
) -> Credential:
    """Issue the current version of an achievement to ``recipient`` (``{"email"}`` or ``{"did"}``).

    ``actor`` None means the service itself (the CLI); an account must be an admin or an issuer
    admin of the achievement's issuer (another issuer's achievement is "not found").
    ``replaces`` is the credential this one renews (see :func:`renew_credential`).
    ``assessment`` states how the skill was judged (``credentialSubject.assessment``).
    ``authorised_by`` (with ``actor`` None): the account whose decision makes the service issue,
    e.g. a reviewer approving an assessment; recorded as ``issued_by`` and the audit actor, its
    role unchecked (the caller checked it). Evidence given as a mapping is an OB 3.0 Evidence
    entry copied as is (e.g. with ``digestMultibase``).
    ``endorsements``: signed EndorsementCredentials to embed (``endorsement``; see
    :mod:`service.endorsements.reissue`). Every credential names its refresh service
    (``refreshService``, :mod:`service.credentials.refresh`).
    Raises :class:`NotFound`, :class:`Forbidden` or :class:`InvalidCredentialRequest`.
    """
    if actor is not None and actor.role not in ISSUING_ROLES:
        raise Forbidden("Your role may not issue credentials")
    achievement = session.get(Achievement, achievement_id)
    if achievement is None or (
        actor is not None and actor.role != Role.admin and actor.issuer_id != achievement.issuer_id
    ):
        raise NotFound(NO_SUCH_ACHIEVEMENT)
    version = get_version(session, achievement.id, achievement.current_version)
    issuer = get_issuer(session, achievement.issuer_id)
    who = Recipient.parse(recipient)
    issued_at = datetime.now(UTC)
    now = issued_at.replace(microsecond=0)  # validFrom: whole seconds, as the credential says
    expires = _valid_until(valid_until, now)
    if expires is None and version.validity_days is not None:
        expires = now + timedelta(days=version.validity_days)
    ob_ach = ob_achievement(settings, achievement, version)
    salt = secrets.token_hex(16) if who.email is not None else None
    credential_uuid = new_id()
    evidence_items = [_evidence(item) for item in evidence]
    result_items = [_result(item, ob_ach) for item in results]
    # last before signing: on SQLite the first write holds the database's write lock until commit
    allocation = allocate(session, settings, issuer.id, credential_uuid)
    try:
        unsigned = ob.build_achievement_credential(
            credential_id=credential_url(settings, credential_uuid),
            issuer=issuer_profile(issuer),
            achievement=ob_ach,
            recipient_did=who.did,
            recipient_identity=None if who.email is None else ob.hashed_email_identity(who.email, salt),
            valid_from=now,
            valid_until=expires,
            evidence=evidence_items,
            results=result_items,
            assessment=assessment,
            endorsements=endorsements,
            refresh_service=refresh_service_url(settings, credential_uuid),
        )
        # VCDM 2.0 allows a set of status entries (the 1EdTech schema one: see schema_validation)
        unsigned["credentialStatus"] = allocation.entries
        ob.validate_credential_strict(unsigned)
        # signing can still refuse a value (JSON-LD safe mode: it would not really be signed)
        signed = data_integrity.sign(unsigned, active_signer(session, keystore, issuer, "EdDSA"), proof_as_list=True)
        vc_jwt = jose.sign_vc_jwt(unsigned, active_signer(session, keystore, issuer, "RS256"))
    except VCError as err:
        raise InvalidCredentialRequest(f"The credential cannot be issued: {err}") from err

    identity = _recipient_identity(session, who)
    credential = Credential(
        id=credential_uuid,
        issuer_id=issuer.id,
        achievement_id=achievement.id,
        achievement_version=version.version,
        recipient_id=identity.id,
        identity_salt=salt,
        jsonld=json.dumps(signed, ensure_ascii=False, indent=2),
        vc_jwt=vc_jwt,
        issued_at=issued_at,
        valid_from=now,
        valid_until=expires,
        state=CredentialState.active,
        issued_by=getattr(actor or authorised_by, "id", None),
        replaces_id=getattr(replaces, "id", None),
    )
    session.add(credential)
    session.flush()
    record(
        session,
        action="credential.issue",
        object_type="credential",
        object_id=credential.id,
        actor=actor or authorised_by,
        issuer_id=issuer.id,
        after={
            "achievement_id": achievement.id,
            "achievement_version": version.version,
            "recipient_id": identity.id,
            "recipient_type": identity.kind,
            "valid_until": signed.get("validUntil"),
            "replaces_id": credential.replaces_id,
            "credential_status": [entry["id"] for entry in allocation.entries],
        },
    )
    record_allocation(session, allocation)
    return credential


def renew_credential(
    session: Session,
    keystore: Keystore,
    settings: Settings,
    credential_id: str,
    *,
    valid_until: datetime | None = None,
    evidence: Sequence[EvidenceIn] | None = None,
    actor: Account | None,
) -> Credential:
    """Issue a new credential that replaces ``credential_id``: the same recipient and achievement
    (its current version), ``replaces_id`` naming the old one. The old credential is left as it
    is (valid until its own end unless revoked).

    ``valid_until`` defaults to the achievement's validity period, else the old credential's
    period length from now, else no expiry; ``evidence`` defaults to the old credential's.
    Results are not carried over (they answer the version they were issued with).
    Raises :class:`NotFound` (also for another issuer's credential), :class:`Forbidden`,
    :class:`Conflict` (revoked or suspended) or :class:`InvalidCredentialRequest`.
    """
    if actor is not None and actor.role not in ISSUING_ROLES:
        raise Forbidden("Your role may not renew credentials")
    old = session.get(Credential, credential_id)
    if old is None or (actor is not None and actor.role != Role.admin and actor.issuer_id != old.issuer_id):
        raise NotFound(NO_SUCH_CREDENTIAL)
    ensure_renewable(old)
    achievement = session.get(Achievement, old.achievement_id)
    assert achievement is not None  # a foreign key guarantees it
    current = get_version(session, achievement.id, achievement.current_version)
    if valid_until is None and current.validity_days is None and old.valid_until is not None:
        valid_until = datetime.now(UTC) + (old.valid_until - old.valid_from)
    identity = recipient_of(session, old)
    recipient = {"email": identity.email} if identity.kind == "email" else {"did": identity.did}
    items: Sequence[EvidenceIn | ob.Evidence] = evidence if evidence is not None else _stored_evidence(old)
    renewed = issue_credential(
        session,
        keystore,
        settings,
        achievement_id=achievement.id,
        recipient=recipient,
        valid_until=valid_until,
        evidence=items,
        actor=actor,
        replaces=old,
    )
    record(
        session,
        action="credential.renew",
        object_type="credential",
        object_id=old.id,
        actor=actor,
        issuer_id=old.issuer_id,
        before={"state": str(old.state), "valid_until": _iso(old.valid_until)},
        after={
            "replaced_by": renewed.id,
            "achievement_version": renewed.achievement_version,
            "valid_until": _iso(renewed.valid_until),
        },
    )
    return renewed


def ensure_renewable(credential: Credential) -> None:
    """Refuse to renew a revoked (409 ``credential_revoked``) or suspended (409
    ``credential_suspended``) credential; an active or expired one may be renewed."""
    if credential.state == CredentialState.revoked:
        raise Conflict("The credential is revoked; a revoked credential cannot be renewed", code="credential_revoked")
    if credential.state == CredentialState.suspended:
        raise Conflict(
            "The credential is suspended; it cannot be renewed until the issuer unsuspends it",
            code="credential_suspended",
        )


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _stored_evidence(credential: Credential) -> list[ob.Evidence]:
    """The evidence the signed credential carries, as the builder takes it."""
    names = ("id", "name", "description", "narrative", "genre", "audience")
    stored = json.loads(credential.jsonld).get("evidence") or []
    return [ob.Evidence(**{name: item.get(name) for name in names}) for item in stored if isinstance(item, dict)]


def credential_url(settings: Settings, credential_id: str) -> str:
    """The credential's public URL, which is also its ``id``."""
    return f"{settings.public_url}/credentials/{credential_id}"


def _valid_until(valid_until: datetime | None, now: datetime) -> datetime | None:
    if valid_until is None:
        return None
    if valid_until.tzinfo is None or valid_until.utcoffset() is None:
        raise InvalidCredentialRequest("valid_until: give a time zone (e.g. 2030-01-01T00:00:00Z)")
    expires = valid_until.astimezone(UTC).replace(microsecond=0)
    if expires <= now:
        raise InvalidCredentialRequest("valid_until: must be in the future")
    return expires


def _evidence(item: EvidenceIn | ob.Evidence | Mapping[str, Any]) -> ob.Evidence | Mapping[str, Any]:
    if isinstance(item, (ob.Evidence, Mapping)):
        return item
    return ob.Evidence(**item.model_dump())


def _by_id_or_name(items: Sequence[Any], reference: str) -> Any:
    return next((i for i in items if i.id == reference), None) or next((i for i in items if i.name == reference), None)


def _result(item: ResultIn | ob.Result, achievement: ob.Achievement) -> ob.Result:
    """A result whose description (and level) is named by id or name, checked and resolved to ids."""
    if isinstance(item, ob.Result):
        return item
    description = _by_id_or_name(achievement.result_descriptions, item.result_description)
    if description is None:
        raise InvalidCredentialRequest(
            f"results: {item.result_description!r} is not a result description of the achievement "
            "(use the id or name of one of its result_descriptions)"
        )
    level = None
    if item.achieved_level is not None:
        level = _by_id_or_name(description.rubric_criterion_levels, item.achieved_level)
        if level is None:
            raise InvalidCredentialRequest(
                f"results: {item.achieved_level!r} is not a rubric level of {description.name!r}"
            )
    if item.value is not None and description.allowed_values and item.value not in description.allowed_values:
        raise InvalidCredentialRequest(f"results: {item.value!r} is not an allowed value of {description.name!r}")
    return ob.Result(
        result_description=description.id,
        value=item.value,
        achieved_level=None if level is None else level.id,
        status=item.status,
    )


def _recipient_identity(session: Session, who: Recipient) -> RecipientIdentity:
    """The recipient's identity row, shared by every credential issued to the same address or DID."""
    if who.email is not None:
        where = (RecipientIdentity.kind == "email", RecipientIdentity.email == who.email)
    else:
        where = (RecipientIdentity.kind == "did", RecipientIdentity.did == who.did)
    identity = session.exec(select(RecipientIdentity).where(*where)).first()
    if identity is None:
        identity = RecipientIdentity(kind="email" if who.email else "did", email=who.email, did=who.did)
        session.add(identity)
        session.flush()
    return identity


# --- reading -----------------------------------------------------------------------------------


def _visible(statement: Any, viewer: Account) -> Any:
    if viewer.role == Role.admin:
        return statement
    if viewer.role in (Role.issuer_admin, Role.reviewer):
        return statement.where(Credential.issuer_id == viewer.issuer_id)
    email = proven_email(viewer)
    if email is None:  # an unverified address could be anyone's
        return statement.where(sa.false())
    return statement.where(RecipientIdentity.kind == "email", RecipientIdentity.email == email)


def get_credential(session: Session, credential_id: str, *, viewer: Account | None = None) -> Credential:
    """The credential, or :class:`NotFound`. With a ``viewer``, only one that viewer may see."""
    if viewer is None:
        credential = session.get(Credential, credential_id)
    else:
        statement = (
            select(Credential)
            .join(RecipientIdentity, col(RecipientIdentity.id) == col(Credential.recipient_id))
            .where(Credential.id == credential_id)
        )
        credential = session.exec(_visible(statement, viewer)).first()
    if credential is None:
        raise NotFound(NO_SUCH_CREDENTIAL)
    return credential


def list_credentials(
    session: Session,
    params: PageParams,
    *,
    viewer: Account,
    issuer_id: str | None = None,
    achievement_id: str | None = None,
    recipient: str | None = None,
) -> tuple[list[tuple[Credential, RecipientIdentity]], int]:
    """One page of the credentials ``viewer`` may see, newest first, with their recipients.

    ``recipient`` is an email address or a DID. Returns (rows, total).
    """
    statement = (
        select(Credential, RecipientIdentity)
        .join(RecipientIdentity, col(RecipientIdentity.id) == col(Credential.recipient_id))
        .order_by(col(Credential.issued_at).desc(), col(Credential.id))
    )
    statement = _visible(statement, viewer)
    if issuer_id is not None:
        statement = statement.where(Credential.issuer_id == issuer_id)
    if achievement_id is not None:
        statement = statement.where(Credential.achievement_id == achievement_id)
    if recipient is not None:
        if recipient.startswith("did:"):
            statement = statement.where(RecipientIdentity.kind == "did", RecipientIdentity.did == recipient)
        elif "@" in recipient:
            statement = statement.where(
                RecipientIdentity.kind == "email", RecipientIdentity.email == normalise_email(recipient)
            )
        else:
            raise InvalidCredentialRequest("recipient: give an email address or a DID")
    rows, total = paginate(session, statement, params)  # type: ignore[arg-type]
    return [(row[0], row[1]) for row in rows], total


def recipient_of(session: Session, credential: Credential) -> RecipientIdentity:
    identity = session.get(RecipientIdentity, credential.recipient_id)
    assert identity is not None  # a foreign key guarantees it
    return identity


# --- views -------------------------------------------------------------------------------------


def summary(settings: Settings, credential: Credential, identity: RecipientIdentity) -> CredentialSummary:
    """The API view of a credential's metadata."""
    url = credential_url(settings, credential.id)
    api = f"{settings.public_url}/v1/credentials/{credential.id}"
    return CredentialSummary(
        id=credential.id,
        url=url,
        issuer_id=credential.issuer_id,
        achievement_id=credential.achievement_id,
        achievement_version=credential.achievement_version,
        recipient=RecipientOut(
            type="email" if identity.kind == "email" else "did", email=identity.email, did=identity.did
        ),
        issued_at=credential.issued_at,
        valid_from=credential.valid_from,
        valid_until=credential.valid_until,
        state=str(credential.state),
        status_changed_at=credential.status_changed_at,
        status_reason=credential.status_reason,
        issued_by=credential.issued_by,
        replaces_id=credential.replaces_id,
        links=CredentialLinks(
            jsonld=f"{api}/jsonld",
            jwt=f"{api}/jwt",
            png=f"{api}/png",
            svg=f"{api}/svg",
            public_png=f"{url}/badge.png",
            public_svg=f"{url}/badge.svg",
        ),
    )


def detail(settings: Settings, credential: Credential, identity: RecipientIdentity) -> CredentialOut:
    """The API view of a credential with its signed JSON-LD (parsed from the stored text)."""
    return CredentialOut(
        **summary(settings, credential, identity).model_dump(), credential=json.loads(credential.jsonld)
    )
