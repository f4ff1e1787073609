"""Who may write evidence, and how much: a verified email address for every write, and quotas per
account (stored bytes, open bundles, items a day, fetches an hour), all refused with a clear 4xx
and a stable code before anything is fetched, cloned or stored (issue 9, item 5).

Limits here: the evidence suite's (256 KiB per item, 4 items and 600 KiB per bundle) plus, per
account, 512 KiB stored, 3 open bundles, 6 items a day and 3 fetches an hour.
"""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from service.core.models import utcnow
from service.evidence import service
from service.evidence.models import EvidenceBundleRecord
from tests.evidence.conftest import add_fetched
from tests.evidence.git_server import make_repository
from tests.net.local_server import respond

KIB = 1024


@pytest.fixture
def settings(settings):
    return settings.model_copy(
        update={
            "evidence_account_max_bytes": 512 * KIB,
            "evidence_account_max_open_bundles": 3,
            "evidence_account_max_items_per_day": 6,
            "evidence_account_fetches_per_hour": 3,
        }
    )


def add(client, bundle, headers, body):
    return client.post(f"/v1/evidence/bundles/{bundle['id']}/items", json=body, headers=headers)


def upload(client, bundle, headers, file_name, data):
    return client.post(
        f"/v1/evidence/bundles/{bundle['id']}/files", headers=headers, files={"file": (file_name, data, "text/plain")}
    )


def new_bundle(client, headers, achievement):
    return client.post("/v1/evidence/bundles", json={"achievement_id": achievement["id"]}, headers=headers)


def bundle_count(app) -> int:
    with app.state.engine.connect() as connection:
        return connection.execute(sa.text("SELECT COUNT(*) FROM evidencebundle")).scalar_one()


class Refused:
    """``refused(response, status, code)``: the refusal, and no bundle, item or blob stored since
    the fixture was set up or since the last ``refused.arm()``."""

    def __init__(self, app, stored) -> None:
        self.app, self.stored = app, stored
        self.arm()

    def arm(self) -> None:
        self.before = (bundle_count(self.app), self.stored.snapshot())

    def __call__(self, response, status: int, code: str) -> None:
        assert (response.status_code, response.json()["error"]) == (status, code), response.text
        assert (bundle_count(self.app), self.stored.snapshot()) == self.before


@pytest.fixture
def refused(app, stored) -> Refused:
    return Refused(app, stored)


@pytest.fixture
def page(http_server):
    """A small text page on the local server: ``(url, path)``."""
    http_server.routes["/page"] = respond(200, b"A page of evidence.\n", {"Content-Type": "text/plain"})
    return http_server.url("/page"), "/page"


@pytest.fixture
def published(tmp_path, git_server):
    commits = make_repository(tmp_path / "src", [{"README.md": "# Work\n"}])
    return git_server.publish(tmp_path / "src"), commits[0]


TESTIMONIAL = {
    "kind": "testimonial",
    "statement": "Ada shipped on time.",
    "author_name": "Grace Client",
    "contact_email": "grace@client.example",
}


# --- a verified email address for every write ------------------------------------------------------


@pytest.fixture
def unverified(api) -> dict[str, str]:
    return api.register_earner("new.freelancer@example.org", verify=False)


@pytest.fixture
def unverified_bundle(app, client, unverified, achievement, issuer) -> dict:
    """A bundle an unverified account owns (as one made before this rule would be)."""
    owner_id = client.get("/v1/me", headers=unverified).json()["id"]
    with Session(app.state.engine) as session:
        bundle = EvidenceBundleRecord(owner_id=owner_id, achievement_id=achievement["id"], issuer_id=issuer["id"])
        session.add(bundle)
        session.commit()
        return {"id": bundle.id}


def test_an_unverified_account_cannot_create_a_bundle(client, unverified, achievement, refused):
    refused(new_bundle(client, unverified, achievement), 403, "email_unverified")


