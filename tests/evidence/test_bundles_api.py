"""The evidence API as an earner, a reviewer, an issuer admin and a stranger see it."""

import hashlib

import pytest
from sqlmodel import Session

from service.evidence import service
from service.evidence.credential import digest_multibase
from tests.evidence.conftest import add_fetched
from tests.evidence.git_server import make_repository
from tests.net.local_server import respond

TESTIMONIAL = {
    "kind": "testimonial",
    "statement": "Ada rebuilt our test suite; CI went from 40 to 6 minutes.",
    "author_name": "Grace Client",
    "contact_email": "grace@client.example",
    "contact_phone": "+44 20 7946 0000",
}


def add(client, bundle, headers, body):
    return client.post(f"/v1/evidence/bundles/{bundle['id']}/items", json=body, headers=headers)


def upload(client, bundle, headers, file_name, data, content_type="application/octet-stream", **form):
    return client.post(
        f"/v1/evidence/bundles/{bundle['id']}/files",
        headers=headers,
        files={"file": (file_name, data, content_type)},
        data=form,
    )


def lock(app, bundle_id):
    with Session(app.state.engine) as session:
        service.lock_bundle(session, bundle_id)
        session.commit()


# --- bundles ----------------------------------------------------------------------------------


def test_an_earner_creates_a_bundle_for_an_achievement(client, earner, achievement, issuer):
    response = client.post(
        "/v1/evidence/bundles", json={"achievement_id": achievement["id"], "title": "Portfolio"}, headers=earner
    )
    assert response.status_code == 201, response.text
    bundle = response.json()
    assert response.headers["Location"] == f"/v1/evidence/bundles/{bundle['id']}"
    assert (bundle["state"], bundle["items"], bundle["item_count"], bundle["total_bytes"]) == ("open", [], 0, 0)
    assert bundle["issuer_id"] == issuer["id"] and bundle["credential_id"] is None


def test_a_bundle_needs_an_existing_achievement(client, earner):
    response = client.post("/v1/evidence/bundles", json={"achievement_id": "nope"}, headers=earner)
    assert response.status_code == 404


def test_only_earners_create_bundles(client, api, achievement, issuer):
    reviewer = api.create_account("reviewer", issuer["id"])
    response = client.post("/v1/evidence/bundles", json={"achievement_id": achievement["id"]}, headers=reviewer)
    assert response.status_code == 403


def test_an_earner_lists_their_own_bundles_newest_first_paged(client, api, earner, achievement):
    ids = [
        client.post("/v1/evidence/bundles", json={"achievement_id": achievement["id"]}, headers=earner).json()["id"]
        for _ in range(3)
    ]
    client.post(
        "/v1/evidence/bundles", json={"achievement_id": achievement["id"]}, headers=api.create_account("earner")
    )
    response = client.get("/v1/evidence/bundles", params={"limit": 2}, headers=earner)
    page = response.json()
    assert page["total"] == 3 and [b["id"] for b in page["items"]] == ids[::-1][:2]
    assert response.headers["X-Total-Count"] == "3" and 'rel="next"' in response.headers["Link"]


# --- items ------------------------------------------------------------------------------------


def test_text_and_testimonial_items_are_stored_content_addressed(client, earner, bundle, blobs):
    text = "I wrote *property-based* tests.\u200b"
    response = add(client, bundle, earner, {"kind": "text", "text": text, "name": "How I test"})
    assert response.status_code == 201, response.text
    item = response.json()
    stored = text.encode("utf-8")
    assert item["sha256"] == hashlib.sha256(stored).hexdigest() and item["size"] == len(stored)
    assert item["media_type"] == "text/plain" and item["digest_multibase"] == digest_multibase(item["sha256"])
    assert blobs.get(item["sha256"]) == stored
    testimonial = add(client, bundle, earner, TESTIMONIAL).json()
    assert blobs.get(testimonial["sha256"]) == TESTIMONIAL["statement"].encode()
    assert testimonial["contact"] == {"email": "grace@client.example", "phone": "+44 20 7946 0000"}


def test_a_url_is_fetched_and_its_body_kept(client, earner, bundle, http_server, local_fetchers, blobs):
    http_server.routes["/page"] = respond(200, b"<html><body>My site</body></html>", {"Content-Type": "text/html"})
    http_server.routes["/moved"] = respond(301, b"", {"Location": "/page"})
    item = add_fetched(client, bundle, earner, {"kind": "url", "url": http_server.url("/moved", host="evidence.test")})
    assert (item["state"], item["error"]) == ("ready", None)
    assert item["final_url"] == http_server.url("/page", host="evidence.test") and item["http_status"] == 200
    assert item["media_type"] == "text/html" and item["declared_media_type"] == "text/html"
    assert item["fetched_at"] and blobs.get(item["sha256"]) == b"<html><body>My site</body></html>"


