"""Re-signing: a change is published within seconds by a job deferred with it (a burst of changes
with one signature); a periodic round re-signs every list once per interval, so an unchanged list
never expires. Reading a list never re-signs it, except a list whose change no job published a
few seconds on, or that the round let run out. Several signers never store two signatures."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from service.accounts.models import Account, Role
from service.credentials.lifecycle import StatusAction, change_status
from service.status import publish
from service.status.models import StatusList
from tests.concurrency import Contender, Gate, Worker, started
from tests.status.helpers import bit, change, entries, resigner_round, served_list, stored_list

INTERVAL = 300


@pytest.fixture
def credentials(api, achievement):
    return [api.issue(achievement["id"]) for _ in range(3)]


@pytest.fixture
def revocation(credentials):
    """The revocation list's entries of the three credentials (one list holds them all)."""
    found = [entries(c["credential"])["revocation"] for c in credentials]
    assert len({e.list_id for e in found}) == 1
    return found


def test_a_change_is_served_as_signed_until_its_job_runs_or_a_few_seconds_pass(
    app, api, credentials, revocation, clock
):
    first = served_list(api.client, revocation[0])
    change(api, credentials[0]["id"], "revoke")  # no worker runs here: its job waits

    clock.advance(publish.STALE_AFTER - timedelta(seconds=1))
    assert served_list(api.client, revocation[0]).headers["etag"] == first.headers["etag"]

    clock.advance(timedelta(seconds=1))  # the job is late: the reader signs the change itself
    published = served_list(api.client, revocation[0])
    assert published.headers["etag"] != first.headers["etag"]
    assert [bit(published.json(), e.index) for e in revocation] == [1, 0, 0]
    assert served_list(api.client, revocation[0]).headers["etag"] == published.headers["etag"]  # stored


def test_the_change_job_signs_a_changed_list_and_leaves_an_unchanged_one(app, api, credentials, revocation, clock):
    served_list(api.client, revocation[0])
    change(api, credentials[0]["id"], "revoke")
    engine, keystore, settings = app.state.engine, app.state.keystore, app.state.settings
    with Session(engine) as session:
        changed = publish.resign(session, keystore, settings, revocation[0].list_id, when=publish.is_dirty_or_due)
        session.commit()
    assert changed is not None and changed.signed_now
    with Session(engine) as session:
        again = publish.resign(session, keystore, settings, revocation[0].list_id, when=publish.is_dirty_or_due)
    assert again is not None and not again.signed_now and again.etag == changed.etag


def test_a_list_the_re_signer_let_run_out_is_signed_by_its_reader_with_the_current_bits(
    app, api, credentials, revocation, clock
):
    first = served_list(api.client, revocation[0])
    clock.advance(timedelta(seconds=3 * INTERVAL))  # no re-signer ran: the copy is about to expire

    change(api, credentials[2]["id"], "revoke")
    published = served_list(api.client, revocation[0])

    assert published.headers["etag"] != first.headers["etag"]
    assert bit(published.json(), revocation[2].index) == 1
    assert published.json()["validUntil"] > first.json()["validUntil"]


