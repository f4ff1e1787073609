"""No issuer waits on a status list row (issue 16): issuing never writes one, so a transaction
holding the lists' rows (in either order) cannot deadlock it or stall it, and what does wait on a
held row (a revocation) gets a quick 503 with ``Retry-After`` once ``lock_timeout`` passes.

PostgreSQL only: SQLite has no row locks (one writer at a time, see ``test_concurrency.py``).
With SKILLCRED_REQUIRE_POSTGRES=1, as in ``.ci/run``, these tests cannot be skipped.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import text

from service.api.gates import Gates
from service.status import publish
from service.status.models import StatusList
from service.status.resolver import LocalStatusListResolver
from tests.conftest import POSTGRES_URL
from tests.status.helpers import change, entries

if not POSTGRES_URL:
    pytest.skip("row locks are PostgreSQL's: set SKILLCRED_TEST_POSTGRES_URL", allow_module_level=True)

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)


class HeldRows:
    """A transaction of its own that updates the given status list rows, in the given order (as
    a revocation, a re-signing or the old issuing path did), and keeps them locked until
    :meth:`release`."""

    def __init__(self, app: Any, list_ids: list[str]) -> None:
        self._connection = app.state.engine.connect()
        self._transaction = self._connection.begin()
        for list_id in list_ids:
            self._connection.execute(
                text(f"UPDATE {StatusList.__tablename__} SET version = version WHERE id = :id"), {"id": list_id}
            )

    def release(self) -> None:
        self._transaction.rollback()
        self._connection.close()


def _issue(api, achievement_id: str, n: int) -> Any:
    return api.client.post(
        "/v1/credentials",
        headers=api.admin,
        json={"achievement_id": achievement_id, "recipient": {"email": f"hot.{n}@example.org"}},
    )


def test_issuing_runs_on_while_another_transaction_holds_both_list_rows_in_the_opposite_order(
    app, api, achievement, settings
):
    """The deadlock of issue 16: issuing used to lock the revocation then the suspension row
    (``UPDATE ... WHERE id IN (a, b)``) while another transaction took them the other way."""
    app.state.gates = Gates.from_settings(settings.model_copy(update={"issuing_concurrency": 8}))
    first = entries(api.issue(achievement["id"])["credential"])
    held = HeldRows(app, [first["suspension"].list_id, first["revocation"].list_id])  # the opposite order
    try:
        with ThreadPoolExecutor(8) as pool:
            responses = list(pool.map(lambda n: _issue(api, achievement["id"], n), range(8)))
        finished_while_held = True
    finally:
        held.release()

    assert finished_while_held
    assert [r.status_code for r in responses] == [201] * 8, [r.text for r in responses if r.status_code != 201]
    indexes = {(e.list_id, e.index) for r in responses for e in entries(r.json()["credential"]).values()}
    assert len(indexes) == 16


def test_a_revocation_that_waits_on_a_held_list_row_gets_a_quick_503_with_retry_after(app, api, achievement):
    issued = api.issue(achievement["id"])
    revocation = entries(issued["credential"])["revocation"]
    held = HeldRows(app, [revocation.list_id])
    try:
        started = time.monotonic()
        response = change(api, issued["id"], "revoke")
        waited = time.monotonic() - started
    finally:
        held.release()

    assert response.status_code == 503, response.text
    assert response.headers["retry-after"]
    assert response.json()["error"] == "service_unavailable"
    assert waited < 10  # lock_timeout (3 s), not a 30-second hang
    # nothing changed: the credential is still active, and revoking it works once the row is free
    assert api.client.get(f"/v1/credentials/{issued['id']}", headers=api.admin).json()["state"] == "active"
    assert change(api, issued["id"], "revoke").status_code == 200


def test_the_re_signer_holds_no_list_row_while_it_signs(app, api, achievement, monkeypatch):
    """A revocation landing during a re-signing neither waits for the signature nor is lost."""
    issued = api.issue(achievement["id"])
    revocation = entries(issued["credential"])["revocation"]
    sign = publish.sign_list_credential
    during: list[int] = []

    def revoke_during_signing(*args, **kwargs):
        signed = sign(*args, **kwargs)
        if not during:
            worker = threading.Thread(target=lambda: during.append(change(api, issued["id"], "revoke").status_code))
            worker.start()
            worker.join(timeout=10)  # would wait for the signer's row lock (and time out) if it held one
        return signed

    monkeypatch.setattr(publish, "sign_list_credential", revoke_during_signing)
    publish.resign_due_lists(app.state.engine, app.state.keystore, app.state.settings)

    assert during == [200]
    with app.state.engine.connect() as connection:
        version, signed_version = connection.execute(
            text(f"SELECT version, signed_version FROM {StatusList.__tablename__} WHERE id = :id"),
            {"id": revocation.list_id},
        ).one()
    assert (version, signed_version) == (1, None)  # the signature without it was not stored


def test_a_verification_keeps_no_transaction_open_while_it_works(app, api, achievement, monkeypatch):
    """POST /v1/verify may fetch other issuers' keys and lists over the network: its reads
    autocommit, so its session is never left idle in a transaction meanwhile."""
    issued = api.issue(achievement["id"])
    states: list[str] = []
    real_resolve = LocalStatusListResolver.resolve

    def watching_resolve(self, url):
        document = real_resolve(self, url)
        pid = self._session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with app.state.engine.connect() as observer:
            states.append(
                observer.execute(text("SELECT state FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}).scalar()
            )
        return document

    monkeypatch.setattr(LocalStatusListResolver, "resolve", watching_resolve)
    response = api.client.post(
        "/v1/verify", content=_jsonld(api, issued), headers={"Content-Type": "application/vc+ld+json"}
    )

    assert response.status_code == 200 and response.json()["verified"], response.text
    assert states and set(states) == {"idle"}


def _jsonld(api, issued) -> bytes:
    return api.client.get(f"/v1/credentials/{issued['id']}/jsonld", headers=api.admin).content
