"""A revoked or suspended credential's status check says when, and honestly what that date is:

- for this service's own lists, the date the issuer revoked or suspended it (the service recorded
  the change): "The issuer has revoked this credential on <date>";
- for another issuer's list, only the date of the list that says so: "... (as of the status list
  published <validFrom>; the list does not say when the status changed)".
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from service.vc import data_integrity
from service.vc.keys import did_key_signer, load_ed25519_key_file
from service.vc.openbadges import Achievement, IssuerProfile, build_achievement_credential
from service.vc.status_list import (
    BitstringStatusList,
    MappedStatusListResolver,
    build_status_entry,
    build_status_list_credential,
)
from service.vc.verify import verify
from tests.credentials.helpers import audit_events
from tests.status.helpers import change

KEYS = Path(__file__).resolve().parents[1] / "fixtures" / "keys"
LIST_URL = "https://other-issuer.example/status/7"


def _report(client, credential_id: str, headers: dict) -> dict:
    text = client.get(f"/v1/credentials/{credential_id}/jsonld", headers=headers).content
    response = client.post("/v1/verify", content=text, headers={"Content-Type": "application/vc+ld+json"})
    assert response.status_code == 200, response.text
    return {check["id"]: check for check in response.json()["checks"]}


def _when(api, credential_id: str) -> str:
    changed = api.client.get(f"/v1/credentials/{credential_id}", headers=api.admin).json()["status_changed_at"]
    return datetime.fromisoformat(changed).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_our_own_revocation_is_dated_with_the_day_it_happened(api, achievement):
    issued = api.issue(achievement["id"])
    assert change(api, issued["id"], "revoke").status_code == 200

    check = _report(api.client, issued["id"], api.admin)["status.revocation"]

    assert check["outcome"] == "failed"
    assert check["reason"] == f"The issuer has revoked this credential on {_when(api, issued['id'])}"
    assert check["details"] == {"status_changed_at": _when(api, issued["id"]), "date_source": "issuer_record"}


def test_a_suspension_later_turned_into_a_revocation_keeps_its_own_date(app, api, achievement):
    issued = api.issue(achievement["id"])
    change(api, issued["id"], "suspend")
    change(api, issued["id"], "revoke")
    suspended_at = audit_events(app, "credential.suspend")[0].at.strftime("%Y-%m-%dT%H:%M:%SZ")

    checks = _report(api.client, issued["id"], api.admin)

    assert checks["status.suspension"]["reason"] == f"The issuer has suspended this credential on {suspended_at}"
    assert (
        checks["status.revocation"]["reason"] == f"The issuer has revoked this credential on {_when(api, issued['id'])}"
    )


def test_an_unsuspended_credential_passes_without_a_date(api, achievement):
    issued = api.issue(achievement["id"])
    change(api, issued["id"], "suspend")
    change(api, issued["id"], "unsuspend")

    check = _report(api.client, issued["id"], api.admin)["status.suspension"]
    assert check["outcome"] == "passed" and "on 20" not in check["reason"]


def test_another_issuers_list_gives_only_its_own_date():
    signer = did_key_signer(load_ed25519_key_file(json.loads((KEYS / "issuer-ed25519.json").read_text())))
    did = signer.verification_method.split("#")[0]
    bits = BitstringStatusList()
    bits.set(4242, 1)
    status_list = data_integrity.sign(
        build_status_list_credential(
            list_id=LIST_URL,
            issuer=did,
            status_purpose="revocation",
            encoded_list=bits.encode(),
            valid_from="2026-06-01T12:00:00Z",
        ),
        signer,
    )
    credential = build_achievement_credential(
        credential_id="https://other-issuer.example/credentials/1",
        issuer=IssuerProfile(id=did, name="Other"),
        achievement=Achievement(
            id="https://other-issuer.example/achievements/1", name="A", description="B", criteria_narrative="C"
        ),
        recipient_did="did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        valid_from="2026-01-01T00:00:00Z",
        credential_status=build_status_entry(list_credential_url=LIST_URL, index=4242, purpose="revocation"),
    )

    report = verify(
        data_integrity.sign(credential, signer),
        status_resolver=MappedStatusListResolver({LIST_URL: status_list}),
        now=datetime(2026, 6, 2, tzinfo=UTC),
    )

    check = report.check("status.revocation")
    assert check.outcome == "failed"
    assert check.reason == (
        "The issuer has revoked this credential (as of the status list published "
        "2026-06-01T12:00:00Z; the list does not say when the status changed)"
    )
    assert check.details == {"status_as_of": "2026-06-01T12:00:00Z", "date_source": "status_list"}
