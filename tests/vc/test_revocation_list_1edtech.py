"""OB 3.0's 1EdTechRevocationList status: the list says revoked, not listed, or cannot be trusted,
and the verification report says failed, passed, or warning accordingly."""

from datetime import UTC, datetime

import pytest

from service.vc import data_integrity
from service.vc.errors import StatusListError
from service.vc.revocation_list import (
    RevocationReading,
    is_revocation_list_entry,
    read_1edtech_revocation,
)
from service.vc.status_list import MappedStatusListResolver, StatusListUnavailable
from service.vc.verify import verify

NOW = datetime(2025, 6, 1, tzinfo=UTC)
LIST_URL = "https://issuer.example/revocations/1"
ENTRY = {"id": LIST_URL, "type": "1EdTechRevocationList"}
CREDENTIAL_ID = "urn:uuid:91537dba-56cb-11ec-bf63-0242ac130002"
ISSUER = "https://issuer.example/issuers/1"
EXTENSIONS_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"


def revocation_list(*revoked, **fields) -> dict:
    return {"id": LIST_URL, "issuer": ISSUER, "revokedCredentials": list(revoked), **fields}


def read(document, credential_id=CREDENTIAL_ID, issuer=ISSUER) -> RevocationReading:
    return read_1edtech_revocation(ENTRY, document, credential_id, credential_issuer=issuer)


# --- reading the list -----------------------------------------------------------------------------


def test_a_listed_credential_is_revoked_with_its_reason():
    reading = read(revocation_list({"id": CREDENTIAL_ID, "revoked": True, "revocationReason": "Fraud"}))
    assert reading == RevocationReading(list_url=LIST_URL, revoked=True, reason="Fraud")


def test_a_listed_credential_without_a_revoked_flag_is_revoked():
    assert read(revocation_list({"id": CREDENTIAL_ID})).revoked


def test_a_listed_credential_marked_not_revoked_is_not_revoked():
    assert not read(revocation_list({"id": CREDENTIAL_ID, "revoked": False})).revoked


def test_the_string_forms_of_the_flag_seen_in_published_lists_are_read_as_booleans():
    assert read(revocation_list({"id": CREDENTIAL_ID, "revoked": "true"})).revoked
    assert not read(revocation_list({"id": CREDENTIAL_ID, "revoked": "false"})).revoked


def test_a_bare_id_in_the_list_revokes_that_credential():
    assert read(revocation_list(CREDENTIAL_ID)).revoked


def test_a_credential_that_is_not_listed_is_not_revoked():
    reading = read(revocation_list({"id": "urn:uuid:someone-else", "revocationReason": "x"}))
    assert reading == RevocationReading(list_url=LIST_URL, revoked=False, reason=None)
    assert not read(revocation_list()).revoked


def test_a_list_without_id_or_issuer_is_still_read():
    assert read({"revokedCredentials": [{"id": CREDENTIAL_ID}]}).revoked


@pytest.mark.parametrize(
    "document, complaint",
    [
        ([{"id": CREDENTIAL_ID}], "JSON object"),
        ({"id": LIST_URL}, "no revokedCredentials"),
        (revocation_list(revokedCredentials={"id": CREDENTIAL_ID}), "no revokedCredentials"),
        (revocation_list(42), "string id"),
        (revocation_list({"revoked": True}), "string id"),
        (revocation_list({"id": "urn:uuid:other", "revoked": "maybe"}), "boolean"),
        (revocation_list({"id": CREDENTIAL_ID, "revocationReason": 7}), "revocationReason"),
        (revocation_list(issuer=42), "issuer"),
    ],
)
def test_a_document_that_is_not_a_revocation_list_is_malformed(document, complaint):
    with pytest.raises(StatusListError, match=complaint) as caught:
        read(document)
    assert caught.value.code == "MALFORMED_VALUE_ERROR"


