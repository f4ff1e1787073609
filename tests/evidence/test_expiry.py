"""Bundles never submitted for assessment and left untouched are deleted with their items, and
their bytes go with the blob sweep: ``skillcred evidence-sweep`` does both (issue 9, item 5)."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from service.audit.models import AuditEvent
from service.cli.main import main
from service.core.models import utcnow
from service.evidence import service
from service.evidence.commands import expire_command, sweep_command
from service.evidence.models import EvidenceBundleRecord, EvidenceItemRecord


def new_bundle(client, headers, achievement) -> dict:
    response = client.post("/v1/evidence/bundles", json={"achievement_id": achievement["id"]}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def add_text(client, bundle, headers, text) -> dict:
    response = client.post(
        f"/v1/evidence/bundles/{bundle['id']}/items", json={"kind": "text", "text": text}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


def age(app, bundle, days: int) -> None:
    """Make ``bundle`` look untouched for ``days`` days."""
    with app.state.engine.begin() as connection:
        connection.execute(
            sa.update(EvidenceBundleRecord)
            .where(EvidenceBundleRecord.id == bundle["id"])
            .values(updated_at=utcnow() - timedelta(days=days))
        )


def bundle_ids(app) -> set[str]:
    with Session(app.state.engine) as session:
        return set(session.exec(select(EvidenceBundleRecord.id)))


def item_ids(app) -> set[str]:
    with Session(app.state.engine) as session:
        return set(session.exec(select(EvidenceItemRecord.id)))


@pytest.fixture
def bundles(app, client, earner, achievement) -> dict[str, dict]:
    """A stale open bundle (two items, one sharing its bytes with the fresh bundle), a fresh open
    bundle and a stale submitted (locked) bundle."""
    stale, fresh, submitted = (new_bundle(client, earner, achievement) for _ in range(3))
    stale["items"] = [add_text(client, stale, earner, "only here"), add_text(client, stale, earner, "shared")]
    fresh["items"] = [add_text(client, fresh, earner, "shared")]
    submitted["items"] = [add_text(client, submitted, earner, "assessed")]
    with Session(app.state.engine) as session:
        service.lock_bundle(session, submitted["id"])
        session.commit()
    age(app, stale, 31)
    age(app, submitted, 400)
    age(app, fresh, 29)
    return {"stale": stale, "fresh": fresh, "submitted": submitted}


def test_old_unsubmitted_bundles_are_deleted_with_their_items_and_then_their_bytes(app, settings, bundles, blobs):
    stale, fresh, submitted = bundles["stale"], bundles["fresh"], bundles["submitted"]

    assert expire_command(settings, days=30) == [stale["id"]]

    assert bundle_ids(app) == {fresh["id"], submitted["id"]}
    assert item_ids(app) == {item["id"] for item in fresh["items"] + submitted["items"]}
    with Session(app.state.engine) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "evidence.bundle.expire")).one()
    assert event.object_id == stale["id"] and event.before["items"] == 2 and event.actor_id is None

    only_here, shared = (item["sha256"] for item in stale["items"])
    assert sweep_command(settings, grace_seconds=-1) == [only_here]
    assert not blobs.exists(only_here) and blobs.exists(shared)


def test_running_the_expiry_again_does_no_harm(settings, bundles):
    assert expire_command(settings, days=30) == [bundles["stale"]["id"]]
    assert expire_command(settings, days=30) == []


def test_the_age_comes_from_the_setting_and_zero_expires_nothing(app, settings, bundles):
    assert settings.evidence_unsubmitted_bundle_days == 90
    assert expire_command(settings) == []  # 31 days is not 90
    assert expire_command(settings.model_copy(update={"evidence_unsubmitted_bundle_days": 30})) == [
        bundles["stale"]["id"]
    ]
    age(app, bundles["fresh"], 10_000)
    assert expire_command(settings, days=0) == []
    assert bundles["fresh"]["id"] in bundle_ids(app)


def test_a_bundle_touched_after_it_was_listed_is_spared(app, client, earner, settings, bundles):
    stale = bundles["stale"]
    untouched_since = utcnow() - timedelta(days=30)
    with Session(app.state.engine) as session:
        assert service.unsubmitted_bundles(session, untouched_since=untouched_since) == [stale["id"]]
    add_text(client, stale, earner, "just now")  # the earner came back meanwhile
    with Session(app.state.engine) as session:
        assert service.expire_bundle(session, stale["id"], untouched_since=untouched_since) is False
        session.commit()
    assert len(client.get(f"/v1/evidence/bundles/{stale['id']}", headers=earner).json()["items"]) == 3


def test_an_expired_bundle_is_gone_for_its_earner(client, earner, settings, bundles):
    stale = bundles["stale"]
    expire_command(settings, days=30)
    assert client.get(f"/v1/evidence/bundles/{stale['id']}", headers=earner).status_code == 404
    response = client.post(
        f"/v1/evidence/bundles/{stale['id']}/items", json={"kind": "text", "text": "late"}, headers=earner
    )
    assert response.status_code == 404


def test_skillcred_evidence_sweep_expires_bundles_then_removes_bytes(app, bundles, monkeypatch, capsys, blobs):
    monkeypatch.setattr("service.core.config.get_settings", lambda: app.state.settings)

    assert main(["evidence-sweep", "--expire-after-days", "30", "--grace-seconds", "-1"]) == 0
    assert main(["evidence-sweep", "--expire-after-days", "30", "--grace-seconds", "-1"]) == 0

    assert capsys.readouterr().out.splitlines() == [
        "1 never-submitted evidence bundle(s) expired",
        "1 unreferenced evidence blob(s) removed",
        "0 never-submitted evidence bundle(s) expired",
        "0 unreferenced evidence blob(s) removed",
    ]
    assert not blobs.exists(bundles["stale"]["items"][0]["sha256"])
