"""A kept report is re-checked in one database statement (issue 15): every input it was computed
from (the issuer's key set, each status list's signed copy, each entry's value) is read again by
one ``UNION ALL``, not one query per input, and the answer is the kept report."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import event

from tests.event_loops import run_in_new_loop
from tests.verification.test_key_compromise import fetch
from tests.verification.test_report_cache import change, verify_over_rest, warm


@pytest.mark.parametrize("fmt", ["jsonld", "jwt"])
def test_a_kept_report_is_answered_after_one_statement(app, api, achievement, fmt):
    issued = api.issue(achievement["id"])
    content = fetch(api, issued["id"], fmt)
    kept = warm(app, api, issued["id"], content, fmt)
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    reports = app.state.verifier.reports
    hits = reports.hits
    event.listen(app.state.engine, "before_cursor_execute", record)
    try:
        report = verify_over_rest(api, content, fmt)
    finally:
        event.remove(app.state.engine, "before_cursor_execute", record)

    assert reports.hits == hits + 1 and report == kept
    assert len(statements) == 1, statements
    assert "UNION ALL" in statements[0]


@pytest.mark.parametrize("action", ["revoke", "suspend"])
def test_the_kept_report_of_a_revoked_or_suspended_credential_is_answered_again(app, api, achievement, action):
    """Its report depends on when the status changed (the audit log's date): the one statement
    reads the same date the status list resolver reported, so the report is kept and served."""
    issued = api.issue(achievement["id"])
    content = fetch(api, issued["id"], "jsonld")
    warm(app, api, issued["id"], content, "jsonld")
    change(api, issued["id"], action)
    changed = verify_over_rest(api, content, "jsonld")
    assert changed["verified"] is False
    reports = app.state.verifier.reports
    hits = reports.hits

    assert verify_over_rest(api, content, "jsonld") == changed
    assert reports.hits == hits + 1, "the report of the changed credential was not answered from the cache"


def test_concurrent_requests_for_kept_reports_share_their_reads(app, api, achievement):
    """Requests that arrive while a read of kept inputs runs wait for the next read and share it
    (service/core/coalesce.py): fewer statements than requests, every answer the kept report."""
    issued = api.issue(achievement["id"])
    content = fetch(api, issued["id"], "jsonld")
    kept = warm(app, api, issued["id"], content, "jsonld")
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    async def burst(count: int) -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            headers = {"Content-Type": "application/json"}
            return await asyncio.gather(
                *(client.post("/v1/verify", content=content, headers=headers) for _ in range(count))
            )

    event.listen(app.state.engine, "before_cursor_execute", record)
    try:
        answers = run_in_new_loop(lambda: burst(24))
    finally:
        event.remove(app.state.engine, "before_cursor_execute", record)

    assert [a.status_code for a in answers] == [200] * 24
    assert all(a.json() == kept for a in answers)
    assert 1 <= len(statements) < 24, statements
    assert all("UNION ALL" in s for s in statements)
