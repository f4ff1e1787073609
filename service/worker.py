"""The procrastinate App: every domain's ``jobs.py`` composed, as :mod:`service.tables` composes
every table. ``skillcred worker`` and the in-process worker of ``skillcred serve`` build it on
their connector; deferring needs none of it (:mod:`service.jobs.defer`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import procrastinate

from service.assessment import jobs as assessment_jobs
from service.bulk import jobs as bulk_jobs
from service.credentials import jobs as credentials_jobs
from service.endorsements import jobs as endorsements_jobs
from service.evidence import jobs as evidence_jobs
from service.idempotency import jobs as idempotency_jobs
from service.jobs import housekeeping
from service.jobs.runner import Recovery
from service.portal import jobs as portal_jobs
from service.status import jobs as status_jobs
from service.webhooks import jobs as webhooks_jobs

BLUEPRINTS: dict[str, Callable[[], procrastinate.Blueprint]] = {
    "jobs": housekeeping.blueprint,
    "status": status_jobs.blueprint,
    "credentials": credentials_jobs.blueprint,
    "endorsements": endorsements_jobs.blueprint,
    "evidence": evidence_jobs.blueprint,
    "webhooks": webhooks_jobs.blueprint,
    "bulk": bulk_jobs.blueprint,
    "assessment": assessment_jobs.blueprint,
    "idempotency": idempotency_jobs.blueprint,
    "portal": portal_jobs.blueprint,
}
"""Each domain's tasks, under its namespace: task ``resign_list`` of ``status`` is
``status:resign_list``."""

RECOVERIES: tuple[Recovery, ...] = (
    assessment_jobs.recover,
    bulk_jobs.recover,
    evidence_jobs.recover,
    webhooks_jobs.recover,
)
"""Each domain's hook that re-defers the jobs its unfinished rows still need (SQLite)."""


def build_job_app(connector: Any) -> procrastinate.App:
    """The procrastinate App with every SkillCred task, on ``connector``."""
    app = procrastinate.App(connector=connector)
    for namespace, blueprint in BLUEPRINTS.items():
        app.add_tasks_from(blueprint(), namespace=namespace)
    return app
