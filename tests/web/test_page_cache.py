"""Kept badge pages never outlive what they show (issue 15).

Once a page was served from the page cache (its counter says so), a revocation, a suspension
and its lifting, and an endorsement accepted or hidden by the earner show on the very next
request; the page carries a strong ETag, and ``If-None-Match`` with it is a 304 (with the page's
security headers) only while the same bytes would be sent.
"""

from __future__ import annotations

import re
import threading
import time

from service.web.routes import PAGE_POLICY
from tests.endorsements.conftest import credential, decide, earner, endorse_by_email  # noqa: F401 (fixtures)
from tests.status.helpers import resigner_round
from tests.web.badge_helpers import DISPLAY_NAME, EARNER_EMAIL, add_earner, set_credential, set_display_name


def headline(page) -> str:
    """The banner's headline ("Verified", "Revoked"...)."""
    found = re.search(r'role="status">\s*<strong><span[^>]*>[^<]*</span> ([^<]+)</strong>', page.text)
    assert found, page.text
    return found.group(1)


def get_page(api, credential_id: str, **headers: str):
    response = api.client.get(f"/credentials/{credential_id}", headers={"Accept": "text/html", **headers})
    assert response.status_code in (200, 304), response.text
    return response


def warm_page(app, api, credential_id: str):
    """Publish the lists (as the re-signing job does), render the page, then show that the next
    request was answered from the page cache with the same bytes and ETag."""
    resigner_round(app)
    first = get_page(api, credential_id)
    hits = app.state.pages.hits
    second = get_page(api, credential_id)
    assert app.state.pages.hits == hits + 1, "the second request was not answered from the kept page"
    assert second.text == first.text and second.headers["etag"] == first.headers["etag"]
    return second


def change(api, credential_id: str, action: str) -> None:
    response = api.client.post(
        f"/v1/credentials/{credential_id}/{action}", json={"reason": "Testing the page cache"}, headers=api.admin
    )
    assert response.status_code == 200, response.text


def test_a_kept_page_has_a_strong_etag_and_if_none_match_is_a_304_with_its_headers(app, api, achievement):
    issued = api.issue(achievement["id"])
    page = warm_page(app, api, issued["id"])
    etag = page.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert page.headers["cache-control"] == "public, no-cache"

    not_modified = get_page(api, issued["id"], **{"If-None-Match": etag})

    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified.headers["etag"] == etag
    assert not_modified.headers["content-security-policy"] == PAGE_POLICY
    assert get_page(api, issued["id"], **{"If-None-Match": '"something-else"'}).status_code == 200


def test_a_revocation_shows_at_once_on_a_kept_page_and_changes_its_etag(app, api, achievement):
    issued = api.issue(achievement["id"])
    kept = warm_page(app, api, issued["id"])
    assert headline(kept) == "Verified"

    change(api, issued["id"], "revoke")

    page = get_page(api, issued["id"], **{"If-None-Match": kept.headers["etag"]})
    assert page.status_code == 200, "the old ETag still matched after a revocation"
    assert headline(page) == "Revoked" and "Acme Academy revoked this credential on" in page.text
    assert page.headers["etag"] != kept.headers["etag"]


def test_a_suspension_and_its_lifting_show_at_once_on_a_kept_page(app, api, achievement):
    issued = api.issue(achievement["id"])
    warm_page(app, api, issued["id"])

    change(api, issued["id"], "suspend")
    assert headline(get_page(api, issued["id"])) == "Suspended"
    warm_page(app, api, issued["id"])
    change(api, issued["id"], "unsuspend")

    page = get_page(api, issued["id"])
    assert "Acme Academy suspended this credential" not in page.text and headline(page) == "Verified"


def test_an_endorsement_accepted_then_hidden_shows_at_once_on_a_kept_page(app, api, credential, earner):  # noqa: F811
    statement = "Ada&#39;s tests caught every regression."
    endorsement = endorse_by_email(api, credential["id"], statement="Ada's tests caught every regression.")
    assert statement not in warm_page(app, api, credential["id"]).text

    decide(api, endorsement["id"], "accept", earner.headers)
    assert statement in get_page(api, credential["id"]).text
    warm_page(app, api, credential["id"])
    decide(api, endorsement["id"], "hide", earner.headers)

    assert statement not in get_page(api, credential["id"]).text


def test_making_a_kept_page_private_answers_404_at_once_and_public_again_shows_it(app, api, achievement):
    issued = api.issue(achievement["id"])
    warm_page(app, api, issued["id"])

    set_credential(app, issued["id"], public=False)
    hidden = api.client.get(f"/credentials/{issued['id']}", headers={"Accept": "text/html"})
    assert hidden.status_code == 404 and "Credential not found" in hidden.text

    set_credential(app, issued["id"], public=True)
    assert headline(get_page(api, issued["id"])) == "Verified"


def test_the_earners_name_choices_show_at_once_on_a_kept_page(app, api, achievement):
    add_earner(app)
    issued = api.issue(achievement["id"], {"email": EARNER_EMAIL})
    assert f"Earned by <strong>{DISPLAY_NAME}</strong>" in warm_page(app, api, issued["id"]).text

    set_credential(app, issued["id"], show_name=False)
    assert DISPLAY_NAME not in get_page(api, issued["id"]).text
    warm_page(app, api, issued["id"])

    set_credential(app, issued["id"], show_name=True)
    assert DISPLAY_NAME in get_page(api, issued["id"]).text
    warm_page(app, api, issued["id"])

    set_display_name(app, EARNER_EMAIL, "Augusta Ada King")
    assert "Earned by <strong>Augusta Ada King</strong>" in get_page(api, issued["id"]).text


def test_a_burst_of_requests_for_a_page_no_worker_kept_renders_it_once(app, api, achievement, monkeypatch):
    """A link shared widely, or a server just started: the requests that arrive together wait for
    the one rendering the page instead of each verifying and rendering it."""
    from fastapi.testclient import TestClient

    from service.web import routes

    issued = api.issue(achievement["id"])
    resigner_round(app)
    renders: list[str] = []
    real_render = routes.render_verified_page

    def slow_render(*args, **kwargs):
        renders.append(issued["id"])
        time.sleep(0.3)  # long enough for the other requests to arrive meanwhile
        return real_render(*args, **kwargs)

    monkeypatch.setattr(routes, "render_verified_page", slow_render)
    answers = []

    def fetch() -> None:
        client = TestClient(app, base_url=str(api.client.base_url))
        answers.append(client.get(f"/credentials/{issued['id']}", headers={"Accept": "text/html"}))

    burst = [threading.Thread(target=fetch) for _ in range(6)]
    for thread in burst:
        thread.start()
    for thread in burst:
        thread.join()

    assert [a.status_code for a in answers] == [200] * 6
    assert len({a.headers["etag"] for a in answers}) == 1
    assert renders == [issued["id"]]
