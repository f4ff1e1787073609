"""Assessment rows as API responses: the one place an assessment and its events become an
``AssessmentSummary`` (lists) or an ``AssessmentOut`` (one assessment).

Who sees what: everyone gets the state, the levels (each with its place on the scale and the
rubric's description of it) and an explanation in plain words (:mod:`service.assessment.earner_view`);
issuer staff also get what the assessor said and matched (rationale, confidence, evidence
pointers, flags, findings, the policy's reasons, the assessor's details), the evidence items (with
links to their content) and who took each decision. The earner never sees the assessor's strings:
they name the rubric's hidden key ideas and which of them matched.
"""

from __future__ import annotations

from collections.abc import Sequence

from service.accounts.models import Account
from service.assessment.earner_view import explain_criterion, explain_outcome
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
    assessment: Assessment, current: AssessmentEvent, credential_id: str | None = None, *, staff: bool
) -> AssessmentSummary:
    """The list view of an assessment, as of ``current`` (its latest event); the flags for issuer
    ``staff`` only."""
    return AssessmentSummary(
        id=assessment.id,
        state=str(current.state),
        achievement_id=assessment.achievement_id,
        achievement_version=assessment.achievement_version,
        issuer_id=assessment.issuer_id,
        earner_id=assessment.earner_id,
        bundle_id=assessment.bundle_id,
        decision=assessment.decision,
        flags=list(assessment.flags) if staff else [],
        total=current.total,
        passed=current.passed,
        assessed_at=assessment.assessed_at,
        updated_at=current.at,
        credential_id=credential_id or current.credential_id,
        renews_credential_id=assessment.renews_credential_id,
    )


def _criteria(assessment: Assessment, current: AssessmentEvent, rubric: Rubric, staff: bool) -> list[CriterionOut]:
    """Each criterion at its current level (after any override), named and explained from the
    rubric; what the assessor said for issuer ``staff`` only."""
    criteria = []
    for stored in assessment.criteria:
        criterion_id = stored["criterion_id"]
        level = current.levels.get(criterion_id, stored["level"])
        try:
            criterion = rubric.criterion(criterion_id)
            name, level_name = criterion.name, criterion.level(level).name
            explained = explain_criterion(criterion, level, overridden=level != stored["level"])
            description, rank, count, explanation = (
                explained.level_description,
                explained.level_rank,
                explained.level_count,
                explained.explanation,
            )
        except (KeyError, ValueError):  # a stored rubric always names its levels; a hand-edited row may not
            name, level_name, description, rank, count, explanation = criterion_id, level, "", 0, 0, ""
        criteria.append(
            CriterionOut(
                criterion_id=criterion_id,
                name=name,
                level=level,
                level_name=level_name,
                level_description=description,
                level_rank=rank,
                level_count=count,
                explanation=explanation,
                assessed_level=stored["level"],
                score=stored.get("score", 0.0),
                confidence=stored.get("confidence", 0.0) if staff else None,
                spread=stored.get("spread", 0) if staff else None,
                rationale=stored.get("rationale", "") if staff else None,
                evidence=[EvidencePointerOut(**pointer) for pointer in stored.get("evidence", [])] if staff else [],
            )
        )
    return criteria


def assessment_detail(record: AssessmentRecord, *, viewer: Account, public_url: str) -> AssessmentOut:
    """The full view of one assessment for ``viewer``. Everyone gets the state, the levels and
    the explanations in plain words, and the earner whether they may still appeal; issuer staff
    also get what the assessor said and matched, the evidence items (links under ``public_url``)
    and who took each decision (see the module docstring)."""
    assessment, events = record.assessment, record.events
    current = latest(events)
    staff = is_staff(viewer)
    rubric = rubric_of_assessment(assessment)
    base = assessment_summary(assessment, current, _credential_id(events), staff=staff)
    levels = {c["criterion_id"]: current.levels.get(c["criterion_id"], c["level"]) for c in assessment.criteria}
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
            details=dict(assessment.assessor) if staff else {},
        ),
        explanation=explain_outcome(rubric, events, levels, current.total, current.passed),
        sampled=assessment.sampled if staff else None,
        decision_reasons=list(assessment.decision_reasons) if staff else [],
        findings=list(assessment.findings) if staff else [],
        notes=list(assessment.notes),
        max_total=rubric.max_total,
        min_total=rubric.min_total,
        criteria=_criteria(assessment, current, rubric, staff),
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
