"""URL and repository items are fetched by the job ``evidence:fetch_item``, never while a request
waits (issue 12): the request answers 202 with the item ``fetching``, the job stores the bytes
(``ready``) or the reason (``failed``), and a bundle is submitted only once every item is ready."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from service import worker
from service.accounts.models import Account
from service.evidence import fetching, service
from service.evidence import jobs as evidence_jobs
from service.evidence.intake import EvidenceLimits, PreparedItem, pending_url
from service.evidence.models import EvidenceItemRecord
from service.jobs.context import JobServices
from tests.assessment.helpers import create_achievement_with_rubric, rubric
from tests.evidence.conftest import add_fetched, make_local_fetchers, settled
from tests.net.local_server import respond

KIB = 1024
PAGE = b"<html><body>My portfolio</body></html>"


def add(client, bundle, headers, body):
    return client.post(f"/v1/evidence/bundles/{bundle['id']}/items", json=body, headers=headers)


def upload(client, bundle, headers, file_name, data):
    return client.post(
        f"/v1/evidence/bundles/{bundle['id']}/files", headers=headers, files={"file": (file_name, data, "text/plain")}
    )


class Gate:
    """Makes the job's URL fetches wait until :meth:`open` (``entered``: a fetch is waiting)."""

    def __init__(self, fetchers) -> None:
        self.entered, self.released, self.calls = threading.Event(), threading.Event(), 0
        real = fetchers.urls.fetch

        def fetch(url, **options):
            self.calls += 1
            self.entered.set()
            assert self.released.wait(30), "the test never opened the gate"
            return real(url, **options)

        fetchers.urls.fetch = fetch

    def open(self) -> None:
        self.released.set()


@pytest.fixture
def gate(settings, use_fetchers):
    fetchers = use_fetchers(make_local_fetchers(settings))
    gate = Gate(fetchers)
    yield gate
    gate.open()  # never leave the worker's thread waiting


@pytest.fixture
def page(http_server) -> str:
    http_server.routes["/page"] = respond(200, PAGE, {"Content-Type": "text/html"})
    return http_server.url("/page")


def test_the_request_answers_at_once_while_the_fetch_waits_holding_no_transaction(
    app, client, earner, bundle, gate, page, blobs
):
    engine = app.state.engine
    pids: set[int] = set()
    if engine.dialect.name == "postgresql":
        engine.pool.dispose()  # every connection from here on is a new one, whose pid we note
        sa.event.listen(engine, "connect", lambda connection, _record: pids.add(connection.info.backend_pid))

    response = add(client, bundle, earner, {"kind": "url", "url": page})

    assert response.status_code == 202, response.text
    item = response.json()
    assert (item["state"], item["sha256"], item["content_url"]) == ("fetching", None, None)
    assert response.headers["Location"] == f"/v1/evidence/bundles/{bundle['id']}"
    assert gate.entered.wait(30), "the fetch job never started"
    shown = client.get(f"/v1/evidence/bundles/{bundle['id']}", headers=earner).json()["items"]
    assert [(i["id"], i["state"]) for i in shown] == [(item["id"], "fetching")]
    assert engine.pool.checkedout() == 0  # neither the request nor the job holds a connection
    if engine.dialect.name == "postgresql":
        observer = sa.create_engine(engine.url)
        try:
            with observer.connect() as connection:
                states = connection.execute(
                    sa.text("SELECT state FROM pg_stat_activity WHERE pid = ANY(:pids)"), {"pids": list(pids)}
                ).scalars()
                assert pids and not [s for s in states if s and s.startswith("idle in transaction")]
        finally:
            observer.dispose()

    gate.open()
    done = settled(client, bundle["id"], item["id"], earner)
    assert (done["state"], done["error"], done["media_type"]) == ("ready", None, "text/html")
    assert blobs.get(done["sha256"]) == PAGE and done["size"] == len(PAGE) and done["fetched_at"]
    content = client.get(done["content_url"], headers=earner)
    assert content.status_code == 200 and content.content == PAGE


def test_an_unreachable_url_is_tried_again_then_fails_with_the_reason(client, earner, bundle, settings, use_fetchers):
    fetchers = use_fetchers(make_local_fetchers(settings))
    attempts: list[str] = []
    real = fetchers.urls.fetch
    fetchers.urls.fetch = lambda url, **options: attempts.append(url) or real(url, **options)

    item = add_fetched(client, bundle, earner, {"kind": "url", "url": "https://nowhere.test/cv"})

    assert item["state"] == "failed" and item["error"].startswith("url_unreachable: "), item
    assert "nowhere.test could not be reached" in item["error"]
    assert len(attempts) == 1 + evidence_jobs.FETCH_RETRY.max_attempts  # the first try and the retries
    assert (item["sha256"], item["size"], item["content_url"]) == (None, 0, None)


def test_a_url_that_answers_but_refuses_is_not_tried_again(client, earner, bundle, settings, use_fetchers, http_server):
    use_fetchers(make_local_fetchers(settings))
    http_server.routes["/gone"] = respond(404, b"not here")

    item = add_fetched(client, bundle, earner, {"kind": "url", "url": http_server.url("/gone")})

    assert item["state"] == "failed" and item["error"].startswith("url_http_error: ")
    assert http_server.hits("/gone") == 1 and item["fetched_at"] is None


