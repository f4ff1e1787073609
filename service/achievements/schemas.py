"""Achievement API shapes: the input an issuer writes and the view the API returns.

Inputs refuse unknown fields, bound every string and list, and accept only values that make a
valid Open Badges 3.0 ``Achievement`` (enumerated vocabularies or their ``ext:`` extensions,
absolute ids, http(s) URLs), so whatever is stored can later be issued and signed.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)

from service.core.validation import (
    CLEAN_TEXT,
    JSON_INTEGER,
    NO_CONTROL_CHARACTERS,
    TRIMMED_TEXT,
    HttpUrlText,
    Iri,
    JsonBool,
    any_of_set,
    rule,
    rule_error,
)

# OB 3.0 enumerations (1EdTech AchievementCredential JSON Schema); each also allows `ext:Name`.
ACHIEVEMENT_TYPES = frozenset(
    {
        "Achievement",
        "ApprenticeshipCertificate",
        "Assessment",
        "Assignment",
        "AssociateDegree",
        "Award",
        "Badge",
        "BachelorDegree",
        "Certificate",
        "CertificateOfCompletion",
        "Certification",
        "CommunityService",
        "Competency",
        "Course",
        "CoCurricular",
        "Degree",
        "Diploma",
        "DoctoralDegree",
        "Fieldwork",
        "GeneralEducationDevelopment",
        "JourneymanCertificate",
        "LearningProgram",
        "License",
        "Membership",
        "ProfessionalDoctorate",
        "QualityAssuranceCredential",
        "MasterCertificate",
        "MasterDegree",
        "MicroCredential",
        "ResearchDoctorate",
        "SecondarySchoolDiploma",
    }
)
RESULT_TYPES = frozenset(
    {
        "GradePointAverage",
        "LetterGrade",
        "Percent",
        "PerformanceLevel",
        "PredictedScore",
        "RawScore",
        "Result",
        "RubricCriterion",
        "RubricCriterionLevel",
        "RubricScore",
        "ScaledScore",
        "Status",
    }
)
ALIGNMENT_TARGET_TYPES = frozenset(
    {
        "ceasn:Competency",
        "ceterms:Credential",
        "CFItem",
        "CFRubric",
        "CFRubricCriterion",
        "CFRubricCriterionLevel",
        "CTDL",
    }
)

MAX_ALIGNMENTS = 50
MAX_ESCO_SKILLS = 50
MAX_RESULT_DESCRIPTIONS = 50
MAX_RUBRIC_LEVELS = 20
MAX_ALLOWED_VALUES = 100
MAX_TAGS = 50
MAX_VALIDITY_DAYS = 3650

_EXTENSION = re.compile(r"ext:[A-Za-z0-9._-]{1,60}")


def _vocabulary(allowed: frozenset[str]) -> Any:
    """One of ``allowed`` or an extension ``ext:Name``, documented as a pattern."""

    def check(value: str) -> str:
        if value in allowed or _EXTENSION.fullmatch(value):
            return value
        raise ValueError(f"must be one of {', '.join(sorted(allowed))}, or an extension ext:Name")

    names = "|".join(re.escape(name) for name in sorted(allowed))
    return rule(check, pattern=f"^(?:{names}|ext:[A-Za-z0-9._-]{{1,60}})$")


MAX_NUMBER = 1e15
"""The largest magnitude a point or value may be sent as a JSON number (text may say more)."""


def _number_as_text(value: Any) -> Any:
    """OB 3.0 carries points and values as strings; accept JSON numbers too (not booleans), finite
    and at most ``MAX_NUMBER`` in magnitude."""
    if isinstance(value, bool):
        raise ValueError("expected a string or a number")
    if isinstance(value, int | float):
        if not math.isfinite(value) or abs(value) > MAX_NUMBER:
            raise ValueError(f"a number must be finite and at most {MAX_NUMBER:.0e} in magnitude")
        return str(value)
    return value


Name = Annotated[str, Field(max_length=200), TRIMMED_TEXT]
ShortText = Annotated[str, Field(min_length=1, max_length=1000), CLEAN_TEXT]
Text = Annotated[str, Field(min_length=1, max_length=4000), CLEAN_TEXT]
Narrative = Annotated[str, Field(min_length=1, max_length=10_000), CLEAN_TEXT]
Url = HttpUrlText
Value = Annotated[
    str,
    BeforeValidator(_number_as_text),
    Field(min_length=1, max_length=200),
    CLEAN_TEXT,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "minLength": 1, "maxLength": 200, "pattern": NO_CONTROL_CHARACTERS},
                {"type": "number", "minimum": -MAX_NUMBER, "maximum": MAX_NUMBER},
            ]
        }
    ),
]
"""A point or value: text, or a JSON number (kept as its decimal text)."""
Tag = Annotated[str, Field(max_length=64), TRIMMED_TEXT]
EscoSkillUri = Annotated[str, Field(min_length=1, max_length=200)]
"""An ESCO skill's concept URI; whether it names a skill is looked up (422 ``unknown_esco_skill``)."""


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Criteria(_Input):
    """How the achievement is earned: a narrative (Markdown), a URL of a criteria page, or both."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=any_of_set("narrative", "id"))

    narrative: Narrative | None = None
    id: Url | None = None

    @model_validator(mode="after")
    def _narrative_or_id(self) -> Criteria:
        if self.narrative is None and self.id is None:
            raise ValueError("criteria needs a narrative, an id (URL), or both")
        return self


class AlignmentIn(_Input):
    """A link to a node of a skills framework (an ESCO skill, a competency, a standard)."""

    target_name: Name
    target_url: Url
    target_code: Annotated[str, Field(min_length=1, max_length=200), CLEAN_TEXT] | None = None
    target_framework: Name | None = None
    target_type: Annotated[str, Field(max_length=64), _vocabulary(ALIGNMENT_TARGET_TYPES)] | None = None
    target_description: Text | None = None


class RubricLevelIn(_Input):
    """One level of a rubric criterion. Without an ``id`` a stable URN is made from its name."""

    id: Iri | None = None
    name: Name
    description: Text | None = None
    level: Annotated[str, Field(min_length=1, max_length=200), CLEAN_TEXT] | None = None
    points: Value | None = None


class ResultDescriptionIn(_Input):
    """A result a credential of this achievement may carry (a grade, a rubric criterion...).

    Without an ``id`` a stable URN is made from the achievement and the name (case and spacing
    ignored), so the same result keeps its id across versions. ``required_level`` names one of \
