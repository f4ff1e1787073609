"""Kept verification reports never outlive their inputs (issue 15).

The app's verifier keeps the report of a credential that read only this service's keys and
lists, and answers the same bytes from it while every input reads the same again. Once the
report is kept (a second verification was answered from it), a revocation, a suspension and its
lifting show at once in ``POST /v1/verify`` and on the badge page (while the lists' signed copies
still show the old bits); a key reported compromised
fails the credential at once; a rotated key is in the next resolution; a re-signed status list or
a moment past one of the dates the report depends on is verified anew.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session

from service.core.clock import FixedClock
from service.core.models import utcnow
from service.issuers.resolver import LocalKeyResolver
from service.status import publish
from service.status.models import StatusList
from service.verification.service import Verifier
from tests.credentials.helpers import MEDIA_TYPES, status_list_urls
from tests.status.helpers import resigner_round
from tests.verification.test_key_compromise import assert_compromised, check, compromise, fetch, rotate


def verify_over_rest(api, content: bytes, fmt: str) -> dict[str, Any]:
    response = api.client.post("/v1/verify", content=content, headers={"Content-Type": MEDIA_TYPES[fmt]})
    assert response.status_code == 200, response.text
    return response.json()


def page(api, credential_id: str) -> str:
    response = api.client.get(f"/credentials/{credential_id}", headers={"Accept": "text/html"})
    assert response.status_code == 200, response.text
    return response.text


def warm(app, api, credential_id: str, content: bytes, fmt: str) -> dict[str, Any]:
    """Sign the status lists (as the re-signing job does), verify twice and show that the second
    answer came from the kept report; likewise the badge page."""
    resigner_round(app)
    reports = app.state.verifier.reports
    first = verify_over_rest(api, content, fmt)
    hits = reports.hits
    second = verify_over_rest(api, content, fmt)
    assert reports.hits == hits + 1, "the second verification was not answered from the kept report"
    assert second == first
    page(api, credential_id)
    hits = reports.hits
    assert '<div class="banner ok" role="status">' in page(api, credential_id)  # Verified
    assert reports.hits == hits + 1, "the badge page was not answered from the kept report"
    return second


def change(api, credential_id: str, action: str) -> None:
    response = api.client.post(
        f"/v1/credentials/{credential_id}/{action}", json={"reason": "Testing the cache"}, headers=api.admin
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("fmt", ["jsonld", "jwt"])
def test_a_revocation_shows_at_once_in_verify_and_on_the_page_after_the_report_is_kept(app, api, achievement, fmt):
    issued = api.issue(achievement["id"])
    content = fetch(api, issued["id"], fmt)
    assert warm(app, api, issued["id"], content, fmt)["verified"] is True

    change(api, issued["id"], "revoke")

    report = verify_over_rest(api, content, fmt)
    assert report["verified"] is False
    assert check(report, "status.revocation")["outcome"] == "failed"
    assert "</span> Revoked</strong>" in page(api, issued["id"])


def test_a_suspension_and_its_lifting_show_at_once(app, api, achievement):
    issued = api.issue(achievement["id"])
    content = fetch(api, issued["id"], "jsonld")
    warm(app, api, issued["id"], content, "jsonld")

    change(api, issued["id"], "suspend")
    report = verify_over_rest(api, content, "jsonld")
    assert report["verified"] is False and check(report, "status.suspension")["outcome"] == "failed"
    assert "</span> Suspended</strong>" in page(api, issued["id"])

    change(api, issued["id"], "unsuspend")
    assert verify_over_rest(api, content, "jsonld")["verified"] is True
    assert '<div class="banner ok" role="status">' in page(api, issued["id"])  # Verified


@pytest.mark.parametrize("fmt", ["jsonld", "jwt"])
def test_a_key_reported_compromised_fails_a_kept_report_at_once(app, api, issuer, achievement, fmt):
    issued = api.issue(achievement["id"])
    content = fetch(api, issued["id"], fmt)
    warm(app, api, issued["id"], content, fmt)

    fragment = "key-1" if fmt == "jsonld" else "rsa-1"
    compromise(api, issuer["id"], fragment)

    assert_compromised(verify_over_rest(api, content, fmt), f"{issuer['did']}#{fragment}")
    if fmt == "jsonld":  # the page verifies the JSON-LD, signed by key-1
        assert "</span> Not verified</strong>" in page(api, issued["id"])


def test_a_rotated_key_is_in_the_next_resolution_of_a_cached_did_document(app, api, issuer, achievement):
    settings = app.state.settings
    with Session(app.state.engine) as session:
        before = {m.id for m in LocalKeyResolver(session, settings).methods_of(issuer["did"])}
    rotate(api, issuer["id"])
    with Session(app.state.engine) as session:
        resolver = LocalKeyResolver(session, settings)
        after = {m.id for m in resolver.methods_of(issuer["did"])}
        assert resolver.version(issuer["did"]) == resolver.versions[issuer["did"]]
    assert before < after  # the retired keys stay, the new ones are added
    issued = api.issue(achievement["id"])
    assert verify_over_rest(api, fetch(api, issued["id"], "jsonld"), "jsonld")["verified"] is True


def test_a_re_signed_status_list_is_verified_anew_then_kept_again(app, api, achievement):
    issued = api.issue(achievement["id"])
    content = fetch(api, issued["id"], "jsonld")
    warm(app, api, issued["id"], content, "jsonld")
    reports = app.state.verifier.reports
    list_id = status_list_urls(issued["credential"])[0].rsplit("/", 1)[1]
    with Session(app.state.engine) as session:
        etag = session.get_one(StatusList, list_id).etag
        later = utcnow() + timedelta(seconds=2)  # a signature of another second: another text
        settings, keystore = app.state.settings, app.state.keystore
        publish.resign(session, keystore, settings, list_id, now=later, when=lambda *_: True)
        session.commit()
        assert session.get_one(StatusList, list_id, populate_existing=True).etag != etag

    misses, hits = reports.misses, reports.hits
    assert verify_over_rest(api, content, "jsonld")["verified"] is True
    assert (reports.misses, reports.hits) == (misses + 1, hits)
    assert verify_over_rest(api, content, "jsonld")["verified"] is True
    assert reports.hits == hits + 1


def test_a_kept_report_is_not_served_past_a_date_it_depends_on(app, api, achievement):
    issued = api.issue(achievement["id"])
    content = fetch(api, issued["id"], "jsonld")
    warm(app, api, issued["id"], content, "jsonld")
    reports = app.state.verifier.reports

    # past the signed status lists' validUntil (the re-signing interval plus a margin)
    app.state.clock = FixedClock(utcnow() + 3 * publish.validity(app.state.settings) + timedelta(days=1))

    hits = reports.hits
    report = verify_over_rest(api, content, "jsonld")
    assert reports.hits == hits
    assert report["verified"] is False
    assert check(report, "status.revocation")["outcome"] == "failed"
    assert "not trustworthy" in check(report, "status.revocation")["reason"]


def test_a_verifier_that_reads_another_services_did_keeps_no_report(app, api, achievement):
    """A did:web of another host is resolved remotely (here: not at all), so nothing is kept."""
    app.state.verifier = Verifier()
    foreign = (
        b'{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],'
        b' "issuer": "did:web:elsewhere.example", "proof": {"type": "DataIntegrityProof",'
        b' "cryptosuite": "eddsa-rdfc-2022", "verificationMethod": "did:web:elsewhere.example#key-1",'
        b' "proofPurpose": "assertionMethod", "proofValue": "z111"}}'
    )
    verify_over_rest(api, foreign, "jsonld")
    verify_over_rest(api, foreign, "jsonld")
    assert app.state.verifier.reports.hits == 0 and len(app.state.verifier.reports) == 0
