"""Re-signing: one job, the background re-signer, re-signs every list once per interval, so
changes are batched (at most one new signature per interval) and published within it, and an
unchanged list never expires. Reading a list never re-signs it (only a list the re-signer let run
out is signed by its reader). Several workers never store two signatures for one interval."""

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


def test_changes_within_the_interval_are_batched_into_one_new_signature(app, api, credentials, revocation, clock):
    first = served_list(api.client, revocation[0])
    signed_at = stored_list(app, revocation[0].list_id).signed_at

    clock.advance(timedelta(seconds=10))
    change(api, credentials[0]["id"], "revoke")
    clock.advance(timedelta(seconds=10))
    change(api, credentials[1]["id"], "revoke")
    clock.advance(timedelta(seconds=10))
    batched = served_list(api.client, revocation[0])

    assert batched.headers["etag"] == first.headers["etag"]  # not re-signed yet
    assert bit(batched.json(), revocation[0].index) == 0
    assert stored_list(app, revocation[0].list_id).signed_at == signed_at

    clock.advance(timedelta(seconds=INTERVAL - 30))  # the interval since the last signature has passed
    assert served_list(api.client, revocation[0]).headers["etag"] == first.headers["etag"]  # reads never re-sign
    resigner_round(app, now=clock.now())
    published = served_list(api.client, revocation[0])
    again = served_list(api.client, revocation[0])

    assert published.headers["etag"] != first.headers["etag"]
    assert again.headers["etag"] == published.headers["etag"]  # one signature for both changes
    document = published.json()
    assert [bit(document, e.index) for e in revocation] == [1, 1, 0]
    row = stored_list(app, revocation[0].list_id)
    assert row.signed_at == clock.now() and row.signed_version == row.version == 2


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


@pytest.mark.parametrize(
    "status_settings", [{"status_list_resign_interval_seconds": 1, "status_list_background_resign": True}]
)
def test_the_background_re_signer_publishes_a_change_within_the_interval_unasked(app, api, credentials, revocation):
    served_list(api.client, revocation[0])
    change(api, credentials[0]["id"], "revoke")
    changed = stored_list(app, revocation[0].list_id)
    assert changed.signed_version != changed.version

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        row = stored_list(app, revocation[0].list_id)
        if row.signed_version == row.version:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the background re-signer did not re-sign the changed list")

    assert row.signed_at is not None and changed.signed_at is not None
    assert (row.signed_at - changed.signed_at).total_seconds() < 1 + 1.5  # the interval, plus a round
    assert row.credential_text is not None and '"ttl": 1000' in row.credential_text


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