the ``rubric_criterion_levels``
    by its ``id`` or its ``name``.
    """

    id: Iri | None = None
    name: Name
    result_type: Annotated[str, Field(max_length=64), _vocabulary(RESULT_TYPES)]
    allowed_values: Annotated[list[Value], Field(max_length=MAX_ALLOWED_VALUES)] = []
    required_level: Annotated[str, Field(min_length=1, max_length=2048)] | None = None
    required_value: Value | None = None
    value_min: Value | None = None
    value_max: Value | None = None
    rubric_criterion_levels: Annotated[list[RubricLevelIn], Field(max_length=MAX_RUBRIC_LEVELS)] = []

    @model_validator(mode="after")
    def _consistent(self) -> ResultDescriptionIn:
        if self.required_level is not None:
            names = {lv.id for lv in self.rubric_criterion_levels} | {lv.name for lv in self.rubric_criterion_levels}
            if self.required_level not in names:
                raise rule_error(
                    "invalid_achievement", "required_level must be the id or name of one of its rubric_criterion_levels"
                )
        if self.required_value is not None and self.allowed_values and self.required_value not in self.allowed_values:
            raise rule_error("invalid_achievement", "required_value must be one of allowed_values")
        level_names = [lv.name for lv in self.rubric_criterion_levels]
        if len(set(level_names)) != len(level_names):
            raise rule_error("invalid_achievement", "rubric_criterion_levels need distinct names")
        return self


class AchievementCreate(_Input):
    """An achievement's content. ``PUT`` takes the same shape and makes a new version of it."""

    name: Name
    description: Text
    criteria: Criteria
    image: Url | None = None
    achievement_type: Annotated[str, Field(max_length=64), _vocabulary(ACHIEVEMENT_TYPES)] | None = None
    alignments: Annotated[list[AlignmentIn], Field(max_length=MAX_ALIGNMENTS)] = []
    result_descriptions: Annotated[list[ResultDescriptionIn], Field(max_length=MAX_RESULT_DESCRIPTIONS)] = []
    tags: Annotated[list[Tag], Field(max_length=MAX_TAGS)] = []
    validity_days: (
        Annotated[
            int,
            Field(
                ge=1,
                le=MAX_VALIDITY_DAYS,
                description=(
                    "Credentials expire this many days after they are issued (`validUntil`), unless the "
                    "issue request gives its own `valid_until`; omit for credentials that do not expire"
                ),
            ),
            JSON_INTEGER,
        ]
        | None
    ) = None
    rubric: dict[str, Any] | None = Field(
        default=None,
        description=(
            "How evidence for this achievement is judged: a rubric following `schemas/rubric.schema.json` "
            "(`id`, `version`, `name`, `criteria` with weighted `levels`, `pass_rule`, `policy`). Each "
            "criterion also becomes a result description (`resultType` `RubricCriterionLevel`); a "
            "hand-written result description may not share a criterion's name. An invalid rubric is "
            "422 `invalid_rubric`, listing every problem."
        ),
    )
    allow_multiple_active: JsonBool = Field(
        default=False,
        description=(
            "Whether one recipient may hold several active credentials for this achievement at once. "
            "False (the default): issuing another while one is active (not revoked; suspended counts, "
            "expired does not) is 409 `credential_exists`; renew or reissue the one they hold instead. "
            "Applies to the achievement, not a version: a `PUT` sets it anew (omitted: false)."
        ),
    )
    esco_skills: Annotated[
        list[EscoSkillUri],
        Field(
            max_length=MAX_ESCO_SKILLS,
            description=(
                "ESCO skill URIs (from `GET /v1/skills`); each becomes an alignment (`targetFramework` "
                "ESCO, `targetType` `ext:ESCOSkill`, `targetCode` its UUID). A hand-written alignment "
                "with the same `target_url` wins. An unknown URI is 422 `unknown_esco_skill`."
            ),
        ),
    ] = []

    @model_validator(mode="after")
    def _distinct(self) -> AchievementCreate:
        given = [r.id for r in self.result_descriptions if r.id]
        given += [lv.id for r in self.result_descriptions for lv in r.rubric_criterion_levels if lv.id]
        if len(set(given)) != len(given):
            raise rule_error("invalid_achievement", "result description and rubric level ids must be distinct")
        self.tags = list(dict.fromkeys(self.tags))
        return self