def test_reading_an_unchanged_list_many_times_never_re_signs_it(app, api, revocation, clock):
    first = served_list(api.client, revocation[0])
    for _ in range(4):
        clock.advance(timedelta(seconds=INTERVAL // 3))  # at the end past the interval, within the margin
        assert served_list(api.client, revocation[0]).headers["etag"] == first.headers["etag"]
    assert stored_list(app, revocation[0].list_id).signed_at == clock.now() - timedelta(seconds=4 * (INTERVAL // 3))


def test_an_unchanged_list_is_re_signed_by_the_re_signer_after_the_interval_so_it_never_expires(
    app, api, revocation, clock
):
    first = served_list(api.client, revocation[0]).json()
    clock.advance(timedelta(seconds=INTERVAL - 1))
    resigner_round(app, now=clock.now())
    assert served_list(api.client, revocation[0]).json() == first  # not yet due
    clock.advance(timedelta(seconds=1))

    resigner_round(app, now=clock.now())
    renewed = served_list(api.client, revocation[0]).json()

    assert renewed["validUntil"] > first["validUntil"]
    assert renewed["credentialSubject"]["encodedList"] == first["credentialSubject"]["encodedList"]


def test_the_background_round_re_signs_every_list_whose_interval_passed(app, api, credentials, revocation, clock):
    served_list(api.client, revocation[0])
    served_list(api.client, entries(credentials[0]["credential"])["suspension"])  # both lists signed
    change(api, credentials[0]["id"], "revoke")
    engine, keystore, settings = app.state.engine, app.state.keystore, app.state.settings

    assert publish.resign_due_lists(engine, keystore, settings, now=clock.now()) == (0, 0)  # too soon
    assert publish.seconds_until_next_due(engine, settings, now=clock.now()) == pytest.approx(INTERVAL, abs=1)
    clock.advance(timedelta(seconds=INTERVAL))
    both_lists = 2  # the changed revocation list, and the unchanged suspension list before it expires
    assert publish.resign_due_lists(engine, keystore, settings, now=clock.now()) == (both_lists, 0)
    assert publish.resign_due_lists(engine, keystore, settings, now=clock.now()) == (0, 0)  # done

    row = stored_list(app, revocation[0].list_id)
    assert row.signed_version == row.version and row.signed_at == clock.now()
    assert publish.seconds_until_next_due(engine, settings, now=clock.now()) == pytest.approx(INTERVAL, abs=1)
    assert bit(served_list(api.client, revocation[0]).json(), revocation[0].index) == 1


def test_the_background_round_signs_a_list_nobody_has_read_yet(app, api, revocation, clock):
    served_list(api.client, revocation[0])
    suspension_never_read = 1  # the suspension list was never signed: it is signed on the first round

    assert resigner_round(app, now=clock.now()) == (suspension_never_read, 0)


def test_two_workers_re_signing_at_once_store_one_signature(app, api, credentials, revocation, clock, db):
    served_list(api.client, revocation[0])
    change(api, credentials[0]["id"], "revoke")
    clock.advance(timedelta(seconds=INTERVAL))
    keystore, settings = app.state.keystore, app.state.settings

    # worker A has read the list and is signing when worker B re-signs and commits
    with db() as session_a:
        row = session_a.get(StatusList, revocation[0].list_id)
        assert row is not None and publish.is_due(row, settings, clock.now())
        with db() as session_b:
            won = publish.resign(session_b, keystore, settings, row.id, now=clock.now())
        lost = publish.resign(session_a, keystore, settings, row.id, now=clock.now())

    assert won is not None and won.signed_now
    assert lost is not None and not lost.signed_now  # B's signature was already there: A stores nothing
    assert lost.etag == won.etag
    assert stored_list(app, row.id).etag == won.etag


@pytest.mark.parametrize("status_settings", [{"jobs_in_process": True}])
def test_a_burst_of_revocations_is_published_by_one_job_within_seconds(app, api, credentials, revocation, monkeypatch):
    first = served_list(api.client, revocation[0])
    sign = publish.sign_list_credential
    signed: list[str] = []

    def counting_sign(session, keystore, settings, status_list, now):
        signed.append(status_list.id)
        return sign(session, keystore, settings, status_list, now)

    monkeypatch.setattr(publish, "sign_list_credential", counting_sign)
    started_at = time.monotonic()
    change(api, credentials[0]["id"], "revoke")
    change(api, credentials[1]["id"], "revoke")

    deadline = started_at + 5
    while time.monotonic() < deadline:
        row = stored_list(app, revocation[0].list_id)
        if row.signed_version == row.version:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("no job published the revocations within 5 s")

    published = served_list(api.client, revocation[0])
    assert published.headers["etag"] != first.headers["etag"]
    assert [bit(published.json(), e.index) for e in revocation] == [1, 1, 0]
    assert signed.count(revocation[0].list_id) == 1  # the burst coalesced into one signature


def test_a_change_that_lands_while_the_list_is_being_signed_neither_waits_nor_is_lost(
    app, api, credentials, revocation, clock, db, monkeypatch
):
    served_list(api.client, revocation[0])
    clock.advance(timedelta(seconds=INTERVAL))
    admin = _admin(app)
    sign = publish.sign_list_credential
    racer: list[Worker] = []
    racer_ready = Gate("the revocation's transaction", hold=False)

    def revoke() -> None:
        with db() as session:
            racer_ready.arrive(Contender(session))
            change_status(
                session,
                app.state.settings,
                credentials[1]["id"],
                StatusAction.revoke,
                reason="Racing the re-signer",
                actor=admin,
                now=clock.now(),
            )

    def revoke_while_signing(session, *args, **kwargs):
        signed = sign(session, *args, **kwargs)
        racer.extend(started(Worker(revoke, name="revoke")))
        racer_ready.wait_for_arrivals(1)
        racer[0].outcome()  # the re-signer holds no list row: the revocation commits meanwhile
        return signed

    monkeypatch.setattr(publish, "sign_list_credential", revoke_while_signing)
    with db() as session:
        published = publish.resign(
            session, app.state.keystore, app.state.settings, revocation[0].list_id, now=clock.now()
        )
    for contender in racer_ready.arrivals:
        contender.close()

    # storing the signature (made without the revocation) is refused; the list stays dirty
    assert published is not None and not published.signed_now
    row = stored_list(app, revocation[0].list_id)
    assert row.version == 1 and publish.is_dirty(row)  # so it will be re-signed with the revocation
    monkeypatch.setattr(publish, "sign_list_credential", sign)
    clock.advance(timedelta(seconds=INTERVAL))
    resigner_round(app, now=clock.now())
    assert bit(served_list(api.client, revocation[0]).json(), revocation[1].index) == 1


def _admin(app) -> Account:
    with Session(app.state.engine) as session:
        admin = session.exec(select(Account).where(Account.role == Role.admin)).one()
        session.expunge(admin)
        return admin
