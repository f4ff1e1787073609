"""GET /status/{id}: the signed BitstringStatusListCredential, with ETag, 304 and cache headers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.vc import data_integrity
from service.vc.status_list import MIN_LIST_LENGTH, BitstringStatusList, MappedStatusListResolver
from service.vc.verify import verify
from tests.credentials.helpers import assert_error, published_keys
from tests.status.helpers import bit, change, entries, resigner_round, served_list


@pytest.fixture
def issued(api, achievement):
    return api.issue(achievement["id"])


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_the_list_is_a_signed_bitstring_status_list_credential_of_the_issuer(api, issuer, issued):
    entry = entries(issued["credential"])["revocation"]

    response = served_list(api.client, entry)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vc+ld+json"
    assert response.headers["access-control-allow-origin"] == "*"
    document = response.json()
    assert document["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    assert document["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert document["id"] == entry.url and document["issuer"] == issuer["did"]
    subject = document["credentialSubject"]
    assert subject["id"] == f"{entry.url}#list" and subject["type"] == "BitstringStatusList"
    assert subject["statusPurpose"] == "revocation"
    assert subject["ttl"] == 300_000  # the re-signing interval, in milliseconds
    assert BitstringStatusList.decode(subject["encodedList"]).length == MIN_LIST_LENGTH
    assert bit(document, entry.index) == 0
    assert document["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert document["proof"]["verificationMethod"].startswith(issuer["did"] + "#key-")


def test_its_proof_verifies_with_only_what_the_service_publishes(api, issuer, issued):
    document = served_list(api.client, entries(issued["credential"])["suspension"]).json()

    results = data_integrity.verify_proofs(
        document, published_keys(api.client, issuer), expected_controller=issuer["did"]
    )

    assert [r.verified for r in results] == [True]


def test_an_outside_verifier_with_the_published_lists_and_keys_accepts_the_credential(api, issuer, issued):
    found = entries(issued["credential"])
    lists = {e.url: served_list(api.client, e).json() for e in found.values()}

    report = verify(
        issued["credential"],
        key_resolver=published_keys(api.client, issuer),
        status_resolver=MappedStatusListResolver(lists),
    )

    assert report.verified, report.to_text()
    assert report.check("status.revocation").outcome == "passed"
    assert report.check("status.suspension").outcome == "passed"
    assert report.check("schema").outcome == "passed"  # two entries are not even a warning


def test_validity_spans_more_than_the_interval_and_starts_no_later_than_now(api, issued):
    document = served_list(api.client, entries(issued["credential"])["revocation"]).json()

    valid_from, valid_until = _parse(document["validFrom"]), _parse(document["validUntil"])
    assert valid_from <= datetime.now(UTC)
    assert valid_until - valid_from > timedelta(seconds=2 * 300)


def test_the_etag_is_stable_and_if_none_match_answers_304(api, issued):
    entry = entries(issued["credential"])["revocation"]
    first = served_list(api.client, entry)
    etag = first.headers["etag"]

    again = served_list(api.client, entry)
    assert again.headers["etag"] == etag and again.content == first.content

    for header in (etag, f"W/{etag}", f'"something-else", {etag}', "*"):
        not_modified = served_list(api.client, entry, **{"If-None-Match": header})
        assert not_modified.status_code == 304, header
        assert not_modified.content == b""
        assert not_modified.headers["etag"] == etag
        assert not_modified.headers["cache-control"].startswith("public, max-age=")
    assert served_list(api.client, entry, **{"If-None-Match": '"stale"'}).status_code == 200


def test_caches_may_keep_the_list_for_what_is_left_of_the_interval(api, issued, clock):
    entry = entries(issued["credential"])["revocation"]

    assert served_list(api.client, entry).headers["cache-control"] == "public, max-age=300"
    clock.advance(timedelta(seconds=100))
    assert served_list(api.client, entry).headers["cache-control"] == "public, max-age=200"


def test_each_purpose_has_its_own_list_and_the_lists_differ(api, issued):
    found = entries(issued["credential"])
    revocation = served_list(api.client, found["revocation"])
    suspension = served_list(api.client, found["suspension"])

    assert suspension.json()["credentialSubject"]["statusPurpose"] == "suspension"
    assert revocation.headers["etag"] != suspension.headers["etag"]


def test_a_revoked_bit_is_published_once_a_job_re_signs_the_list(api, issued, clock):
    entry = entries(issued["credential"])["revocation"]
    served_list(api.client, entry)
    assert change(api, issued["id"], "revoke").status_code == 200

    assert bit(served_list(api.client, entry).json(), entry.index) == 0  # its job has not run yet
    resigner_round(api.client.app, now=clock.now())  # the periodic round takes only lists past the interval
    assert bit(served_list(api.client, entry).json(), entry.index) == 0
    clock.advance(timedelta(seconds=300))
    resigner_round(api.client.app, now=clock.now())
    document = served_list(api.client, entry).json()

    assert bit(document, entry.index) == 1


def test_an_unknown_list_is_404(api):
    assert_error(api.client.get("/status/00000000-0000-4000-8000-000000000000"), 404, "not_found")
    assert_error(api.client.get("/status/" + "x" * 37), 422, "validation_error")