AchievementUpdate = AchievementCreate


# --- output ---------------------------------------------------------------------------------


class RubricLevelOut(BaseModel):
    id: str
    name: str
    description: str | None = None
    level: str | None = None
    points: str | None = None


class ResultDescriptionOut(BaseModel):
    id: str
    name: str
    result_type: str
    allowed_values: list[str] = []
    required_level: str | None = None
    """The ``id`` of the required rubric level."""
    required_value: str | None = None
    value_min: str | None = None
    value_max: str | None = None
    rubric_criterion_levels: list[RubricLevelOut] = []
    rubric_criterion: str | None = None
    """Set when the rubric made this result description: the criterion's id."""


class AlignmentOut(BaseModel):
    target_name: str
    target_url: str
    target_code: str | None = None
    target_framework: str | None = None
    target_type: str | None = None
    target_description: str | None = None


class CriteriaOut(BaseModel):
    narrative: str | None = None
    id: str | None = None


class AchievementView(BaseModel):
    """One version of an achievement, with the achievement's identity and current version."""

    id: str
    issuer_id: str
    version: int
    """The version shown here."""
    current_version: int
    name: str
    description: str
    criteria: CriteriaOut
    image: str | None = None
    achievement_type: str | None = None
    alignments: list[AlignmentOut] = []
    result_descriptions: list[ResultDescriptionOut] = []
    tags: list[str] = []
    validity_days: int | None = None
    """Days from issue to expiry of credentials issued with this version (None: no expiry)."""
    allow_multiple_active: bool = False
    """Whether one recipient may hold several active credentials for the achievement (not per version)."""
    rubric: dict[str, Any] | None = None
    """The rubric evidence is judged by (``schemas/rubric.schema.json``), as given; None: none."""
    created_at: datetime
    """When the achievement was first created."""
    version_created_at: datetime
    """When this version was written."""


class RubricView(BaseModel):
    """An achievement version's rubric. Earners (and staff of other issuers) see it without the
    assessor's hints (`key_ideas`): `complete` says which they got."""

    achievement_id: str
    version: int
    """The achievement version the rubric belongs to."""
    rubric: dict[str, Any]
    """The rubric (``schemas/rubric.schema.json``)."""
    hash: str
    """``sha256:`` of the complete rubric's canonical JSON: what assessments record."""
    max_total: float
    """The highest weighted total the rubric allows."""
    complete: bool
    """False when the assessor's hints were left out."""
