"""The issuing path signs before it writes, and a status index taken meanwhile is picked again.

On SQLite the first write of a transaction takes the database's single write lock until the
commit; issuing used to take it before signing, so a burst of issuances queued on each other's
signatures. Now the indexes are picked by reading, the credential is signed, and only then are
the indexes claimed and the rows written.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from service.credentials import issuing
from service.status.models import StatusEntry
from tests.credentials.helpers import stored_credential


@pytest.fixture
def warmed(api, achievement):
    """The issuer's lists exist (its first credential opens them: that is a write)."""
    first = api.issue(achievement["id"], {"email": "first@example.org"})
    return {**achievement, "first_credential_id": first["id"]}


def _another_writer_can_write(engine) -> bool:
    """SQLite: whether a second connection can take the single write lock right now."""
    with engine.connect() as other:
        other.exec_driver_sql("PRAGMA busy_timeout=0")
        try:
            other.exec_driver_sql("BEGIN IMMEDIATE")  # takes the write lock or fails at once
        except sa.exc.OperationalError:
            return False
        other.exec_driver_sql("ROLLBACK")
        return True


def _this_transaction_has_written(session) -> bool:
    """PostgreSQL: a transaction gets an id at its first write, and not before."""
    return session.execute(sa.text("SELECT pg_current_xact_id_if_assigned()")).scalar() is not None


def test_nothing_is_written_before_the_credential_is_signed(app, api, warmed, monkeypatch):
    real_sign = issuing.sign
    before_signing: list[bool] = []

    def sign_and_look(session, *args, **kwargs):
        if app.state.engine.dialect.name == "sqlite":
            before_signing.append(not _another_writer_can_write(app.state.engine))
        else:
            before_signing.append(_this_transaction_has_written(session))
        return real_sign(session, *args, **kwargs)

    monkeypatch.setattr(issuing, "sign", sign_and_look)

    api.issue(warmed["id"], {"email": "ada@example.org"})

    assert before_signing == [False]


def test_an_index_claimed_by_another_issuance_meanwhile_is_picked_again_and_signed_again(app, api, warmed, monkeypatch):
    real_sign = issuing.sign
    signed_with: list[list[int]] = []

    def sign_then_lose_the_revocation_index(session, keystore, settings, prepared, allocation):
        signed_with.append(list(allocation.indexes))
        if len(signed_with) == 1:  # another issuance claims the picked revocation index, and commits
            with Session(app.state.engine) as other:
                other.add(
                    StatusEntry(
                        list_id=allocation.list_ids[0],
                        status_index=allocation.indexes[0],
                        credential_id=warmed["first_credential_id"],
                    )
                )
                other.commit()
        return real_sign(session, keystore, settings, prepared, allocation)

    monkeypatch.setattr(issuing, "sign", sign_then_lose_the_revocation_index)

    issued = api.issue(warmed["id"], {"email": "ada@example.org"})

    assert len(signed_with) == 2
    assert signed_with[1][0] != signed_with[0][0]  # a new revocation index ...
    assert signed_with[1][1] == signed_with[0][1]  # ... and the suspension index kept
    document = json.loads(stored_credential(app, issued["id"]).jsonld)
    indexes = [int(entry["statusListIndex"]) for entry in document["credentialStatus"]]
    assert indexes == signed_with[1]
    with Session(app.state.engine) as session:
        rows = session.exec(select(StatusEntry).where(StatusEntry.credential_id == issued["id"])).all()
    assert sorted(row.status_index for row in rows) == sorted(indexes)
