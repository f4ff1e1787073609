"""Credentials the service issued before the restructuring (issue 10) and the hardening (issue 9)
still verify with today's code: the stored JSON-LD and the VC-JWT of a credential issued by
commit 10359df, with the DID document and status lists that deployment published."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from service.vc.did import DocumentKeyResolver
from service.vc.status_list import MappedStatusListResolver
from service.vc.verify import verify

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "issued-before-issue-10"
#: Within the published status lists' validity window (they were valid for eleven minutes).
WHEN = datetime(2026, 12, 4, 23, 56, tzinfo=UTC)


@pytest.fixture(scope="module")
def published() -> dict:
    return json.loads((FIXTURES / "published.json").read_text())


@pytest.mark.parametrize("name", ["credential.jsonld", "credential.jwt"])
def test_a_credential_issued_by_the_earlier_code_still_verifies(published, name):
    keys = DocumentKeyResolver({published["did"]: published["did_document"]})
    statuses = MappedStatusListResolver(published["status_lists"])

    report = verify((FIXTURES / name).read_bytes(), key_resolver=keys, status_resolver=statuses, now=WHEN)

    assert report.verified, report.to_dict()
    outcomes = {check.id: check.outcome for check in report.checks}
    assert outcomes["issuer_key"] == "passed"
    assert outcomes["status.revocation"] == outcomes["status.suspension"] == "passed"
