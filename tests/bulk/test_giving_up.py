"""A chunk the service keeps failing to issue is retried, and on its last attempt its rows are
marked failed with the reason, so the job ends instead of staying `running` for ever."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from service.bulk import jobs as bulk_jobs
from service.core.clock import SystemClock
from service.core.config import Settings
from service.jobs.context import SERVICES_KEY, JobServices


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"jobs_in_process": False})  # the test runs the chunk itself


def _context(app, attempts: int) -> SimpleNamespace:
    state = app.state
    services = JobServices(state.engine, state.keystore, state.settings, None, SystemClock())
    return SimpleNamespace(additional_context={SERVICES_KEY: services}, job=SimpleNamespace(attempts=attempts))


def _never_issues(*args, **kwargs):
    raise RuntimeError("the database keeps failing")


def test_a_chunk_that_keeps_failing_is_retried_then_its_rows_fail_with_the_reason(app, api, monkeypatch):
    issuer = api.create_issuer()
    achievement = api.create_achievement(issuer["id"])
    body = "recipient_email,achievement_id\n" + "".join(f"g{i}@example.com,{achievement['id']}\n" for i in range(3))
    csv = {"Content-Type": "text/csv"}
    accepted = api.client.post("/v1/bulk/credentials", content=body.encode(), headers=csv | api.admin)
    job_id = accepted.json()["job_id"]
    monkeypatch.setattr(bulk_jobs, "issue_chunk", _never_issues)

    with pytest.raises(RuntimeError):  # not the last attempt: procrastinate retries it
        bulk_jobs.run_chunk(_context(app, attempts=0), job_id, 0)
    assert api.client.get(f"/v1/jobs/{job_id}", headers=api.admin).json()["state"] == "queued"

    bulk_jobs.run_chunk(_context(app, attempts=bulk_jobs.RETRY.max_attempts), job_id, 0)

    job = api.client.get(f"/v1/jobs/{job_id}", headers=api.admin).json()
    assert (job["state"], job["done"], job["failed"]) == ("failed", 0, 3)
    results = api.client.get(f"/v1/jobs/{job_id}/results", headers=api.admin).text.splitlines()
    assert len(results) == 3 and all("RuntimeError" in line and "send it again" in line for line in results)