def test_the_bundle_limit_is_checked_again_when_the_fetched_bytes_are_stored(
    client, earner, bundle, gate, http_server, stored
):
    http_server.routes["/big"] = respond(200, b"x" * (200 * KIB), {"Content-Type": "text/plain"})
    response = add(client, bundle, earner, {"kind": "url", "url": http_server.url("/big")})
    assert response.status_code == 202 and gate.entered.wait(30)
    # meanwhile the bundle (600 KiB) fills up: 2 x 250 KiB leaves 100 KiB, too little for 200 KiB
    for n in range(2):
        assert upload(client, bundle, earner, f"part{n}.txt", bytes([65 + n]) * (250 * KIB)).status_code == 201
    before = stored.snapshot()
    gate.open()

    item = settled(client, bundle["id"], response.json()["id"], earner)

    assert item["state"] == "failed" and item["error"].startswith("evidence_bundle_too_large: "), item
    assert stored.snapshot() == before  # no bytes stored for it


def test_the_job_changes_nothing_when_it_runs_again(app, client, earner, bundle, local_fetchers, page):
    item = add_fetched(client, bundle, earner, {"kind": "url", "url": page})
    state = app.state
    services = JobServices(state.engine, state.keystore, state.settings, state.mailer, state.clock)

    assert evidence_jobs.run_fetch(services, item["id"]) is None
    assert client.get(f"/v1/evidence/bundles/{bundle['id']}", headers=earner).json()["items"] == [item]


def test_a_deleted_item_is_forgotten_by_its_fetch(monkeypatch, client, earner, bundle, gate, page, stored):
    outcomes: list[str | None] = []
    stored_it = threading.Event()
    real = fetching.store_fetched

    def store_fetched(*args, **options):
        outcomes.append(real(*args, **options))
        stored_it.set()
        return outcomes[-1]

    monkeypatch.setattr(fetching, "store_fetched", store_fetched)
    response = add(client, bundle, earner, {"kind": "url", "url": page})
    assert response.status_code == 202 and gate.entered.wait(30)
    path = f"/v1/evidence/bundles/{bundle['id']}/items/{response.json()['id']}"
    assert client.delete(path, headers=earner).status_code == 204

    gate.open()

    assert stored_it.wait(30) and outcomes == [None]  # nothing to store it for
    assert stored.snapshot() == (0, frozenset())


# --- submission ----------------------------------------------------------------------------------


@pytest.fixture
def assessable(api, app, client, earner, issuer) -> dict:
    """An open bundle for an achievement with a rubric (so it could be submitted)."""
    achievement = create_achievement_with_rubric(api, app, issuer["id"], rubric("auto"))
    response = client.post("/v1/evidence/bundles", json={"achievement_id": achievement["id"]}, headers=earner)
    assert response.status_code == 201, response.text
    return response.json()


def submit(client, bundle, headers):
    return client.post("/v1/assessments", json={"bundle_id": bundle["id"]}, headers=headers)


def test_a_bundle_with_an_item_still_fetching_cannot_be_submitted(client, earner, assessable, gate, page):
    assert add(client, assessable, earner, {"kind": "text", "text": "My notes"}).status_code == 201
    assert add(client, assessable, earner, {"kind": "url", "url": page}).status_code == 202

    response = submit(client, assessable, earner)

    assert (response.status_code, response.json()["error"]) == (409, "evidence_not_ready"), response.text
    shown = client.get(f"/v1/evidence/bundles/{assessable['id']}", headers=earner).json()
    assert shown["state"] == "open"  # the refusal changed nothing


def test_a_bundle_with_a_failed_item_cannot_be_submitted_until_it_is_removed(
    client, earner, assessable, settings, use_fetchers
):
    use_fetchers(make_local_fetchers(settings))
    assert add(client, assessable, earner, {"kind": "text", "text": "My notes"}).status_code == 201
    failed = add_fetched(client, assessable, earner, {"kind": "url", "url": "https://nowhere.test/cv"})
    assert failed["state"] == "failed"

    response = submit(client, assessable, earner)

    assert (response.status_code, response.json()["error"]) == (409, "evidence_failed"), response.text
    path = f"/v1/evidence/bundles/{assessable['id']}/items/{failed['id']}"
    assert client.delete(path, headers=earner).status_code == 204
    assert submit(client, assessable, earner).status_code == 202


# --- recovery and credentials --------------------------------------------------------------------


def test_recovery_re_defers_the_items_still_fetching(app, earner, bundle, settings, blobs):
    with Session(app.state.engine) as session:
        owner = session.get(Account, bundle["owner_id"])
        limits = EvidenceLimits.from_settings(settings)
        waiting = service.add_item(
            session, blobs, bundle["id"], pending_url("https://example.org/a", name=None), owner=owner, limits=limits
        )
        text = PreparedItem(kind="text", data=b"done", media_type="text/plain")
        service.add_item(session, blobs, bundle["id"], text, owner=owner, limits=limits)
        session.commit()
        waiting_id = waiting.id

    requests = evidence_jobs.recover(SimpleNamespace(engine=app.state.engine))

    assert evidence_jobs.recover in worker.RECOVERIES  # run when an in-process worker starts
    assert [(r.task_name, dict(r.kwargs), r.queue) for r in requests] == [
        ("evidence:fetch_item", {"item_id": waiting_id}, "evidence")
    ]


def test_a_credential_cites_ready_items_only(settings):
    ready = EvidenceItemRecord(
        bundle_id="b",
        position=1,
        kind="url",
        sha256="ab" * 32,
        size=3,
        media_type="text/html",
        url="https://a.example/",
    )
    failed = EvidenceItemRecord(
        bundle_id="b", position=2, kind="url", sha256="", size=0, media_type="", url="https://b.example/"
    )
    failed.state, failed.error = "failed", "url_unreachable: gone"

    entries = service.credential_evidence(settings, [ready, failed])

    assert [entry["id"] for entry in entries] == ["https://a.example/"]