def test_an_unverified_account_adds_no_item_of_any_kind(
    client, unverified, unverified_bundle, refused, page, published, http_server, git_server, local_fetchers
):
    url, _path = page
    repository, commit = published
    for body in (
        {"kind": "text", "text": "My work"},
        TESTIMONIAL,
        {"kind": "url", "url": url},
        {"kind": "repository", "url": repository, "commit": commit},
    ):
        refused(add(client, unverified_bundle, unverified, body), 403, "email_unverified")
    refused(upload(client, unverified_bundle, unverified, "cv.txt", b"My CV"), 403, "email_unverified")
    assert http_server.requests == [] and git_server.requests == []  # nothing fetched, nothing cloned


def test_once_verified_the_same_account_may_add_evidence(api, client, achievement):
    headers = api.register_earner("verified.freelancer@example.org")
    response = new_bundle(client, headers, achievement)
    assert response.status_code == 201, response.text
    assert add(client, response.json(), headers, {"kind": "text", "text": "My work"}).status_code == 201


# --- stored bytes per account ---------------------------------------------------------------------


@pytest.fixture
def two_bundles(client, earner, achievement) -> list[dict]:
    bundles = [new_bundle(client, earner, achievement) for _ in range(2)]
    assert all(b.status_code == 201 for b in bundles)
    return [b.json() for b in bundles]


def test_a_full_account_is_refused_before_anything_is_fetched_or_cloned(
    client, earner, two_bundles, refused, page, published, http_server, git_server, local_fetchers
):
    first, second = two_bundles
    # 512 KiB over two bundles: each bundle has room left, the account has none.
    assert upload(client, first, earner, "a.txt", b"a" * (256 * KIB)).status_code == 201
    assert upload(client, second, earner, "b.txt", b"b" * (256 * KIB)).status_code == 201
    refused.arm()
    url, _path = page
    repository, commit = published

    def check(response):
        refused(response, 413, "evidence_quota_exceeded")
        assert "512" in response.json()["detail"] or "524288" in response.json()["detail"]

    check(add(client, first, earner, {"kind": "text", "text": "one more"}))
    check(add(client, first, earner, TESTIMONIAL))
    check(add(client, first, earner, {"kind": "url", "url": url}))
    check(add(client, second, earner, {"kind": "repository", "url": repository, "commit": commit}))
    check(upload(client, second, earner, "c.txt", b"c"))
    assert http_server.requests == [] and git_server.requests == []


def test_a_fetch_or_upload_larger_than_the_room_left_is_cut_off_and_refused(
    client, earner, two_bundles, refused, http_server, local_fetchers
):
    first, second = two_bundles
    for bundle, fill in ((first, b"a"), (second, b"b")):
        assert upload(client, bundle, earner, "fill.txt", fill * (200 * KIB)).status_code == 201
    refused.arm()
    # 112 KiB left in the account: 150 KiB fits an item and either bundle, not the account.
    http_server.routes["/big"] = respond(200, b"x" * (150 * KIB), {"Content-Type": "text/plain"})
    fetched = add_fetched(client, first, earner, {"kind": "url", "url": http_server.url("/big")})
    assert fetched["state"] == "failed" and fetched["error"].startswith("evidence_quota_exceeded: "), fetched
    refused.arm()
    refused(upload(client, first, earner, "big.txt", b"y" * (150 * KIB)), 413, "evidence_quota_exceeded")
    assert upload(client, first, earner, "fits.txt", b"z" * (112 * KIB)).status_code == 201


def test_removing_items_makes_room_again(client, earner, two_bundles):
    first, second = two_bundles
    kept = upload(client, first, earner, "a.txt", b"a" * (256 * KIB)).json()
    dropped = upload(client, second, earner, "b.txt", b"b" * (256 * KIB)).json()
    assert upload(client, first, earner, "c.txt", b"c" * KIB).status_code == 413
    assert (
        client.delete(f"/v1/evidence/bundles/{second['id']}/items/{dropped['id']}", headers=earner).status_code == 204
    )
    assert upload(client, first, earner, "c.txt", b"c" * KIB).status_code == 201
    assert kept["size"] == 256 * KIB


def test_the_quotas_are_per_account(client, api, earner, two_bundles, achievement):
    first, second = two_bundles
    assert upload(client, first, earner, "a.txt", b"a" * (256 * KIB)).status_code == 201
    assert upload(client, second, earner, "b.txt", b"b" * (256 * KIB)).status_code == 201
    other = api.create_account("earner")
    theirs = new_bundle(client, other, achievement).json()
    assert upload(client, theirs, other, "mine.txt", b"m" * (256 * KIB)).status_code == 201


