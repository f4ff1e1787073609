"""The outbox: an event is written with the change that causes it, or not at all."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from service.core.db import unit_of_work
from service.events.models import Event
from service.events.service import emit, payload


def test_a_rolled_back_change_emits_nothing_and_a_committed_one_its_event(app, api) -> None:
    issuer = api.create_issuer()
    engine = app.state.engine
    with pytest.raises(RuntimeError), unit_of_work(engine) as session:
        emit(session, issuer_id=issuer["id"], type="credential.issued", data={"credential_id": "rolled-back"})
        raise RuntimeError("the change fails after emitting")
    with unit_of_work(engine) as session:
        emit(session, issuer_id=issuer["id"], type="credential.issued", data={"credential_id": "kept"})
    with Session(engine) as session:
        events = session.exec(select(Event).where(Event.issuer_id == issuer["id"])).all()
    assert [e.data["credential_id"] for e in events] == ["kept"]
    body = payload(events[0])
    assert set(body) == {"id", "type", "timestamp", "data"} and body["timestamp"].endswith("Z")


def test_a_refused_revocation_emits_no_event(app, api) -> None:
    issuer = api.create_issuer()
    credential = api.issue(api.create_achievement(issuer["id"])["id"])
    path = f"/v1/credentials/{credential['id']}/revoke"
    assert api.client.post(path, json={"reason": "first"}, headers=api.admin).status_code == 200
    assert api.client.post(path, json={"reason": "again"}, headers=api.admin).status_code == 409
    with Session(app.state.engine) as session:
        types = sorted(e.type for e in session.exec(select(Event).where(Event.issuer_id == issuer["id"])))
    assert types == ["credential.issued", "credential.revoked"]


def test_unknown_event_types_are_a_programming_error(app) -> None:
    with pytest.raises(ValueError), unit_of_work(app.state.engine) as session:
        emit(session, issuer_id="x", type="credential.exploded", data={})
