"""Verification reads this service's own lists from the database as they are now: a revoked or
suspended credential fails at once (in POST /v1/verify and on the public page), even while the
published list is still within its batching interval. It checks the published list's proof as
any verifier would, and reads the entry's current value beside it: it never signs a list."""

from __future__ import annotations

import pytest
from sqlmodel import Session, col, delete

from service.status import publish
from service.status.models import StatusEntry
from service.status.resolver import LocalStatusListResolver
from service.vc.status_list import MappedStatusListResolver, StatusListUnavailable
from service.verification.service import verify_in_session
from tests.conftest import PUBLIC_URL
from tests.credentials.helpers import audit_events
from tests.status.helpers import bit, change, entries, served_list


@pytest.fixture
def issued(api, achievement):
    return api.issue(achievement["id"])


def _verify(api, issued) -> dict[str, dict]:
    text = api.client.get(f"/v1/credentials/{issued['id']}/jsonld", headers=api.admin).content
    response = api.client.post("/v1/verify", content=text, headers={"Content-Type": "application/vc+ld+json"})
    assert response.status_code == 200
    report = response.json()
    report["by_id"] = {check["id"]: check for check in report["checks"]}
    return report


def test_an_issued_credential_passes_both_status_checks(api, issued):
    report = _verify(api, issued)

    assert report["verified"] is True
    assert report["by_id"]["status.revocation"]["outcome"] == "passed"
    assert report["by_id"]["status.suspension"]["outcome"] == "passed"


def test_a_revoked_credential_fails_verification_at_once(api, issued):
    revocation = entries(issued["credential"])["revocation"]
    published_before = served_list(api.client, revocation)

    change(api, issued["id"], "revoke", "Issued in error")
    report = _verify(api, issued)

    assert report["verified"] is False
    assert report["by_id"]["status.revocation"]["outcome"] == "failed"
    assert "revoked" in report["by_id"]["status.revocation"]["reason"]
    assert report["by_id"]["status.suspension"]["outcome"] == "passed"
    # the published copy keeps to its interval: the verifier read the entry's value itself
    published_now = served_list(api.client, revocation)
    assert published_now.headers["etag"] == published_before.headers["etag"]
    assert bit(published_now.json(), revocation.index) == 0


def test_verifying_while_a_list_awaits_re_signing_never_signs_it(api, issued, monkeypatch):
    served_list(api.client, entries(issued["credential"])["revocation"])
    served_list(api.client, entries(issued["credential"])["suspension"])  # both published
    change(api, issued["id"], "suspend", "Under review")

    def no_signing(*args, **kwargs):
        raise AssertionError("a verification signed a status list")

    monkeypatch.setattr(publish, "sign_list_credential", no_signing)
    reports = [_verify(api, issued) for _ in range(3)]

    assert [r["by_id"]["status.suspension"]["outcome"] for r in reports] == ["failed"] * 3
    assert [r["by_id"]["status.revocation"]["outcome"] for r in reports] == ["passed"] * 3


def test_suspension_fails_verification_and_unsuspension_restores_it(api, issued):
    change(api, issued["id"], "suspend", "Under review")
    suspended = _verify(api, issued)
    assert suspended["verified"] is False
    assert suspended["by_id"]["status.suspension"]["outcome"] == "failed"
    assert suspended["by_id"]["status.revocation"]["outcome"] == "passed"

    change(api, issued["id"], "unsuspend", "Cleared")
    assert _verify(api, issued)["verified"] is True


def test_the_public_page_verifies_live_against_the_current_bits(api, issued):
    change(api, issued["id"], "revoke", "Issued in error")

    page = api.client.get(f"/credentials/{issued['id']}", headers={"Accept": "text/html"}).text

    assert '<div class="banner bad" role="status">' in page and "</span> Revoked</strong>" in page
    assert "<pre><code>status.revocation: failed\n" in page
    assert "Issued in error" not in page


def test_other_credentials_in_the_same_list_are_unaffected(api, achievement, issued):
    neighbour = api.issue(achievement["id"])

    change(api, issued["id"], "revoke")

    assert _verify(api, neighbour)["verified"] is True


def test_an_unknown_list_of_this_service_is_a_warning_not_a_pass(app, issued):
    credential = issued["credential"]
    missing = f"{PUBLIC_URL}/status/00000000-0000-4000-8000-000000000000"
    credential["credentialStatus"][0]["statusListCredential"] = missing

    with Session(app.state.engine) as session:
        with pytest.raises(StatusListUnavailable, match="no status list"):
            app.state.verifier.status_resolver(session, app.state.settings, app.state.keystore).resolve(missing)
        report = verify_in_session(session, app.state.settings, credential, keystore=app.state.keystore)

    # (the edited credential's proof fails too; the status check still says what it found)
    assert report.check("status.revocation").outcome == "warning"
    assert "could not be fetched" in report.check("status.revocation").reason


def test_the_local_resolver_knows_its_own_urls_only(app):
    with Session(app.state.engine) as session:
        resolver = LocalStatusListResolver(session, app.state.settings, lambda: app.state.keystore)
        assert resolver.list_id(f"{PUBLIC_URL}/status/abc-123") == "abc-123"
        for foreign in (
            f"{PUBLIC_URL}/status/a/b",
            f"{PUBLIC_URL}/status/",
            "https://other.example/status/abc",
            f"{PUBLIC_URL}/statusx/abc",
            f"{PUBLIC_URL}/status/abc?x=1",
        ):
            assert resolver.list_id(foreign) is None, foreign
        with pytest.raises(StatusListUnavailable, match="not a status list of this service"):
            resolver.resolve("https://other.example/status/1")


def test_a_credential_without_status_entries_can_still_be_marked_revoked(app, api, issued, db):
    # as one issued before status lists existed: its state changes, there is no bit to set
    with db() as session:
        session.exec(delete(StatusEntry).where(col(StatusEntry.credential_id) == issued["id"]))

    response = change(api, issued["id"], "revoke", "Withdrawn")

    assert response.status_code == 200 and response.json()["state"] == "revoked"
    (event,) = audit_events(app, "credential.revoke")
    assert event.after == {"state": "revoked", "reason": "Withdrawn"}


def test_other_services_lists_go_to_the_fallback_resolver(app):
    foreign = "https://other.example/status/1"
    with Session(app.state.engine) as session:
        resolver = LocalStatusListResolver(
            session,
            app.state.settings,
            lambda: app.state.keystore,
            fallback=MappedStatusListResolver({foreign: {"id": foreign}}),
        )
        assert resolver.resolve(foreign) == {"id": foreign}


def test_the_verification_service_fetches_other_services_lists_with_one_shared_remote_resolver(app):
    from service.net.status import RemoteStatusListResolver

    remote = app.state.verifier.remote_status

    assert isinstance(remote, RemoteStatusListResolver)  # one ttl cache per app, shared by its requests
    with Session(app.state.engine) as session:
        assert app.state.verifier.status_resolver(session, app.state.settings).fallback is remote
