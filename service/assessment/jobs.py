"""The assessment job: ``assessment:run(assessment_id)`` runs the assessor off the request thread.

Deferred by the submission (:func:`defer_run`, in its transaction). It reads what it needs in one
short transaction, closes it, runs the assessor (the offline assessor or the LLM judge) within
its time budget, and records the decision in a new short transaction
(:mod:`service.assessment.running`). A run that raises is retried (:data:`RETRY`); after the last
attempt the assessment goes to human review with the reason, never left ``running``. On SQLite,
where the queue lives in the serving process, :func:`recover` re-defers the assessments a restart
left ``queued`` or ``running``.
"""

from __future__ import annotations

import logging
import threading
import weakref
from contextlib import ExitStack
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any

from procrastinate import Blueprint, RetryStrategy
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.assessment import running
from service.assessment.engine.bundle import EvidenceBundle
from service.assessment.engine.factory import assessor_from_settings
from service.assessment.engine.llm import default_deadline_seconds
from service.assessment.engine.result import Assessment as AssessorResult
from service.assessment.engine.result import Assessor
from service.assessment.engine.rubric import Rubric
from service.assessment.models import AssessmentEvent
from service.core.db import unit_of_work
from service.core.errors import ServiceError
from service.evidence import service as evidence
from service.jobs.context import JobServices, services_of
from service.jobs.defer import JobRequest, defer

log = logging.getLogger("skillcred.assessment")

NAMESPACE = "assessment"
QUEUE = "assessment"
RETRY = RetryStrategy(max_attempts=3, wait=2, exponential_wait=2)
"""A failing run is tried again three times (after about 4, 6 and 10 seconds)."""
TIME_BUDGET_SECONDS = 300.0
CROSS_CHECK_SECONDS = 60.0
"""Room for the offline assessor's cross-check of an LLM judgement (a large repository included)."""
"""The longest one run's assessor may take (an LLM judge's samples included); past it the run
fails (and is retried)."""


class AssessmentTimedOut(Exception):
    """The assessor did not finish within the job's time budget."""


def defer_run(session: Session, assessment_id: str) -> None:
    """Ask, in ``session``'s transaction, for assessment ``assessment_id`` to be assessed."""
    defer(session, _request(assessment_id))


def _request(assessment_id: str) -> JobRequest:
    return JobRequest(
        f"{NAMESPACE}:run",
        {"assessment_id": assessment_id},
        queueing_lock=f"assessment:{assessment_id}",
        lock=f"assessment:{assessment_id}",
        queue=QUEUE,
    )


_assessors: weakref.WeakKeyDictionary[Engine, Assessor] = weakref.WeakKeyDictionary()
_assessors_lock = threading.Lock()


def assessor_for(services: JobServices) -> Assessor:
    """The configured assessor of this worker (built from the settings on first use, kept per
    database engine: loading a model takes a moment). Tests replace this function."""
    with _assessors_lock:
        assessor = _assessors.get(services.engine)
        if assessor is None:
            assessor = _assessors[services.engine] = assessor_from_settings(services.settings)
    return assessor


def run(context: Any, assessment_id: str) -> None:
    """Assess ``assessment_id`` and record the decision; on the last failed attempt, send it to
    human review saying why. A conflict (409: the earner got a credential for the achievement
    meanwhile, its rubric changed...) is not retried: it would only happen again."""
    services = services_of(context)
    try:
        run_assessment(services, assessment_id, assessor_for(services))
    except Exception as error:
        job = getattr(context, "job", None)
        attempts = getattr(job, "attempts", 0) or 0
        final = isinstance(error, ServiceError) and error.status_code == HTTPStatus.CONFLICT
        if not final and RETRY.max_attempts is not None and attempts < RETRY.max_attempts:
            log.warning("assessment %s: attempt %d failed (%s); retrying", assessment_id, attempts + 1, error)
            raise
        log.exception("assessment %s: the automatic assessment failed for good", assessment_id)
        with unit_of_work(services.engine) as session:
            running.record_failure(session, assessment_id, _describe(error))


def run_assessment(services: JobServices, assessment_id: str, assessor: Assessor) -> None:
    """One run: read (short transaction), assess (no transaction), record (short transaction).
    A no-op when the assessment is decided already (the job ran twice)."""
    with ExitStack() as stack:
        with unit_of_work(services.engine) as session:
            plan = running.start(session, assessment_id, now=services.clock.now())
            if plan is None:
                return
            bundle = stack.enter_context(
                evidence.open_bundle(session, evidence.get_blob_store(services.settings), plan.bundle_id)
            )
        # committed and closed: nothing is held while the assessor works
        result = assess_within(assessor, bundle, plan.rubric, time_budget(services))
        digests = dict(bundle.digests)
    try:
        with unit_of_work(services.engine) as session:
            running.record_result(session, services.keystore, services.settings, assessment_id, result, digests)
    except running.AlreadyDecided:
        log.info("assessment %s was decided by another run; nothing recorded", assessment_id)


