"""Assessments off the request thread (issue 12): the submission answers at once (202, ``queued``,
``Location``); the job ``assessment:run`` runs the assessor with no transaction open, records the
decision in a short one of its own, exactly once, and a failing run ends with a reviewer, never
stuck ``running``."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from service.assessment import jobs, running
from service.assessment.models import AssessmentEvent
from tests.assessment.helpers import (
    ASSESSED,
    RETRY_ATTEMPTS,
    ScriptedAssessor,
    audit_actions,
    row_counts,
    rubric,
    services_of_app,
)
from tests.conftest import POSTGRES_URL

WAIT = 20.0  # seconds: a generous bound for a step that takes milliseconds


class BlockedAssessor(ScriptedAssessor):
    """Waits for ``release`` inside ``assess`` (``entered`` says it is there)."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def assess(self, bundle, rubric_):
        self.entered.set()
        assert self.release.wait(WAIT), "the test never released the assessor"
        return super().assess(bundle, rubric_)


@pytest.fixture
def assessor():
    blocked = BlockedAssessor()
    yield blocked
    blocked.release.set()  # never leave a worker thread waiting


def _post(cast, bundle_id: str):
    return cast.client.post("/v1/assessments", json={"bundle_id": bundle_id}, headers=cast.earner)


def test_the_submission_answers_202_queued_with_its_location_before_the_assessor_has_run(cast, assessor):
    response = _post(cast, cast.bundle()["id"])

    assert response.status_code == 202, response.text
    body = response.json()
    assert body["state"] == "queued" and body["decision"] == "pending" and body["criteria"] == []
    assert response.headers["Location"] == f"/v1/assessments/{body['id']}"
    assert assessor.calls == []  # answered before the assessor returned (it cannot: it is blocked)
    assert assessor.entered.wait(WAIT)
    assert cast.get(body["id"])["state"] == "running"
    running_now = cast.client.get("/v1/assessments", headers=cast.earner, params={"state": "running"}).json()
    assert [a["id"] for a in running_now["items"]] == [body["id"]]
    assessor.release.set()
    decided = cast.decided(body["id"])
    assert decided["state"] == "issued" and decided["credential_id"]
    assert [e["kind"] for e in decided["events"]] == list(ASSESSED)


def test_no_transaction_is_open_and_others_can_write_while_the_assessor_works(cast, app, assessor):
    engine = app.state.engine
    pids: set[int] = set()
    postgres = engine.dialect.name == "postgresql"

    def remember(dbapi_connection, record, proxy):
        pids.add(dbapi_connection.info.backend_pid)

    if postgres:
        event.listen(engine, "checkout", remember)
    try:
        queued = _post(cast, cast.bundle()["id"]).json()
        assert assessor.entered.wait(WAIT)
        other = cast.bundle(text="Written while the assessor works.")  # SQLite: the write lock is free
        if postgres:
            with engine.connect() as observer:
                states = dict(
                    observer.execute(
                        text(
                            "SELECT pid, state FROM pg_stat_activity WHERE pid = ANY(:pids) AND pid <> pg_backend_pid()"
                        ),
                        {"pids": list(pids)},
                    ).all()
                )
            assert states and not [s for s in states.values() if s != "idle"], states
    finally:
        if postgres:
            event.remove(engine, "checkout", remember)
        assessor.release.set()
    assert other["id"] and cast.decided(queued["id"])["state"] == "issued"


def test_the_assessment_is_running_while_the_assessor_works_and_recovery_would_run_it_again(cast, app, assessor):
    queued = _post(cast, cast.bundle()["id"]).json()
    assert assessor.entered.wait(WAIT)
    requests = jobs.recover(services_of_app(app))
    assert [(r.task_name, dict(r.kwargs)) for r in requests] == [("assessment:run", {"assessment_id": queued["id"]})]
    assessor.release.set()
    cast.decided(queued["id"])
    assert jobs.recover(services_of_app(app)) == []