def test_a_repository_is_cloned_and_kept_as_a_bundle_at_its_commit(
    client, earner, bundle, git_server, local_fetchers, tmp_path, blobs
):
    commits = make_repository(tmp_path / "src", [{"README.md": "# Mine\n"}, {"app.py": "print(1)\n"}])
    url = git_server.publish(tmp_path / "src")
    item = add_fetched(client, bundle, earner, {"kind": "repository", "url": url, "commit": commits[0]})
    assert item["state"] == "ready"
    assert (item["url"], item["commit"], item["media_type"]) == (url, commits[0], "application/x-git-bundle")
    assert blobs.get(item["sha256"]).startswith(b"# v2 git bundle\n")


def test_a_file_upload_is_sniffed_and_the_declared_type_only_recorded(client, earner, bundle, blobs):
    pdf = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n"
    response = upload(client, bundle, earner, "../../cv.pdf", pdf, "image/png", name="My CV")
    assert response.status_code == 201, response.text
    item = response.json()
    assert (item["media_type"], item["declared_media_type"], item["file_name"], item["name"]) == (
        "application/pdf",
        "image/png",
        "cv.pdf",
        "My CV",
    )
    assert blobs.get(item["sha256"]) == pdf


def test_the_same_bytes_twice_are_one_blob(client, earner, bundle, stored):
    first = upload(client, bundle, earner, "a.txt", b"same bytes").json()
    second = upload(client, bundle, earner, "b.txt", b"same bytes").json()
    assert first["sha256"] == second["sha256"] and first["id"] != second["id"]
    assert stored.snapshot() == (2, frozenset({first["sha256"]}))


def test_items_keep_their_order_and_the_bundle_its_totals(client, earner, bundle):
    for n in range(3):
        add(client, bundle, earner, {"kind": "text", "text": f"note {n}"})
    view = client.get(f"/v1/evidence/bundles/{bundle['id']}", headers=earner).json()
    assert [i["size"] for i in view["items"]] == [6, 6, 6]
    assert (view["item_count"], view["total_bytes"]) == (3, 18)


def test_an_item_is_deleted_while_the_bundle_is_open(client, earner, bundle):
    item = add(client, bundle, earner, {"kind": "text", "text": "draft"}).json()
    response = client.delete(f"/v1/evidence/bundles/{bundle['id']}/items/{item['id']}", headers=earner)
    assert response.status_code == 204
    assert client.get(f"/v1/evidence/bundles/{bundle['id']}", headers=earner).json()["items"] == []
    again = client.delete(f"/v1/evidence/bundles/{bundle['id']}/items/{item['id']}", headers=earner)
    assert again.status_code == 404


def test_a_locked_bundle_refuses_every_change(app, client, earner, bundle, stored):
    item = add(client, bundle, earner, {"kind": "text", "text": "final"}).json()
    lock(app, bundle["id"])
    before = stored.snapshot()
    for response in (
        add(client, bundle, earner, {"kind": "text", "text": "late"}),
        upload(client, bundle, earner, "late.txt", b"late"),
        client.delete(f"/v1/evidence/bundles/{bundle['id']}/items/{item['id']}", headers=earner),
    ):
        assert response.status_code == 409 and response.json()["error"] == "evidence_bundle_locked"
    assert stored.snapshot() == before
    assert client.get(f"/v1/evidence/bundles/{bundle['id']}", headers=earner).json()["state"] == "locked"


# --- who sees what ----------------------------------------------------------------------------


def test_another_earners_bundle_is_not_found_for_reading_or_changing(client, api, bundle, earner):
    item = add(client, bundle, earner, {"kind": "text", "text": "mine"}).json()
    stranger = api.create_account("earner")
    base = f"/v1/evidence/bundles/{bundle['id']}"
    assert client.get(base, headers=stranger).status_code == 404
    assert add(client, bundle, stranger, {"kind": "text", "text": "theirs"}).status_code == 404
    assert upload(client, bundle, stranger, "x.txt", b"x").status_code == 404
    assert client.delete(f"{base}/items/{item['id']}", headers=stranger).status_code == 404
    assert client.get(f"{base}/items/{item['id']}/content", headers=stranger).status_code == 404


def test_the_issuers_staff_see_the_bundle_and_the_testimonial_contact(client, api, issuer, bundle, earner):
    add(client, bundle, earner, TESTIMONIAL)
    for role in ("reviewer", "issuer_admin"):
        staff = api.create_account(role, issuer["id"])
        view = client.get(f"/v1/evidence/bundles/{bundle['id']}", headers=staff).json()
        assert view["items"][0]["contact"]["email"] == "grace@client.example"


def test_another_issuers_staff_do_not_see_the_bundle(client, api, bundle):
    other = api.create_issuer("Other")
    reviewer = api.create_account("reviewer", other["id"])
    assert client.get(f"/v1/evidence/bundles/{bundle['id']}", headers=reviewer).status_code == 404


def test_platform_admins_see_the_bundle_but_not_a_testimonials_contact(client, api, bundle, earner):
    add(client, bundle, earner, TESTIMONIAL)
    view = client.get(f"/v1/evidence/bundles/{bundle['id']}", headers=api.admin).json()
    assert view["items"][0]["author_name"] == "Grace Client" and view["items"][0]["contact"] is None


