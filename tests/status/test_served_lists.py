"""GET /status/{id} keeps the copy it served and serves it again while the list's row names it
(service/status/served.py): one small statement per request, never a copy the row no longer
names, never a stale one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from tests.status.helpers import bit, change, entries, resigner_round, served_list


@pytest.fixture
def issued(api, achievement):
    return api.issue(achievement["id"])


def test_a_list_served_again_is_answered_from_the_kept_copy_after_one_small_statement(app, api, issued):
    entry = entries(issued["credential"])["revocation"]
    first = served_list(api.client, entry)
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    hits = app.state.status_lists.hits
    event.listen(app.state.engine, "before_cursor_execute", record)
    try:
        again = served_list(api.client, entry)
    finally:
        event.remove(app.state.engine, "before_cursor_execute", record)

    assert app.state.status_lists.hits == hits + 1
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
    assert len(statements) == 1, statements
    assert "FROM statuslist" in statements[0] and "credential_text IS NOT NULL" in statements[0]


def test_a_list_re_signed_since_it_was_kept_is_served_in_its_new_copy(api, issued, clock):
    entry = entries(issued["credential"])["revocation"]
    kept = served_list(api.client, entry)
    assert change(api, issued["id"], "revoke").status_code == 200
    clock.advance(timedelta(seconds=300))
    assert resigner_round(api.client.app, now=clock.now())[0] >= 1  # as another worker's job would

    served = served_list(api.client, entry)

    assert served.headers["etag"] != kept.headers["etag"]
    assert bit(served.json(), entry.index) == 1


def test_a_kept_copy_that_has_gone_stale_is_not_served_the_reader_signs_the_list(api, issued, clock):
    entry = entries(issued["credential"])["revocation"]
    kept = served_list(api.client, entry)
    clock.advance(timedelta(seconds=300 + 150))  # the re-signer let it run halfway into its margin

    served = served_list(api.client, entry)

    assert served.status_code == 200
    assert served.headers["etag"] != kept.headers["etag"]
    assert served.json()["validFrom"] > kept.json()["validFrom"]


def test_an_unknown_list_is_never_kept(app, api):
    assert api.client.get("/status/00000000-0000-4000-8000-000000000000").status_code == 404
    assert len(app.state.status_lists) == 0