@pytest.mark.skipif(not POSTGRES_URL, reason="a snapshot per statement is PostgreSQL's read committed")
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_read_that_straddles_the_decision_shows_one_consistent_assessment(cast, app, assessor):
    """PostgreSQL's read committed takes a snapshot per statement: the job's decision commits
    here right after the read's first statement, and the view still shows one moment (not a
    decided state over a row still ``pending``)."""
    queued = _post(cast, cast.bundle()["id"]).json()
    assert assessor.entered.wait(WAIT)
    armed = threading.Event()
    armed.set()

    def decide_now(connection, cursor, statement, parameters, context, executemany):
        if armed.is_set() and re.search(r"\bFROM assessment\b(?!_)", statement) and "FOR UPDATE" not in statement:
            armed.clear()
            assessor.release.set()
            _wait_for(lambda: _event_kinds(app, queued["id"]).count("assessed") == 1)

    engine = app.state.engine
    event.listen(engine, "after_cursor_execute", decide_now)
    try:
        seen = cast.get(queued["id"])
    finally:
        event.remove(engine, "after_cursor_execute", decide_now)
    assert not armed.is_set(), "the read never selected the assessment"
    undecided = seen["state"] in ("queued", "running")
    assert undecided == (seen["decision"] == "pending"), (seen["state"], seen["decision"])
    assert [e["kind"] for e in seen["events"]] == (["submitted", "started"] if undecided else list(ASSESSED))
    assert cast.get(queued["id"])["state"] == "issued"  # the next read sees the decision


def _event_kinds(app, assessment_id: str) -> list[str]:
    with Session(app.state.engine) as session:
        rows = session.exec(select(AssessmentEvent).where(AssessmentEvent.assessment_id == assessment_id))
        return [str(row.kind) for row in rows]


def test_a_job_run_twice_records_one_decision_and_issues_one_credential(cast, app, assessor):
    """As after a crash: the first run is still assessing when a second run of the same job
    starts (a re-deferred job), assesses and records the decision; the first one then finds the
    assessment decided and writes nothing, and a third run does nothing at all."""
    before = row_counts(app)
    queued = _post(cast, cast.bundle()["id"]).json()
    assert assessor.entered.wait(WAIT)

    jobs.run_assessment(services_of_app(app), queued["id"], ScriptedAssessor())  # the second run
    assessor.release.set()  # the first run finishes
    decided = cast.decided(queued["id"])
    _wait_for(lambda: len(assessor.calls) == 1)
    jobs.run_assessment(services_of_app(app), queued["id"], ScriptedAssessor())  # a third run

    with Session(app.state.engine) as session:
        events = list(session.exec(select(AssessmentEvent).where(AssessmentEvent.assessment_id == queued["id"])))
    assert sorted(e.kind for e in events) == sorted(ASSESSED)
    assert decided["state"] == "issued" and cast.get(queued["id"])["credential_id"] == decided["credential_id"]
    assert row_counts(app)["Credential"] == before["Credential"] + 1
    assert audit_actions(app, queued["id"]).count("assessment.assess") == 1


@pytest.fixture
def failing() -> ScriptedAssessor:
    broken = ScriptedAssessor()

    def fail(bundle, rubric_):
        broken.calls.append(bundle)
        raise RuntimeError("the model server is down")

    broken.assess = fail  # type: ignore[method-assign]
    return broken


@pytest.mark.parametrize("assessor", [None])  # the app's assessor is replaced below
def test_a_failing_assessor_ends_with_a_reviewer_after_its_retries(cast, app, failing, monkeypatch):
    monkeypatch.setattr(jobs, "assessor_for", lambda services: failing)
    assessment = cast.submitted()

    assert assessment["state"] == "pending_review" and assessment["credential_id"] is None
    assert len(failing.calls) == RETRY_ATTEMPTS
    last = assessment["events"][-1]
    assert (last["kind"], last["state"]) == ("failed", "pending_review")
    assert "automatic assessment failed" in last["reason"] and "RuntimeError" in last["reason"]
    assert assessment["decision_reasons"] == []  # the policy's reasons are for staff
    assessment = cast.get(assessment["id"], as_=cast.reviewer)
    assert assessment["decision"] == "review" and assessment["decision_reasons"] == [last["reason"]]
    queue = cast.client.get("/v1/review-queue", headers=cast.reviewer).json()["items"]
    assert [a["id"] for a in queue] == [assessment["id"]]
    rejected = cast.act(assessment["id"], "reject", {"reason": "Resubmit, please."})
    assert rejected["state"] == "rejected"


