"""Keys are kept SKILLCRED_IDEMPOTENCY_HOURS (24 at least), then an hourly job deletes them; an
expired key is free again even before the job ran."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from procrastinate.testing import InMemoryConnector
from pydantic import ValidationError

from service.core.config import Settings
from service.idempotency import jobs
from service.jobs.context import SERVICES_KEY, JobServices
from service.worker import build_job_app
from tests.idempotency.conftest import credential_count, issue_body, keyed, records


def run_cleanup(app) -> None:
    state = app.state
    services = JobServices(state.engine, state.keystore, state.settings, state.mailer, state.clock)
    jobs.cleanup(SimpleNamespace(additional_context={SERVICES_KEY: services}), 0)


def test_the_cleanup_job_deletes_the_records_past_their_expiry_only(app, api, achievement, clock):
    for key in ("old-1", "old-2"):
        api.client.post("/v1/credentials", json=issue_body(achievement), headers=keyed(api.admin, key))
    clock.advance(timedelta(hours=23))
    api.client.post("/v1/credentials", json=issue_body(achievement), headers=keyed(api.admin, "recent"))
    clock.advance(timedelta(hours=1))

    run_cleanup(app)

    assert [record.key for record in records(app)] == ["recent"]
    assert credential_count(api) == 3  # what the requests created stays


def test_an_expired_key_is_free_again_before_the_cleanup_ran(app, api, achievement, clock):
    headers = keyed(api.admin, "k")
    api.client.post("/v1/credentials", json=issue_body(achievement, "ada@example.org"), headers=headers)
    clock.advance(timedelta(hours=24))

    other_body = api.client.post("/v1/credentials", json=issue_body(achievement, "bob@example.org"), headers=headers)

    assert other_body.status_code == 201 and "Idempotent-Replayed" not in other_body.headers
    assert len(records(app)) == 1
    assert credential_count(api) == 2


def test_keys_are_kept_at_least_24_hours():
    assert Settings().idempotency_hours == 24
    with pytest.raises(ValidationError):
        Settings(idempotency_hours=23)


def test_the_cleanup_runs_hourly_on_the_worker():
    app = build_job_app(InMemoryConnector())
    [periodic] = [
        task for (name, _), task in app.periodic_registry.periodic_tasks.items() if name == "idempotency:cleanup"
    ]
    assert periodic.cron == "37 * * * *"