def time_budget(services: JobServices) -> float:
    """This worker's time budget for one assessor run: the LLM judge's own deadline plus one
    request's timeout (the last request sent before the deadline may take that long) and the
    offline cross-check, or :data:`TIME_BUDGET_SECONDS`, whichever is longer. Shorter than the
    judge's deadline, the worker would abandon a run the judge would still have answered (with
    ``assessor_failed`` at worst)."""
    settings = services.settings
    if getattr(settings, "assessor", "offline") == "llm":
        samples = int(getattr(settings, "llm_samples", 3))
        timeout = float(getattr(settings, "llm_timeout_seconds", 60.0))
        judge = default_deadline_seconds(samples, timeout) + timeout
        return max(TIME_BUDGET_SECONDS, judge + CROSS_CHECK_SECONDS)
    return TIME_BUDGET_SECONDS


def assess_within(assessor: Assessor, bundle: EvidenceBundle, rubric: Rubric, seconds: float) -> AssessorResult:
    """``assessor.assess(bundle, rubric)``, or :class:`AssessmentTimedOut` after ``seconds`` (the
    run is abandoned: its thread finishes on its own, and its result is dropped)."""
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["result"] = assessor.assess(bundle, rubric)
        except BaseException as error:  # handed to the job's thread
            outcome["error"] = error

    thread = threading.Thread(target=work, name="skillcred-assessor", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise AssessmentTimedOut(f"the assessor took longer than {seconds:g} s")
    if "error" in outcome:
        raise outcome["error"]
    result: AssessorResult = outcome["result"]
    return result


def _describe(error: BaseException) -> str:
    if isinstance(error, AssessmentTimedOut | ServiceError):
        return str(error)[:500]
    return f"{type(error).__name__} after {RETRY.max_attempts + 1 if RETRY.max_attempts else 1} attempts"


def recover(services: JobServices) -> list[JobRequest]:
    """The runs a restart interrupted: every assessment still ``queued`` or ``running`` (SQLite)."""
    with unit_of_work(services.engine) as session:
        ids = _unfinished(session)
    return [_request(assessment_id) for assessment_id in ids]


SWEEP_AFTER_SECONDS = TIME_BUDGET_SECONDS + 300.0
"""An assessment unfinished this long after its latest event has lost its job: every run ends
within its time budget, and its retries within minutes."""


def sweep_unfinished(context: Any, timestamp: int) -> None:
    """Every 10 minutes: ask again for the runs of assessments left ``queued`` or ``running`` for
    longer than :data:`SWEEP_AFTER_SECONDS`. That happens when a run's last attempt could not even
    record its failure (the database was down then), so the job ended and the assessment did
    not. The run's queueing lock and lock keep it from running twice, and a run of an assessment
    decided meanwhile records nothing."""
    services = services_of(context)
    ids = rerun_unfinished(services, now=services.clock.now())
    if ids:
        log.warning("assessments left unfinished, run again: %s", ", ".join(ids))


def rerun_unfinished(services: JobServices, *, now: datetime) -> list[str]:
    """Defer a run of each assessment unfinished since :data:`SWEEP_AFTER_SECONDS` before
    ``now``; their ids."""
    with unit_of_work(services.engine) as session:
        ids = _unfinished(session, before=now - timedelta(seconds=SWEEP_AFTER_SECONDS))
        for assessment_id in ids:
            defer(session, _request(assessment_id))
    return ids


def _unfinished(session: Session, *, before: datetime | None = None) -> list[str]:
    """The assessments still ``queued`` or ``running`` (whose latest event is older than
    ``before``, when given)."""
    newest = (
        select(AssessmentEvent.assessment_id, func.max(AssessmentEvent.seq).label("seq"))
        .group_by(col(AssessmentEvent.assessment_id))
        .subquery()
    )
    statement = (
        select(AssessmentEvent.assessment_id)
        .join(
            newest,
            (col(AssessmentEvent.assessment_id) == newest.c.assessment_id) & (col(AssessmentEvent.seq) == newest.c.seq),
        )
        .where(col(AssessmentEvent.state).in_([str(s) for s in running.UNFINISHED]))
    )
    if before is not None:
        statement = statement.where(col(AssessmentEvent.at) < before)
    return list(session.exec(statement))


def blueprint() -> Blueprint:
    """A fresh procrastinate Blueprint of this module's tasks (one per App)."""
    tasks = Blueprint()
    tasks.task(name="run", pass_context=True, queue=QUEUE, retry=RETRY)(run)
    tasks.periodic(cron="*/10 * * * *", periodic_id="sweep")(
        tasks.task(name="sweep_unfinished", pass_context=True, queue="maintenance", lock="assessment-sweep")(
            sweep_unfinished
        )
    )
    return tasks