def test_an_assessor_past_its_time_budget_fails_and_goes_to_review(cast, assessor, monkeypatch):
    monkeypatch.setattr(jobs, "TIME_BUDGET_SECONDS", 0.2)
    assessment = cast.submitted()  # the assessor stays blocked: every attempt runs out of time
    assert assessment["state"] == "pending_review"
    assert "took longer than 0.2 s" in assessment["events"][-1]["reason"]


def _events_emitted(monkeypatch) -> list[tuple[str, dict[str, Any]]]:
    emitted: list[tuple[str, dict[str, Any]]] = []
    real = running.emit

    def recording(session, *, issuer_id, type, data):
        emitted.append((type, data))
        return real(session, issuer_id=issuer_id, type=type, data=data)

    monkeypatch.setattr(running, "emit", recording)
    return emitted


@pytest.mark.parametrize("assessor", [ScriptedAssessor()])
def test_a_decision_emits_assessment_completed(cast, monkeypatch):
    emitted = _events_emitted(monkeypatch)
    assessment = cast.submitted()
    assert [(t, d["assessment_id"], d["state"]) for t, d in emitted] == [
        ("assessment.completed", assessment["id"], "issued")
    ]
    assert emitted[0][1]["credential_id"] == assessment["credential_id"]


@pytest.mark.parametrize("rubric_json, assessor", [(rubric("review"), ScriptedAssessor())])
def test_a_decision_for_review_also_emits_assessment_needs_review(cast, monkeypatch):
    emitted = _events_emitted(monkeypatch)
    assessment = cast.submitted()
    assert [(t, d["assessment_id"], d["state"]) for t, d in emitted] == [
        ("assessment.completed", assessment["id"], "pending_review"),
        ("assessment.needs_review", assessment["id"], "pending_review"),
    ]


def _wait_for(condition) -> None:
    done = threading.Event()
    for _ in range(int(WAIT / 0.05)):
        if condition():
            return
        done.wait(0.05)
    raise AssertionError("the condition never held")


@pytest.mark.parametrize("assessor", [None])  # the app's assessor is replaced below
def test_an_assessment_whose_failure_could_not_be_recorded_is_run_again_by_the_sweep(cast, app, failing, monkeypatch):
    """The last attempt fails and cannot even record the failure (the database was down then):
    the job ends, the assessment stays ``running``. The periodic sweep runs it again once it has
    been unfinished for longer than any run takes, and this time it is decided."""
    monkeypatch.setattr(jobs, "assessor_for", lambda services: failing)
    recorded = threading.Event()
    record_failure = running.record_failure

    def database_down(session, assessment_id, reason):
        recorded.set()
        raise OperationalError("UPDATE", {}, Exception("the database is down"))

    monkeypatch.setattr(running, "record_failure", database_down)
    stuck = cast.submitted(wait=False)
    assert recorded.wait(WAIT)
    _wait_for(lambda: cast.get(stuck["id"])["state"] == "running")
    services = services_of_app(app)
    now = services.clock.now()
    assert jobs.rerun_unfinished(services, now=now) == []  # not yet: a run may still be on its way

    monkeypatch.setattr(running, "record_failure", record_failure)
    monkeypatch.setattr(jobs, "assessor_for", lambda services: ScriptedAssessor())
    later = now + timedelta(seconds=jobs.SWEEP_AFTER_SECONDS + 1)
    assert jobs.rerun_unfinished(services, now=later) == [stuck["id"]]

    decided = cast.decided(stuck["id"])
    assert decided["state"] == "issued" and decided["credential_id"]
    assert jobs.rerun_unfinished(services, now=later) == []


def test_the_workers_budget_outlasts_the_llm_judges_own_deadline(settings):
    """The worker never abandons a judge that would still answer (with ``assessor_failed`` at worst):
    its budget is the judge's deadline, one more request and the offline cross-check."""
    from types import SimpleNamespace

    from service.assessment.engine.factory import assessor_from_settings
    from service.assessment.jobs import time_budget

    configured = settings.model_copy(
        update={
            "assessor": "llm",
            "llm_base_url": "http://127.0.0.1:9/v1",
            "llm_model": "m",
            "llm_samples": 5,
            "llm_timeout_seconds": 60.0,
        }
    )
    judge = assessor_from_settings(configured).judge
    assert time_budget(SimpleNamespace(settings=configured)) > judge.total_timeout_seconds + judge.timeout_seconds
