"""A bulk batch stores what single issuance stores: :func:`persist_many` and
:func:`recipient_identity_ids` write, without ORM objects, the rows :func:`persist` and
:func:`recipient_identities` write."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from service.audit.models import AuditEvent
from service.credentials import issuing
from service.credentials.issuing import IssueRequest, Recipient
from service.credentials.models import Credential, RecipientIdentity
from service.events.models import Event

# columns whose values are drawn afresh for each row written (ids, the time of writing)
FRESH = {"id", "at", "occurred_at", "created_at"}


def _signed(app, session, achievement_id: str, recipient: Recipient) -> issuing.SignedCredential:
    request = IssueRequest(achievement_id=achievement_id, recipient=recipient)
    prepared = issuing.prepare(session, app.state.settings, request, now=datetime.now(UTC))
    return issuing.build_and_sign(session, app.state.keystore, app.state.settings, prepared)


def _rows(session, model: Any, where: Any) -> list[dict[str, Any]]:
    table = model.__table__
    return [dict(row._mapping) for row in session.connection().execute(sa.select(table).where(where))]


def _written(session, signed: issuing.SignedCredential) -> dict[str, list[dict[str, Any]]]:
    credential_id = signed.prepared.credential_id
    credentials = _rows(session, Credential, Credential.__table__.c.id == credential_id)
    recipient_ids = [row["recipient_id"] for row in credentials]
    return {
        "credential": credentials,
        "identity": _rows(session, RecipientIdentity, RecipientIdentity.__table__.c.id.in_(recipient_ids)),
        "audit": _rows(session, AuditEvent, AuditEvent.__table__.c.object_id == credential_id),
        "event": [
            row
            for row in _rows(session, Event, Event.__table__.c.type == "credential.issued")
            if row["data"]["credential_id"] == credential_id
        ],
    }


def _comparable(written: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The rows without their fresh values, and with the recipient's id named by its role."""
    recipient_ids = {row["recipient_id"] for row in written["credential"]}
    out: dict[str, list[dict[str, Any]]] = {}
    for table, rows in written.items():
        out[table] = []
        for row in rows:
            kept = {k: v for k, v in row.items() if k not in FRESH}
            if table == "credential":
                kept["recipient_id"] = "<recipient>" if row["recipient_id"] in recipient_ids else row["recipient_id"]
            if table == "audit":
                after = dict(kept["after"])
                after["recipient_id"] = "<recipient>" if after["recipient_id"] in recipient_ids else "?"
                kept["after"] = after
            out[table].append(kept)
    return out


def test_a_batch_writes_the_rows_a_single_issuance_writes(app, api, achievement):
    api.issue(achievement["id"], {"email": "first@example.org"})  # the lists exist
    engine = app.state.engine
    recipients = [Recipient(email="ada@example.org"), Recipient(did="did:example:grace")]
    for recipient in recipients:
        with Session(engine) as session:
            signed = _signed(app, session, achievement["id"], recipient)  # its status entries claimed
            storing = session.begin_nested()
            issuing.persist(session, signed)
            session.flush()
            single = _written(session, signed)
            storing.rollback()
            storing = session.begin_nested()
            ids = issuing.recipient_identity_ids(session, [recipient])
            assert issuing.persist_many(session, [signed], recipient_ids=ids) == [signed.prepared.credential_id]
            batch = _written(session, signed)
            storing.rollback()
            session.rollback()
        assert all(len(rows) == 1 for rows in single.values())
        assert _comparable(batch) == _comparable(single)
        assert batch["credential"][0]["jsonld"] == single["credential"][0]["jsonld"]  # byte for byte


def test_a_batch_reuses_known_recipients_and_adds_each_new_one_once(app, api, achievement):
    known = api.issue(achievement["id"], {"email": "known@example.org"})
    engine = app.state.engine
    with Session(engine) as session:
        known_id = session.get(Credential, known["id"]).recipient_id
        recipients = [
            Recipient(email="known@example.org"),
            Recipient(email="new@example.org"),
            Recipient(email="new@example.org"),
            Recipient(did="did:example:new"),
        ]
        ids = issuing.recipient_identity_ids(session, recipients)
        assert set(ids) == {("email", "known@example.org"), ("email", "new@example.org"), ("did", "did:example:new")}
        assert ids[("email", "known@example.org")] == known_id
        rows = {row.id: row for row in session.connection().execute(sa.select(RecipientIdentity.__table__))}
        assert rows[ids[("email", "new@example.org")]].kind == "email"
        assert rows[ids[("did", "did:example:new")]].did == "did:example:new"
        assert len(rows) == 3
        # a second call finds them all: nothing more is added
        assert issuing.recipient_identity_ids(session, recipients) == ids
        session.rollback()
