"""How many SQL statements one ``POST /v1/credentials`` sends (issue 15): each costs the service
and the database a round trip's work, so a change that adds one to every issuance shows up here.
Counted, not timed: the figure is the same on any machine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

# What an issuance to a new recipient sends once the issuer's status lists exist and the process
# holds reserved indexes of them: the caller's account; the achievement with its issuer; the
# recipient's active credential; the achievement's version; whether the drawn status indexes are
# free; the issuer's active keys; the claim of both indexes; the recipient identity read and
# written; the credential, its audit event and its event written; on PostgreSQL, whether a
# webhook fan-out job waits already. On SQLite the issuer's current list of each purpose is read
# as well (a list is remembered only where its row is surely committed).
MOST_STATEMENTS = {"sqlite": 15, "postgresql": 13}


@contextmanager
def statements(engine: sa.Engine) -> Iterator[list[str]]:
    sent: list[str] = []

    def count(conn, cursor, statement, *_rest) -> None:
        sent.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def test_an_issuance_sends_a_bounded_number_of_statements(app, api, achievement):
    api.issue(achievement["id"])  # opens the issuer's status lists and reserves indexes
    engine = app.state.engine

    with statements(engine) as sent:
        api.issue(achievement["id"], {"email": "counted@example.org"})

    assert len(sent) <= MOST_STATEMENTS[engine.dialect.name], "\n".join(sent)
