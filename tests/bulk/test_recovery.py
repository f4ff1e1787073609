"""SQLite: the in-process queue dies with its process; unfinished bulk jobs are re-deferred when
the next in-process worker starts."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from service.core.config import Settings
from tests.bulk.conftest import wait_for_job


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The first app has no worker: its jobs are left for recovery."""
    return settings.model_copy(update={"jobs_in_process": False})


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # PostgreSQL keeps its queue in the database
def test_a_job_accepted_without_a_worker_is_finished_by_the_next_worker_that_starts(settings, api):
    issuer = api.create_issuer()
    achievement = api.create_achievement(issuer["id"])
    body = "recipient_email,achievement_id\n" + "".join(f"r{i}@example.com,{achievement['id']}\n" for i in range(3))
    accepted = api.client.post(
        "/v1/bulk/credentials", content=body.encode(), headers={"Content-Type": "text/csv"} | api.admin
    )
    assert accepted.status_code == 202, accepted.text
    job_id = accepted.json()["job_id"]
    assert api.client.get(f"/v1/jobs/{job_id}", headers=api.admin).json()["state"] == "queued"

    from service.api.app import create_app

    restarted = create_app(settings.model_copy(update={"jobs_in_process": True}))
    try:
        with TestClient(restarted) as client:
            final = wait_for_job(client, job_id, api.admin)
    finally:
        restarted.state.engine.dispose()
    assert (final["state"], final["done"], final["failed"]) == ("succeeded", 3, 0)