@pytest.mark.parametrize(
    "document, complaint",
    [
        (revocation_list({"id": CREDENTIAL_ID}, id="https://elsewhere.example/list"), "not its URL"),
        (
            revocation_list({"id": CREDENTIAL_ID}, issuer="https://someone-else.example"),
            "not by the credential's issuer",
        ),
        (revocation_list({"id": CREDENTIAL_ID}, issuer={"id": "https://someone-else.example"}), "not by"),
    ],
)
def test_a_list_that_belongs_to_another_url_or_issuer_is_not_trusted(document, complaint):
    with pytest.raises(StatusListError, match=complaint) as caught:
        read(document)
    assert caught.value.code == "STATUS_VERIFICATION_ERROR"


def test_the_issuer_may_be_given_as_a_profile_object():
    assert read(revocation_list({"id": CREDENTIAL_ID}, issuer={"id": ISSUER, "type": "Profile"})).revoked


def test_the_entry_must_name_the_list_by_an_http_url():
    with pytest.raises(StatusListError, match="URL"):
        read_1edtech_revocation({"type": "1EdTechRevocationList", "id": "urn:list:1"}, revocation_list(), CREDENTIAL_ID)
    assert is_revocation_list_entry({"type": ["1EdTechRevocationList"]})
    assert not is_revocation_list_entry({"type": "BitstringStatusListEntry"})


# --- the verification report --------------------------------------------------------------------


@pytest.fixture
def credential(unsigned_credential, issuer_signer) -> dict:
    """The test issuer's credential, signed, with a 1EdTechRevocationList status."""
    unsigned_credential["@context"].append(EXTENSIONS_CONTEXT)
    unsigned_credential["credentialStatus"] = dict(ENTRY)
    return data_integrity.sign(unsigned_credential, issuer_signer)


def status_check(credential, resolver):
    report = verify(credential, status_resolver=resolver, now=NOW)
    check = report.check("status.revocation")
    assert check is not None, report.to_text()
    return report, check


def list_for(credential, *revoked) -> dict:
    return {"id": LIST_URL, "issuer": credential["issuer"]["id"], "revokedCredentials": list(revoked)}


def test_a_revoked_credential_fails_verification_with_the_reason(credential):
    document = list_for(credential, {"id": credential["id"], "revoked": True, "revocationReason": "Plagiarism"})
    report, check = status_check(credential, MappedStatusListResolver({LIST_URL: document}))
    assert not report.verified and check.outcome == "failed"
    assert "revoked" in check.reason and "Plagiarism" in check.reason and LIST_URL in check.reason


def test_a_credential_not_on_the_list_passes(credential):
    document = list_for(credential, {"id": "urn:uuid:another-credential"})
    report, check = status_check(credential, MappedStatusListResolver({LIST_URL: document}))
    assert report.verified and check.outcome == "passed" and "Not revoked" in check.reason


def test_an_unreachable_list_is_a_warning_never_a_silent_pass(credential):
    class Down:
        def resolve(self, url):
            raise StatusListUnavailable(f"{url} could not be fetched (timeout: took too long)")

    report, check = status_check(credential, Down())
    assert report.verified and check.outcome == "warning" and "status unknown" in check.reason
    _, without_resolver = status_check(credential, None)
    assert without_resolver.outcome == "warning"


def test_a_malformed_list_fails_with_the_reason(credential):
    report, check = status_check(credential, MappedStatusListResolver({LIST_URL: {"id": LIST_URL}}))
    assert not report.verified and check.outcome == "failed"
    assert "MALFORMED_VALUE_ERROR" in check.reason and "revokedCredentials" in check.reason


def test_a_list_published_by_another_issuer_fails(credential):
    document = {"id": LIST_URL, "issuer": "did:example:impostor", "revokedCredentials": []}
    report, check = status_check(credential, MappedStatusListResolver({LIST_URL: document}))
    assert not report.verified and "STATUS_VERIFICATION_ERROR" in check.reason


def test_a_credential_without_an_id_cannot_be_looked_up_and_gets_a_warning(unsigned_credential, issuer_signer):
    unsigned_credential["@context"].append(EXTENSIONS_CONTEXT)
    unsigned_credential["credentialStatus"] = dict(ENTRY)
    del unsigned_credential["id"]
    credential = data_integrity.sign(unsigned_credential, issuer_signer)
    _, check = status_check(credential, MappedStatusListResolver({}))
    assert check.outcome == "warning" and "no id" in check.reason
