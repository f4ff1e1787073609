"""Open Badges 3.0 ``AchievementCredential`` builder, recipient identity hashing, schema validation.

The builder turns plain, frozen inputs into an unsigned credential (VCDM 2.0, OB 3.0.3 context);
signing happens elsewhere. Validation lives in :mod:`service.vc.schema_validation` and is
re-exported here.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.vc.constants import CREDENTIALS_V2, OB_V3P0_CONTEXT, OB_V3P0_EXTENSIONS
from service.vc.dates import CredentialBuildError, format_datetime
from service.vc.schema_validation import (
    PURL_SCHEMA_BASE,
    SchemaReport,
    validate_credential,
    validate_credential_strict,
)
from service.vc.skillcred import SKILLCRED_V1, AssessmentStatement

ACHIEVEMENT_CREDENTIAL_SCHEMA_URL = PURL_SCHEMA_BASE + "ob_v3p0_achievementcredential_schema.json"
JSON_SCHEMA_VALIDATOR_TYPE = "1EdTechJsonSchemaValidator2019"
CREDENTIAL_TYPES = ("VerifiableCredential", "OpenBadgeCredential")
REFRESH_SERVICE_TYPE = "1EdTechCredentialRefresh"
ENDORSEMENT_CREDENTIAL_TYPE = "EndorsementCredential"

_ABSOLUTE_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+")
_IDENTITY_HASH = re.compile(r"(sha256|md5)\$([0-9A-Fa-f]+)")


@dataclass(frozen=True)
class Image:
    """An image by URI (``https:`` or ``data:``), with an optional caption."""

    id: str
    caption: str | None = None


@dataclass(frozen=True)
class IssuerProfile:
    """The issuing (or achievement-creating) organisation or person: an OB 3.0 ``Profile``."""

    id: str
    name: str
    url: str | None = None
    email: str | None = None
    image: str | Image | None = None
    description: str | None = None


@dataclass(frozen=True)
class Alignment:
    """A link from an achievement (or result) to a framework item, e.g. a skill in a taxonomy."""

    target_name: str
    target_url: str
    target_code: str | None = None
    target_framework: str | None = None
    target_type: str | None = None
    target_description: str | None = None


@dataclass(frozen=True)
class RubricCriterionLevel:
    """One level of a rubric criterion (``id`` is what results and ``required_level`` refer to)."""

    id: str
    name: str
    level: str | None = None
    description: str | None = None
    points: str | None = None
    alignments: Sequence[Alignment] = ()


@dataclass(frozen=True)
class ResultDescription:
    """A possible result of an achievement, e.g. a grade or a rubric criterion."""

    id: str
    name: str
    result_type: str
    allowed_values: Sequence[str] = ()
    required_level: str | None = None
    required_value: str | None = None
    value_min: str | None = None
    value_max: str | None = None
    rubric_criterion_levels: Sequence[RubricCriterionLevel] = ()
    alignments: Sequence[Alignment] = ()


@dataclass(frozen=True)
class Achievement:
    """What was achieved. ``creator`` defaults to nobody (the issuer is implied)."""

    id: str
    name: str
    description: str
    criteria_narrative: str | None = None
    criteria_id: str | None = None
    image: str | Image | None = None
    alignments: Sequence[Alignment] = ()
    result_descriptions: Sequence[ResultDescription] = ()
    tags: Sequence[str] = ()
    achievement_type: str | None = None
    version: str | None = None
    creator: IssuerProfile | None = None


@dataclass(frozen=True)
class Evidence:
    """Something that supports the award: a portfolio item, a report, an assessment record."""

    id: str | None = None
    name: str | None = None
    description: str | None = None
    narrative: str | None = None
    genre: str | None = None
    audience: str | None = None


@dataclass(frozen=True)
class Result:
    """The earner's result for one of the achievement's result descriptions."""

    result_description: str
    value: str | None = None
    achieved_level: str | None = None
    status: str | None = None
    alignments: Sequence[Alignment] = ()


def _identity_hash(identifier: str, salt: str, algorithm: str = "sha256") -> str:
    data = (identifier + salt).encode("utf-8")
    # md5 is only ever read (older badges), never written; FIPS builds allow it only like this
    return hashlib.new(algorithm, data, usedforsecurity=algorithm != "md5").hexdigest()


def hashed_email_identity(email: str, salt: str | None = None) -> dict[str, Any]:
    """An OB 3.0 ``IdentityObject`` for an email address, hashed as the spec's ``IdentityHash``
    says: ``"sha256$" + hex(sha256(utf8(email + salt)))``. The email is hashed as given, so pass
    the form the earner will later present (``identity_matches`` also tries it lower-cased).
    Without ``salt`` a random 128-bit salt is drawn."""
    salt = secrets.token_hex(16) if salt is None else salt
    return {
        "type": "IdentityObject",
        "hashed": True,
        "identityHash": "sha256$" + _identity_hash(email, salt),
        "identityType": "emailAddress",
        "salt": salt,
    }


def identity_matches(identity_object: Mapping[str, Any], email: str) -> bool:
    """True when ``identity_object`` (an email ``IdentityObject``) identifies ``email``.

    Follows OB 3.0 "Verify the Recipient Using an Identifier": the identity type must be
    ``emailAddress``; a hashed identity (``sha256$`` or ``md5$``, hex in either case) is compared
    with the hash of the email plus the optional salt, an unhashed one with the email itself. The
    email is tried as given and then trimmed and lower-cased. Comparison is constant-time.
    """
    if identity_object.get("identityType") != "emailAddress":
        return False
    claimed = identity_object.get("identityHash")
    if not isinstance(claimed, str):
        return False
    candidates = dict.fromkeys((email, email.strip().lower()))
    if identity_object.get("hashed") is not True:
        return any(hmac.compare_digest(claimed.encode(), c.encode()) for c in candidates)
    match = _IDENTITY_HASH.fullmatch(claimed)
    salt = identity_object.get("salt") or ""
    if match is None or not isinstance(salt, str):
        return False
    algorithm, expected = match.group(1), match.group(2).lower()
    return any(hmac.compare_digest(expected, _identity_hash(c, salt, algorithm)) for c in candidates)


def _uri(value: str, field: str) -> str:
    """Ids must be absolute: a relative IRI is resolved differently by each JSON-LD processor."""
    if not isinstance(value, str) or _ABSOLUTE_URI.fullmatch(value) is None:
        raise CredentialBuildError(f"{field}: expected an absolute URI, got {value!r}")
    return value


def _compact(**fields: Any) -> dict[str, Any]:
    """Drop ``None`` and empty collections: optional fields are omitted, never null or []."""
    return {key: value for key, value in fields.items() if value is not None and value != [] and value != {}}


def _image(image: str | Image | None, field: str) -> dict[str, Any] | None:
    if image is None:
        return None
    if isinstance(image, str):
        image = Image(id=image)
    return _compact(id=_uri(image.id, f"{field}.id"), type="Image", caption=image.caption)


def build_profile(profile: IssuerProfile, field: str = "issuer") -> dict[str, Any]:
    """The OB 3.0 ``Profile`` object for ``profile``, exactly as a credential's ``issuer`` carries
    it (``field`` names it in errors)."""
    return _profile(profile, field)


def _profile(profile: IssuerProfile, field: str) -> dict[str, Any]:
    return _compact(
        id=_uri(profile.id, f"{field}.id"),
        type=["Profile"],
        name=profile.name,
        url=profile.url,
        email=profile.email,
        description=profile.description,
        image=_image(profile.image, f"{field}.image"),
    )


def _alignments(alignments: Sequence[Alignment], field: str) -> list[dict[str, Any]]:
    return [
        _compact(
            type=["Alignment"],
            targetName=a.target_name,
            targetUrl=_uri(a.target_url, f"{field}[{i}].targetUrl"),
            targetCode=a.target_code,
            targetFramework=a.target_framework,
            targetType=a.target_type,
            targetDescription=a.target_description,
        )
        for i, a in enumerate(alignments)
    ]


def _rubric_level(level: RubricCriterionLevel, field: str) -> dict[str, Any]:
    return _compact(
        id=_uri(level.id, f"{field}.id"),
        type=["RubricCriterionLevel"],
        name=level.name,
        level=level.level,
        description=level.description,
        points=level.points,
        alignment=_alignments(level.alignments, f"{field}.alignment"),
    )


def _result_description(description: ResultDescription, field: str) -> dict[str, Any]:
    level_ids = {level.id for level in description.rubric_criterion_levels}
    if description.required_level is not None and description.required_level not in level_ids:
        raise CredentialBuildError(f"{field}.requiredLevel: not one of its rubric criterion levels")
    return _compact(
        id=_uri(description.id, f"{field}.id"),
        type=["ResultDescription"],
        name=description.name,
        resultType=description.result_type,
        allowedValue=list(description.allowed_values),
        requiredLevel=description.required_level,
        requiredValue=description.required_value,
        valueMin=description.value_min,
        valueMax=description.value_max,
        rubricCriterionLevel=[
            _rubric_level(level, f"{field}.rubricCriterionLevel[{i}]")
            for i, level in enumerate(description.rubric_criterion_levels)
        ],
        alignment=_alignments(description.alignments, f"{field}.alignment"),
    )


def build_achievement(achievement: Achievement) -> dict[str, Any]:
    """The OB 3.0 ``Achievement`` JSON object for ``achievement``: exactly what a credential embeds
    as ``credentialSubject.achievement`` (no ``@context``; add one to publish it on its own).
    Raises :class:`CredentialBuildError` on inputs that cannot make a conforming Achievement."""
    field = "credentialSubject.achievement"
    if achievement.criteria_narrative is None and achievement.criteria_id is None:
        raise CredentialBuildError(f"{field}.criteria: give a narrative, a criteria id, or both")
    criteria = _compact(
        id=None if achievement.criteria_id is None else _uri(achievement.criteria_id, f"{field}.criteria.id"),
        narrative=achievement.criteria_narrative,
    )
    return _compact(
        id=_uri(achievement.id, f"{field}.id"),
        type=["Achievement"],
        name=achievement.name,
        description=achievement.description,
        criteria=criteria,
        achievementType=achievement.achievement_type,
        version=achievement.version,
        image=_image(achievement.image, f"{field}.image"),
        creator=None if achievement.creator is None else _profile(achievement.creator, f"{field}.creator"),
        tag=list(achievement.tags),
        alignment=_alignments(achievement.alignments, f"{field}.alignment"),
        resultDescription=[
            _result_description(description, f"{field}.resultDescription[{i}]")
            for i, description in enumerate(achievement.result_descriptions)
        ],
    )


def _results(results: Sequence[Result], achievement: Achievement) -> list[dict[str, Any]]:
    descriptions = {description.id: description for description in achievement.result_descriptions}
    built = []
    for i, result in enumerate(results):
        field = f"credentialSubject.result[{i}]"
        description = descriptions.get(result.result_description)
        if description is None:
            raise CredentialBuildError(
                f"{field}.resultDescription: {result.result_description!r} is not a result "
                "description of the achievement"
            )
        level_ids = {level.id for level in description.rubric_criterion_levels}
        if result.achieved_level is not None and result.achieved_level not in level_ids:
            raise CredentialBuildError(f"{field}.achievedLevel: not a rubric criterion level of its result description")
        built.append(
            _compact(
                type=["Result"],
                resultDescription=result.result_description,
                value=result.value,
                achievedLevel=result.achieved_level,
                status=result.status,
                alignment=_alignments(result.alignments, f"{field}.alignment"),
            )
        )
    return built


def _evidence(evidence: Sequence[Evidence | Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        _evidence_entry(item, i)
        if isinstance(item, Mapping)
        else _compact(
            id=None if item.id is None else _uri(item.id, f"evidence[{i}].id"),
            type=["Evidence"],
            name=item.name,
            description=item.description,
            narrative=item.narrative,
            genre=item.genre,
            audience=item.audience,
        )
        for i, item in enumerate(evidence)
    ]


def _evidence_entry(item: Mapping[str, Any], i: int) -> dict[str, Any]:
    """An evidence entry given as JSON (e.g. with ``digestMultibase``), copied as is once its
    ``id`` is absolute and its ``type`` names ``Evidence``."""
    entry = copy.deepcopy(dict(item))
    if entry.get("id") is not None:
        _uri(entry["id"], f"evidence[{i}].id")
    types = entry.get("type")
    if "Evidence" not in (types if isinstance(types, list) else [types]):
        raise CredentialBuildError(f"evidence[{i}].type: must include 'Evidence'")
    return entry


def _identifiers(
    recipient_identity: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
) -> list[dict[str, Any]]:
    if recipient_identity is None:
        return []
    identities = [recipient_identity] if isinstance(recipient_identity, Mapping) else list(recipient_identity)
    return [copy.deepcopy(dict(identity)) for identity in identities]


def build_achievement_credential(
    *,
    credential_id: str,
    issuer: IssuerProfile,
    achievement: Achievement,
    recipient_did: str | None = None,
    recipient_identity: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    valid_from: datetime | str,
    valid_until: datetime | str | None = None,
    name: str | None = None,
    description: str | None = None,
    evidence: Sequence[Evidence | Mapping[str, Any]] = (),
    results: Sequence[Result] = (),
    credential_status: Mapping[str, Any] | None = None,
    credential_schema: bool = True,
    image: str | Image | None = None,
    assessment: AssessmentStatement | None = None,
    endorsements: Sequence[Mapping[str, Any]] = (),
    refresh_service: str | None = None,
) -> dict[str, Any]:
    """Build an unsigned Open Badges 3.0 ``OpenBadgeCredential`` (VCDM 2.0) as a fresh dict.

    The recipient is ``recipient_did`` (``credentialSubject.id``), ``recipient_identity`` (one or
    more ``IdentityObject`` dicts, e.g. from :func:`hashed_email_identity`, as
    ``credentialSubject.identifier``), or both; at least one is required. ``name`` defaults to the
    achievement's name (OB 3.0 requires a credential name). Dates become ``YYYY-MM-DDTHH:MM:SSZ``.
    ``credential_status`` is one status entry (e.g. a ``BitstringStatusListEntry``), copied as is.
    Optional fields that are empty are omitted. Raises :class:`CredentialBuildError` on inputs
    that cannot make a conforming credential; run :func:`validate_credential_strict` on the result
    for the full schema check.

    ``credentialSchema`` (on by default) names the 1EdTech AchievementCredential JSON Schema with
    type ``1EdTechJsonSchemaValidator2019``, as the spec's complete example does. That type is
    defined by neither the VC v2 nor the OB 3.0.3 context: under them it is a relative ``@type``,
    which JSON-LD safe mode (eddsa-rdfc-2022 signing and verifying) rejects. So, again as the
    spec's example does, the OB extensions context (``extensions.json``, which defines it) is
    appended to ``@context`` whenever ``credentialSchema`` is present.

    ``evidence`` items are :class:`Evidence` or ready JSON entries (a mapping whose ``type``
    includes ``Evidence``, e.g. with a ``digestMultibase``), copied as given.
    ``assessment`` (how the skill was judged) becomes ``credentialSubject.assessment`` and adds
    SkillCred's context (:mod:`service.vc.skillcred`), which defines its terms.

    ``endorsements`` are signed ``EndorsementCredential`` objects, embedded as the credential's
    ``endorsement`` list (copied as given: their proofs must survive). ``refresh_service`` is the
    URL of the issuer's refresh service: ``refreshService`` of type ``1EdTechCredentialRefresh``
    (the OB extensions context, which defines that type, is added with it).
    """
    if recipient_did is None and recipient_identity is None:
        raise CredentialBuildError("credentialSubject: give recipient_did, recipient_identity, or both")
    issued = format_datetime(valid_from, "validFrom")
    expires = None if valid_until is None else format_datetime(valid_until, "validUntil")
    if expires is not None and expires <= issued:
        raise CredentialBuildError("validUntil: must be later than validFrom")
    subject = _compact(
        id=None if recipient_did is None else _uri(recipient_did, "credentialSubject.id"),
        type=["AchievementSubject"],
        identifier=_identifiers(recipient_identity),
        achievement=build_achievement(achievement),
        result=_results(results, achievement),
        assessment=None if assessment is None else assessment.to_json(),
    )
    contexts = [CREDENTIALS_V2, OB_V3P0_CONTEXT]
    schemas = None
    if credential_schema:
        contexts.append(OB_V3P0_EXTENSIONS)
        schemas = [{"id": ACHIEVEMENT_CREDENTIAL_SCHEMA_URL, "type": JSON_SCHEMA_VALIDATOR_TYPE}]
    if refresh_service is not None and OB_V3P0_EXTENSIONS not in contexts:
        contexts.append(OB_V3P0_EXTENSIONS)
    if assessment is not None:
        contexts.append(SKILLCRED_V1)
    return _compact(
        **{
            "@context": contexts,
            "id": _uri(credential_id, "id"),
            "type": list(CREDENTIAL_TYPES),
            "name": achievement.name if name is None else name,
            "description": description,
            "image": _image(image, "image"),
            "issuer": _profile(issuer, "issuer"),
            "validFrom": issued,
            "validUntil": expires,
            "credentialSubject": subject,
            "evidence": _evidence(evidence),
            "credentialSchema": schemas,
            "credentialStatus": None if credential_status is None else copy.deepcopy(dict(credential_status)),
            "refreshService": None
            if refresh_service is None
            else {"id": _uri(refresh_service, "refreshService.id"), "type": REFRESH_SERVICE_TYPE},
            "endorsement": [_endorsement(item, i) for i, item in enumerate(endorsements)],
        }
    )


def _endorsement(endorsement: Mapping[str, Any], i: int) -> dict[str, Any]:
    """A signed EndorsementCredential to embed, copied as is (its proof covers every byte of
    meaning); only its type is checked here, its proof by whoever embeds and verifies it."""
    types = endorsement.get("type") if isinstance(endorsement, Mapping) else None
    if ENDORSEMENT_CREDENTIAL_TYPE not in (types if isinstance(types, list) else [types]):
        raise CredentialBuildError(f"endorsement[{i}]: not an {ENDORSEMENT_CREDENTIAL_TYPE}")
    return copy.deepcopy(dict(endorsement))


__all__ = [
    "ACHIEVEMENT_CREDENTIAL_SCHEMA_URL",
    "Achievement",
    "Alignment",
    "CredentialBuildError",
    "Evidence",
    "Image",
    "IssuerProfile",
    "Result",
    "ResultDescription",
    "RubricCriterionLevel",
    "SchemaReport",
    "build_achievement",
    "build_achievement_credential",
    "build_profile",
    "format_datetime",
    "hashed_email_identity",
    "identity_matches",
    "validate_credential",
    "validate_credential_strict",
]
