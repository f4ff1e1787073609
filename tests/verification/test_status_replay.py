"""Replaying an old status list: a verifier handed a list signed before the revocation.

A status list credential is a signed snapshot; anyone who kept an old copy (a cache, an attacker
in the middle, the credential's holder) can hand it to a verifier after the issuer revoked the
credential. The copy's signature still verifies, so what stops it is its ``validUntil``
(Bitstring Status List v1.0, section 3.2 Validate Algorithm: the list credential is validated
like any credential, and VCDM 2.0 section 4.9 says a credential is not valid after
``validUntil``). SkillCred signs each list valid for the re-signing interval plus a margin; past
that, an old copy must fail, never pass as "not revoked".

The list comes from a real ``skillcred serve`` (its public ``/status/{id}`` URL) before the
revocation; the verification is the pure pipeline (:func:`service.vc.verify.verify` with a
:class:`~service.vc.status_list.MappedStatusListResolver` holding the old copy), clock given.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.vc.did import DocumentKeyResolver, did_web_document_url
from service.vc.status_list import BitstringStatusList, MappedStatusListResolver
from service.vc.verify import verify
from tests.serve import ADMIN, running_server

pytestmark = pytest.mark.attack

RESIGN_INTERVAL_SECONDS = 2


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    # a short re-signing interval, so the revocation is published within seconds
    settings = {
        "SKILLCRED_STATUS_LIST_RESIGN_INTERVAL_SECONDS": str(RESIGN_INTERVAL_SECONDS),
        "SKILLCRED_RATE_LIMITS": "false",
    }
    with running_server(database_url, tmp_path, workers=1, settings=settings) as running:
        yield running.base


def _bit(list_credential: dict[str, Any], index: int) -> int:
    return BitstringStatusList.decode(list_credential["credentialSubject"]["encodedList"]).get(index)


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_an_old_status_list_replayed_after_its_valid_until_does_not_clear_a_revoked_credential(server):
    http = httpx.Client(base_url=server, timeout=30)
    token = http.post("/v1/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]}).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    issuer = http.post("/v1/issuers", json={"name": "Replay Academy", "url": "https://replay.example"}, headers=auth)
    assert issuer.status_code == 201, issuer.text
    achievement = http.post(
        f"/v1/issuers/{issuer.json()['id']}/achievements",
        headers=auth,
        json={"name": "Replays", "description": "Spots replays.", "criteria": {"narrative": "Any."}},
    ).json()
    issued = http.post(
        "/v1/credentials",
        headers=auth,
        json={"achievement_id": achievement["id"], "recipient": {"email": "holder@example.org"}},
    )
    assert issued.status_code == 201, issued.text
    credential = issued.json()["credential"]
    did = credential["issuer"]["id"]
    keys = DocumentKeyResolver({did: httpx.get(did_web_document_url(did, scheme="http"), timeout=30).json()})
    entries = {e["statusPurpose"]: e for e in credential["credentialStatus"]}
    revocation = entries["revocation"]
    index = int(revocation["statusListIndex"])
    # what a verifier (or an attacker) keeps from before the revocation
    old_lists = {e["statusListCredential"]: http.get(e["statusListCredential"]).json() for e in entries.values()}
    old_revocation_list = old_lists[revocation["statusListCredential"]]
    assert _bit(old_revocation_list, index) == 0

    revoked = http.post(f"/v1/credentials/{issued.json()['id']}/revoke", json={"reason": "Fraud"}, headers=auth)
    assert revoked.status_code == 200, revoked.text

    # the server publishes the revocation within the re-signing interval
    deadline = time.monotonic() + 10 * RESIGN_INTERVAL_SECONDS + 20
    current = http.get(revocation["statusListCredential"]).json()
    while _bit(current, index) == 0:
        assert time.monotonic() < deadline, "the revocation was never published"
        time.sleep(0.5)
        current = http.get(revocation["statusListCredential"]).json()
    old_until = _instant(old_revocation_list["validUntil"])
    fresh = verify(
        credential,
        key_resolver=keys,
        status_resolver=MappedStatusListResolver({**old_lists, revocation["statusListCredential"]: current}),
        now=_instant(current["validFrom"]) + timedelta(minutes=1),
    )
    assert not fresh.verified and fresh.check("status.revocation").outcome == "failed", fresh.to_text()

    replayed = MappedStatusListResolver(old_lists)
    # Within its validity the old copy is still believed: that window (the re-signing interval
    # plus a margin) is the staleness the issuer accepts by publishing lists this way.
    within = verify(credential, key_resolver=keys, status_resolver=replayed, now=old_until - timedelta(seconds=1))
    assert within.verified and within.check("status.revocation").outcome == "passed", within.to_text()

    for late in (timedelta(seconds=1), timedelta(hours=1), timedelta(days=400)):
        report = verify(credential, key_resolver=keys, status_resolver=replayed, now=old_until + late)
        check = report.check("status.revocation")
        assert check is not None and check.outcome == "failed", report.to_text()
        assert "not trustworthy" in check.reason and "Expired" in check.reason, check.reason
        assert not report.verified, report.to_text()