# --- open bundles per account ---------------------------------------------------------------------


@pytest.fixture
def three_open(client, earner, achievement) -> list[dict]:
    bundles = [new_bundle(client, earner, achievement) for _ in range(3)]
    assert [b.status_code for b in bundles] == [201, 201, 201]
    return [b.json() for b in bundles]


def test_an_account_has_at_most_so_many_open_bundles(app, client, earner, achievement, three_open, stored):
    before = (bundle_count(app), stored.snapshot())
    response = new_bundle(client, earner, achievement)
    assert (response.status_code, response.json()["error"]) == (409, "evidence_quota_exceeded"), response.text
    assert (bundle_count(app), stored.snapshot()) == before


def test_a_submitted_bundle_no_longer_counts_as_open(app, client, earner, achievement, three_open):
    submitted = three_open[0]
    assert add(client, submitted, earner, {"kind": "text", "text": "done"}).status_code == 201
    with Session(app.state.engine) as session:
        service.lock_bundle(session, submitted["id"])
        session.commit()
    assert new_bundle(client, earner, achievement).status_code == 201


# --- items per day --------------------------------------------------------------------------------


def test_items_a_day_are_limited_and_deleting_items_does_not_reset_the_count(
    monkeypatch, client, earner, two_bundles, stored, page, http_server, local_fetchers
):
    first, second = two_bundles
    added = [(b, add(client, b, earner, {"kind": "text", "text": f"item {n}"})) for n in range(3) for b in two_bundles]
    assert [r.status_code for _b, r in added] == [201] * 6
    for bundle, response in added[:2]:
        path = f"/v1/evidence/bundles/{bundle['id']}/items/{response.json()['id']}"
        assert client.delete(path, headers=earner).status_code == 204
    before = stored.snapshot()
    url, _path = page
    for response in (
        add(client, first, earner, {"kind": "text", "text": "the seventh"}),
        add(client, first, earner, {"kind": "url", "url": url}),
        upload(client, second, earner, "cv.txt", b"My CV"),
    ):
        assert (response.status_code, response.json()["error"]) == (429, "evidence_quota_exceeded"), response.text
        assert 86_000 < int(response.headers["Retry-After"]) <= 86_400
    assert stored.snapshot() == before and http_server.requests == []

    # A day later the oldest additions have left the window.
    a_day_later = utcnow() + timedelta(hours=24, minutes=1)
    monkeypatch.setattr(service, "utcnow", lambda: a_day_later)
    assert add(client, first, earner, {"kind": "text", "text": "the next day"}).status_code == 201


# --- fetches per hour -----------------------------------------------------------------------------


def test_fetches_and_clones_are_rate_limited_per_account_failed_ones_included(
    client, earner, two_bundles, stored, http_server, git_server, local_fetchers, published
):
    first, _second = two_bundles
    http_server.routes["/gone"] = respond(404, b"not here")
    repository, _commit = published
    for body, code in (
        ({"kind": "url", "url": http_server.url("/gone")}, "url_http_error"),
        ({"kind": "url", "url": http_server.url("/gone")}, "url_http_error"),
        ({"kind": "repository", "url": repository, "commit": "f" * 40}, "repository_unknown_commit"),
    ):
        item = add_fetched(client, first, earner, body)
        assert item["state"] == "failed" and item["error"].startswith(f"{code}: ")
    clones = len(git_server.requests)
    before = stored.snapshot()
    for body in (
        {"kind": "url", "url": http_server.url("/gone")},
        {"kind": "repository", "url": repository, "commit": "f" * 40},
    ):
        response = add(client, first, earner, body)
        assert response.status_code == 429, response.text
        assert int(response.headers["Retry-After"]) > 0 and "evidence-fetch" in response.headers["RateLimit-Policy"]
    assert http_server.hits("/gone") == 2 and len(git_server.requests) == clones
    assert stored.snapshot() == before
    # Items that need no fetch are not affected.
    assert add(client, first, earner, {"kind": "text", "text": "still fine"}).status_code == 201