def test_item_content_is_served_to_those_who_may_see_it_and_never_rendered(client, api, issuer, bundle, earner):
    html = b"<html><script>alert(1)</script></html>"
    item = upload(client, bundle, earner, "page.html", html).json()
    reviewer = api.create_account("reviewer", issuer["id"])
    for headers in (earner, reviewer, api.admin):
        response = client.get(f"/v1/evidence/bundles/{bundle['id']}/items/{item['id']}/content", headers=headers)
        assert response.status_code == 200 and response.content == html
        assert response.headers["content-type"].startswith("text/plain")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-disposition"].startswith("attachment;")
        assert "sandbox" in response.headers["content-security-policy"]


def test_images_are_served_inline_as_themselves(client, bundle, earner):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    item = upload(client, bundle, earner, "shot.png", png).json()
    response = client.get(f"/v1/evidence/bundles/{bundle['id']}/items/{item['id']}/content", headers=earner)
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-disposition"].startswith("inline;")


# --- public copies ----------------------------------------------------------------------------


@pytest.fixture
def issued(app, api, client, bundle, earner, achievement):
    """A bundle with a text, an SVG file and a testimonial, locked and cited by a credential."""
    items = [
        add(client, bundle, earner, {"kind": "text", "text": "what I did"}).json(),
        upload(client, bundle, earner, "logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>').json(),
        add(client, bundle, earner, TESTIMONIAL).json(),
    ]
    credential = api.issue(achievement["id"])
    with Session(app.state.engine) as session:
        service.lock_bundle(session, bundle["id"])
        hidden_before = [client.get(f"/evidence/items/{i['id']}").status_code for i in items]
        service.mark_bundle_issued(session, bundle["id"], credential["id"])
        session.commit()
    return {"items": items, "credential": credential, "hidden_before": hidden_before}


def test_public_copies_appear_only_once_a_credential_cites_the_bundle(client, issued):
    assert issued["hidden_before"] == [404, 404, 404]
    text, svg, testimonial = issued["items"]
    response = client.get(f"/evidence/items/{text['id']}")
    assert response.status_code == 200 and response.content == b"what I did"
    assert hashlib.sha256(response.content).hexdigest() == text["sha256"]
    svg_response = client.get(f"/evidence/items/{svg['id']}")
    assert svg_response.headers["content-type"].startswith("text/plain")
    assert svg_response.headers["content-disposition"].startswith("attachment;")
    assert svg_response.headers["x-content-type-options"] == "nosniff"


def test_a_public_testimonial_is_the_statement_alone(client, issued):
    response = client.get(f"/evidence/items/{issued['items'][2]['id']}")
    assert response.content == TESTIMONIAL["statement"].encode()
    assert b"grace@" not in response.content and b"7946" not in response.content


def test_an_unknown_public_item_is_not_found(client):
    assert client.get("/evidence/items/00000000-0000-4000-8000-000000000000").status_code == 404


def test_the_bundle_shows_the_credential_that_cites_it(client, issued, bundle, earner):
    view = client.get(f"/v1/evidence/bundles/{bundle['id']}", headers=earner).json()
    assert view["credential_id"] == issued["credential"]["id"]


# --- audit ------------------------------------------------------------------------------------


def test_creating_adding_and_deleting_leave_audit_events_without_personal_data(client, api, issuer, bundle, earner):
    item = add(client, bundle, earner, TESTIMONIAL).json()
    client.delete(f"/v1/evidence/bundles/{bundle['id']}/items/{item['id']}", headers=earner)
    events = client.get("/v1/audit", params={"issuer_id": issuer["id"]}, headers=api.admin).json()["items"]
    actions = [e["action"] for e in events if e["action"].startswith("evidence.")]
    assert actions == ["evidence.item.delete", "evidence.item.add", "evidence.bundle.create"]
    added = next(e for e in events if e["action"] == "evidence.item.add")
    assert added["after"]["sha256"] == item["sha256"] and added["actor_role"] == "earner"
    evidence_events = str([e for e in events if e["action"].startswith("evidence.")])
    # (only those: the issuer's own events hold random key material, where "7946" may turn up)
    assert "grace" not in evidence_events and "7946" not in evidence_events


def test_uploads_may_be_larger_than_the_general_request_body_limit(settings):
    from fastapi.testclient import TestClient

    from service.api.app import create_app
    from service.cli.bootstrap import ensure_admin
    from tests.api_client import Api

    roomy = settings.model_copy(
        update={"evidence_max_file_bytes": 2 * 1024 * 1024, "evidence_max_bundle_bytes": 4 * 1024 * 1024}
    )
    assert roomy.max_body_bytes < 1_500_000
    app = create_app(roomy)
    ensure_admin(app.state.engine, roomy)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            api = Api(client)
            achievement = api.create_achievement(api.create_issuer()["id"])
            earner = api.create_account("earner")
            bundle = client.post(
                "/v1/evidence/bundles", json={"achievement_id": achievement["id"]}, headers=earner
            ).json()
            response = upload(client, bundle, earner, "big.txt", b"a" * 1_500_000)
            assert response.status_code == 201, response.text
            assert response.json()["size"] == 1_500_000
    finally:
        app.state.engine.dispose()
