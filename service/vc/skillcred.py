"""How a credential's skill was assessed: SkillCred's ``credentialSubject.assessment``.

An issued credential says who judged the evidence and how: the assessor's kind and version,
whether a human reviewed the judgement, the decision, the rubric (id, version, hash) and when.
The terms are defined by SkillCred's own small JSON-LD context, bundled like every other context
(``contexts/skillcred/skillcred-v1.jsonld``) so the statement survives JSON-LD expansion in safe
mode, is signed, and validates against the 1EdTech schema (which allows extra properties)::

    "credentialSubject": {
      "type": ["AchievementSubject"], ...,
      "assessment": {
        "type": "SkillCredAssessment",
        "assessorKind": "offline", "assessorVersion": "1.0.0", "humanReviewed": true,
        "decision": "approved", "assessedAt": "2026-11-28T10:00:00Z",
        "reviewedAt": "2026-11-28T11:00:00Z",
        "rubric": {"type": "SkillCredRubric", "rubricId": "python-testing", "name": "...",
                   "rubricVersion": "3", "rubricHash": "sha256:..."}
      }
    }

The context URL is ``https://w3id.org/skillcred/v1``: stable, under the SkillCred vocabulary
``https://w3id.org/skillcred/vocab#``. Its w3id.org registration is pending; until then (and
after) every SkillCred deployment serves the same bytes at ``/contexts/skillcred-v1.jsonld``, and
no verifier needs to fetch it: SkillCred's offline loader has it bundled, others can be given it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .dates import format_datetime
from .jsonld import CONTEXTS_DIR

SKILLCRED_V1 = "https://w3id.org/skillcred/v1"
SKILLCRED_VOCAB = "https://w3id.org/skillcred/vocab#"
SKILLCRED_V1_FILE = CONTEXTS_DIR / "skillcred" / "skillcred-v1.jsonld"
ASSESSMENT_TYPE = "SkillCredAssessment"
RUBRIC_TYPE = "SkillCredRubric"


@dataclass(frozen=True)
class AssessmentStatement:
    """What a credential says about how its skill was judged.

    ``decision``: ``auto_issue`` (the assessor's result met the rubric's policy) or ``approved``
    (a reviewer approved it). ``assessed_at`` is when the assessor ran; ``reviewed_at`` when a
    human decided (None without a review).
    """

    assessor_kind: str
    assessor_version: str
    human_reviewed: bool
    decision: str
    rubric_id: str
    rubric_version: str
    rubric_hash: str
    assessed_at: datetime | str
    rubric_name: str | None = None
    reviewed_at: datetime | str | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``credentialSubject.assessment`` object (dates as ``YYYY-MM-DDTHH:MM:SSZ``)."""
        rubric: dict[str, Any] = {"type": RUBRIC_TYPE, "rubricId": self.rubric_id}
        if self.rubric_name:
            rubric["name"] = self.rubric_name
        rubric |= {"rubricVersion": self.rubric_version, "rubricHash": self.rubric_hash}
        statement: dict[str, Any] = {
            "type": ASSESSMENT_TYPE,
            "assessorKind": self.assessor_kind,
            "assessorVersion": self.assessor_version,
            "humanReviewed": bool(self.human_reviewed),
            "decision": self.decision,
            "assessedAt": format_datetime(self.assessed_at, "assessment.assessedAt"),
        }
        if self.reviewed_at is not None:
            statement["reviewedAt"] = format_datetime(self.reviewed_at, "assessment.reviewedAt")
        statement["rubric"] = rubric
        return statement


def read_assessment(credential: Mapping[str, Any]) -> AssessmentStatement | None:
    """The assessment statement a credential carries, or None when it has none (or only a
    malformed one: this is for display, the signature already covers what is there)."""
    subject = credential.get("credentialSubject")
    subjects = subject if isinstance(subject, list) else [subject]
    for item in subjects:
        statement = item.get("assessment") if isinstance(item, Mapping) else None
        if isinstance(statement, Mapping) and _is_type(statement, ASSESSMENT_TYPE):
            rubric_value = statement.get("rubric")
            rubric = rubric_value if isinstance(rubric_value, Mapping) else {}
            kind, version = statement.get("assessorKind"), statement.get("assessorVersion")
            if not isinstance(kind, str) or not isinstance(version, str):
                return None
            return AssessmentStatement(
                assessor_kind=kind,
                assessor_version=version,
                human_reviewed=statement.get("humanReviewed") is True,
                decision=_text(statement.get("decision")),
                rubric_id=_text(rubric.get("rubricId")),
                rubric_name=_text(rubric.get("name")) or None,
                rubric_version=_text(rubric.get("rubricVersion")),
                rubric_hash=_text(rubric.get("rubricHash")),
                assessed_at=_text(statement.get("assessedAt")),
                reviewed_at=_text(statement.get("reviewedAt")) or None,
            )
    return None


def describe(statement: AssessmentStatement) -> str:
    """One sentence for people: ``Assessed by offline (1.0.0) against rubric Python testing v3;
    reviewed by a human: yes``."""
    rubric = statement.rubric_name or statement.rubric_id or "an unnamed rubric"
    version = f" v{statement.rubric_version}" if statement.rubric_version else ""
    reviewed = "yes" if statement.human_reviewed else "no"
    return (
        f"Assessed by {statement.assessor_kind} ({statement.assessor_version}) against rubric "
        f"{rubric}{version}; reviewed by a human: {reviewed}"
    )


def _is_type(node: Mapping[str, Any], name: str) -> bool:
    kind = node.get("type")
    return kind == name or (isinstance(kind, list) and name in kind)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


__all__ = [
    "ASSESSMENT_TYPE",
    "RUBRIC_TYPE",
    "SKILLCRED_V1",
    "SKILLCRED_V1_FILE",
    "SKILLCRED_VOCAB",
    "AssessmentStatement",
    "describe",
    "read_assessment",
]
