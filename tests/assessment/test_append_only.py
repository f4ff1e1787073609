"""Assessments and their events are append-only in the database itself, on SQLite and PostgreSQL:
no UPDATE or DELETE gets through, whoever sends it (like the audit log). The one exception: the
assessment job fills in a queued assessment's result, once (``decision`` from ``pending`` to a
decision, without touching who and what it is about)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from service.assessment.models import Assessment, AssessmentEvent
from tests.assessment.helpers import ASSESSED, rubric

pytestmark = pytest.mark.parametrize("rubric_json", [rubric("review")])

FORGERIES = (
    "UPDATE assessment SET decision = 'auto_issue'",
    "UPDATE assessment SET criteria = '[]'",
    "UPDATE assessment SET decision = 'pending'",
    "DELETE FROM assessment",
    "UPDATE assessmentevent SET state = 'issued'",
    "UPDATE assessmentevent SET actor_id = NULL",
    "DELETE FROM assessmentevent",
)


@pytest.mark.parametrize("statement", FORGERIES)
def test_recorded_assessments_cannot_be_changed_or_deleted(cast, app, statement):
    assessment = cast.submitted()
    cast.act(assessment["id"], "reject", {"reason": "No tests."})
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), app.state.engine.begin() as connection:
        connection.execute(sa.text(statement))
    with Session(app.state.engine) as session:
        row = session.get(Assessment, assessment["id"])
        events = list(session.exec(select(AssessmentEvent).order_by(AssessmentEvent.seq)))
    assert row.decision == "review" and row.criteria
    assert [(e.kind, e.state) for e in events] == [
        *zip(ASSESSED, ("queued", "running", "pending_review"), strict=True),
        ("rejected", "rejected"),
    ]
    assert events[3].actor_id is not None


def test_the_orm_cannot_change_a_recorded_event_either(cast, app):
    assessment = cast.submitted()
    with Session(app.state.engine) as session:
        event = session.exec(
            select(AssessmentEvent).where(AssessmentEvent.assessment_id == assessment["id"], AssessmentEvent.seq == 3)
        ).one()
        event.state = "issued"
        session.add(event)
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            session.commit()
    assert cast.get(assessment["id"])["state"] == "pending_review"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE assessment SET total = 5",  # still pending: a result must come with a decision
        "UPDATE assessment SET decision = 'review', earner_id = 'someone-else'",
        "UPDATE assessment SET decision = 'review', bundle_id = 'another-bundle'",
        "DELETE FROM assessment",
    ],
)
def test_a_queued_assessment_is_filled_in_only_with_its_decision(cast, app, statement):
    queued = cast.submit(cast.bundle()["id"], wait=False)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), app.state.engine.begin() as connection:
        connection.execute(sa.text(f"{statement} WHERE id = :id"), {"id": queued["id"]})
    assert cast.decided(queued["id"])["state"] == "pending_review"  # the job's own filling-in went through
