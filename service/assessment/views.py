"""Assessment rows as API responses: the one place an assessment and its events become an
``AssessmentSummary`` (lists) or an ``AssessmentOut`` (one assessment).

Who sees what: the earner gets outcome, levels, rationale and reasons; issuer staff also get the
evidence items (with links to their content) and who took each decision.
"""

from __future__ import annotations

from collections.abc import Sequence

from service.accounts.models import Account
from service.assessment.engine.rubric import Rubric
from service.assessment.models import Assessment, AssessmentEvent
from service.assessment.schemas import (
    AssessmentOut,
    AssessmentSummary,
    AssessorOut,
    CriterionOut,
    EventOut,
    EvidenceItemOut,
    EvidencePointerOut,
    RubricOut,
)
from service.assessment.service import AssessmentRecord, is_staff
from service.assessment.state import can_appeal, latest, rubric_of_assessment
from service.evidence.models import EvidenceItemRecord


def _credential_id(events: Sequence[AssessmentEvent]) -> str | None:
    return next((e.credential_id for e in sorted(events, key=lambda e: -e.seq) if e.credential_id), None)


def assessment_summary(
    assessment: Assessment, current: AssessmentEvent, credential_id: str | None = None
) -> AssessmentSummary:
    """The list view of an assessment, as of ``current`` (its latest event)."""
    return AssessmentSummary(
        id=assessment.id,
        state=str(current.state),
        achievement_id=assessment.achievement_id,
        achievement_version=assessment.achievement_version,
        issuer_id=assessment.issuer_id,
        earner_id=assessment.earner_id,
        bundle_id=assessment.bundle_id,
        decision=assessment.decision,
        flags=list(assessment.flags),
        total=current.total,
        passed=current.passed,
        assessed_at=assessment.assessed_at,
        updated_at=current.at,
        credential_id=credential_id or current.credential_id,
        renews_credential_id=assessment.renews_credential_id,
    )


def _criteria(assessment: Assessment, current: AssessmentEvent, rubric: Rubric) -> list[CriterionOut]:
    """Each criterion at its current level (after any override), named from the rubric."""
    criteria = []
    for stored in assessment.criteria:
        criterion_id = stored["criterion_id"]
        level = current.levels.get(criterion_id, stored["level"])
        try:
            criterion = rubric.criterion(criterion_id)
            name, level_name = criterion.name, criterion.level(level).name
        except KeyError:
            name, level_name = criterion_id, level
        criteria.append(
            CriterionOut(
                criterion_id=criterion_id,
                name=name,
                level=level,
                level_name=level_name,
                assessed_level=stored["level"],
                score=stored.get("score", 0.0),
                confidence=stored.get("confidence", 0.0),
                spread=stored.get("spread", 0),
                rationale=stored.get("rationale", ""),
                evidence=[EvidencePointerOut(**pointer) for pointer in stored.get("evidence", [])],
            )
        )
    return criteria


def assessment_detail(record: AssessmentRecord, *, viewer: Account, public_url: str) -> AssessmentOut:
    """The full view of one assessment for ``viewer``. Issuer staff also get the evidence items
    (links under ``public_url``) and who took each decision; the earner gets outcome, levels,
    rationale and reasons, and whether they may still appeal."""
    assessment, events = record.assessment, record.events
    current = latest(events)
    staff = is_staff(viewer)
    rubric = rubric_of_assessment(assessment)
    base = assessment_summary(assessment, current, _credential_id(events))
    return AssessmentOut(
        **base.model_dump(),
        rubric=RubricOut(
            id=assessment.rubric_id,
            version=assessment.rubric_version,
            name=assessment.rubric_name,
            hash=assessment.rubric_hash,
        ),
        assessor=AssessorOut(
            kind=assessment.assessor_kind,
            version=assessment.assessor_version,
            model=assessment.model,
            endpoint_host=assessment.endpoint_host,
            prompt_version=assessment.prompt_version,
            details=assessment.assessor,
        ),
        sampled=assessment.sampled,
        decision_reasons=list(assessment.decision_reasons),
        findings=list(assessment.findings),
        notes=list(assessment.notes),
        max_total=rubric.max_total,
        min_total=rubric.min_total,
        criteria=_criteria(assessment, current, rubric),
        evidence_digests=dict(assessment.evidence_digests),
        evidence=[_evidence_item(public_url, assessment, item) for item in record.evidence] if staff else [],
        events=[_event(event, staff) for event in events],
        can_appeal=can_appeal(events) and viewer.id == assessment.earner_id,
    )


def _event(event: AssessmentEvent, staff: bool) -> EventOut:
    return EventOut(
        seq=event.seq,
        kind=str(event.kind),
        state=str(event.state),
        at=event.at,
        actor_id=event.actor_id if staff else None,
        actor_role=event.actor_role if staff else None,
        reason=event.reason,
        overrides=list(event.overrides),
        credential_id=event.credential_id,
    )


def _evidence_item(public_url: str, assessment: Assessment, item: EvidenceItemRecord) -> EvidenceItemOut:
    return EvidenceItemOut(
        id=item.id,
        kind=item.kind,
        name=item.name or item.file_name,
        media_type=item.media_type,
        size=item.size,
        sha256=item.sha256,
        url=item.url,
        commit=item.commit,
        content_url=f"{public_url}/v1/evidence/bundles/{assessment.bundle_id}/items/{item.id}/content",
    )
