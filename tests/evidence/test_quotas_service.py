"""The account quotas under concurrency: additions to several of one account's bundles at once
never take it past its stored-bytes quota (the check and the write are serialised per account:
PostgreSQL locks the account row, SQLite has one write lock), and a refused addition leaves no
blob behind."""

import threading

import pytest
from sqlmodel import Session

from service.accounts.models import Account
from service.core.errors import PayloadTooLarge
from service.evidence import intake, service

KIB = 1024
THREADS = 8


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"evidence_account_max_bytes": 512 * KIB})


@pytest.fixture
def owner(app, client, earner) -> Account:
    me = client.get("/v1/me", headers=earner).json()
    with Session(app.state.engine, expire_on_commit=False) as session:
        return session.get(Account, me["id"])


def test_parallel_additions_never_overshoot_the_account_quota(app, client, earner, achievement, owner, limits, blobs):
    bundles = [
        client.post("/v1/evidence/bundles", json={"achievement_id": achievement["id"]}, headers=earner).json()
        for _ in range(THREADS // 2)
    ]
    start = threading.Barrier(THREADS)
    outcomes: list[object] = []

    def add(n: int) -> None:
        # 100 KiB each, two per bundle: every bundle has room, the account has room for five.
        prepared = intake.prepare_text(chr(65 + n) * (100 * KIB), limits, name=None)
        with Session(app.state.engine) as session:
            start.wait()
            try:
                service.add_item(session, blobs, bundles[n % len(bundles)]["id"], prepared, owner=owner, limits=limits)
                session.commit()
                outcomes.append("stored")
            except PayloadTooLarge as refusal:
                session.rollback()
                outcomes.append(refusal.code)
            except Exception as error:  # pragma: no cover - shown in the assertion below
                outcomes.append(repr(error))

    threads = [threading.Thread(target=add, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["evidence_quota_exceeded"] * 3 + ["stored"] * 5, outcomes
    with Session(app.state.engine) as session:
        assert service.account_bytes(session, owner) == 500 * KIB <= limits.account_max_bytes
    assert len(list(blobs.digests())) == 5  # refused additions stored no bytes
