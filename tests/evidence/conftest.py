"""Fixtures for the evidence tests: small limits, a blob store in the test's folder, an issuer with
an achievement, the people involved, a local HTTP server for URLs and an HTTPS git server.

The app's fetchers are replaced (FastAPI ``dependency_overrides`` for the request's checks, and
:func:`service.evidence.jobs.fetchers_for` for the job that fetches) by ones that may reach
127.0.0.1 and resolve names from a fixed table: the test-only allowance, never reachable from
settings or the API. Tests that check the production wiring use :func:`production_fetchers`.

URL and repository items are fetched by the job ``evidence:fetch_item``, run by the app's
in-process worker (``jobs_in_process``): :func:`settled` waits for an item to leave ``fetching``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from ipaddress import ip_network
from pathlib import Path

import pytest
import sqlalchemy as sa
from procrastinate import RetryStrategy

from service.core.config import Settings
from service.evidence import jobs as evidence_jobs
from service.evidence.blobstore import BlobStore, get_blob_store
from service.evidence.intake import EvidenceFetchers, EvidenceLimits
from service.evidence.repositories import RepositoryFetcher
from service.evidence.routes import evidence_fetchers
from service.net import SafeFetcher
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, PUBLIC_URL, TEST_KEK
from tests.evidence.git_server import HOST, GitHttpsServer
from tests.net.local_server import LocalServer, fixed_resolver

LOOPBACK_ONLY = (ip_network("127.0.0.1/32"),)
KIB = 1024
NAMES = {HOST: ["127.0.0.1"], "evidence.test": ["127.0.0.1"]}


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The suite's settings, with the blob store in the test's folder and small evidence limits."""
    return Settings(
        env="test",
        database_url=database_url,
        kek=TEST_KEK,
        public_url=PUBLIC_URL,
        dev_kek_file=tmp_path / "dev-kek",
        bootstrap_admin_email=ADMIN_EMAIL,
        bootstrap_admin_password=ADMIN_PASSWORD,
        blob_dir=tmp_path / "blobs",
        evidence_max_file_bytes=256 * KIB,
        evidence_max_items=4,
        evidence_max_bundle_bytes=600 * KIB,
        evidence_fetch_timeout_seconds=1.0,
        evidence_clone_timeout_seconds=5.0,
        evidence_max_repository_bytes=512 * KIB,
        evidence_archive_max_entries=50,
        evidence_archive_max_uncompressed_bytes=2 * 1024 * KIB,
        evidence_archive_max_ratio=50,
        jobs_in_process=True,
    )


@pytest.fixture(autouse=True)
def fetch_retries_at_once(monkeypatch) -> None:
    """The fetch job's retries, as many as in production, without the waits between them."""
    monkeypatch.setattr(
        evidence_jobs, "FETCH_RETRY", RetryStrategy(max_attempts=evidence_jobs.FETCH_RETRY.max_attempts)
    )


@pytest.fixture
def limits(settings: Settings) -> EvidenceLimits:
    return EvidenceLimits.from_settings(settings)


@pytest.fixture
def blobs(settings: Settings) -> BlobStore:
    return get_blob_store(settings)


@pytest.fixture
def http_server() -> Iterator[LocalServer]:
    """A plain-HTTP server on 127.0.0.1 (``http_server.routes[path] = handler``)."""
    with LocalServer() as server:
        yield server


@pytest.fixture
def git_server(tmp_path: Path) -> Iterator[GitHttpsServer]:
    (tmp_path / "served").mkdir()
    (tmp_path / "tls").mkdir()
    with GitHttpsServer(tmp_path / "served", tmp_path / "tls") as server:
        yield server


def make_local_fetchers(settings: Settings, ca_file: Path | None = None, **repository_options) -> EvidenceFetchers:
    """Fetchers that may reach 127.0.0.1 (plain http allowed), resolving names from ``NAMES``."""
    options = {
        "timeout": settings.evidence_clone_timeout_seconds,
        "max_bytes": settings.evidence_max_repository_bytes,
        **repository_options,
    }
    return EvidenceFetchers(
        urls=SafeFetcher(
            timeout=settings.evidence_fetch_timeout_seconds,
            max_bytes=settings.evidence_max_file_bytes,
            allow_http=True,
            resolver=fixed_resolver(NAMES),
            allowed_networks=LOOPBACK_ONLY,
        ),
        repositories=RepositoryFetcher(
            resolver=fixed_resolver(NAMES), allowed_networks=LOOPBACK_ONLY, ca_file=ca_file, **options
        ),
    )


@pytest.fixture
def use_fetchers(app, monkeypatch):
    """``use_fetchers(fetchers)`` makes the app (the route and the fetch job) use them for
    evidence URLs and repositories."""

    def use(fetchers: EvidenceFetchers) -> EvidenceFetchers:
        app.dependency_overrides[evidence_fetchers] = lambda: fetchers
        monkeypatch.setattr(evidence_jobs, "fetchers_for", lambda settings: fetchers)
        return fetchers

    yield use
    app.dependency_overrides.pop(evidence_fetchers, None)


@pytest.fixture
def local_fetchers(app, settings, git_server, use_fetchers) -> EvidenceFetchers:
    """The app, fetching from the local servers."""
    return use_fetchers(make_local_fetchers(settings, ca_file=git_server.ca_file))


@pytest.fixture
def issuer(api) -> dict:
    return api.create_issuer("Acme Academy")


@pytest.fixture
def achievement(api, issuer) -> dict:
    return api.create_achievement(issuer["id"], name="Python testing")


@pytest.fixture
def earner(api) -> dict[str, str]:
    return api.create_account("earner")


@pytest.fixture
def bundle(client, earner, achievement) -> dict:
    response = client.post(
        "/v1/evidence/bundles", json={"achievement_id": achievement["id"], "title": "My work"}, headers=earner
    )
    assert response.status_code == 201, response.text
    return response.json()


class Stored:
    """What the evidence tables and the blob store hold, to show a refusal stored nothing."""

    def __init__(self, app, blobs: BlobStore) -> None:
        self.app, self.blobs = app, blobs

    def snapshot(self) -> tuple[int, frozenset[str]]:
        with self.app.state.engine.connect() as connection:
            items = connection.execute(sa.text("SELECT COUNT(*) FROM evidenceitem")).scalar_one()
        return items, frozenset(digest for digest, _ in self.blobs.digests())


@pytest.fixture
def stored(app, blobs) -> Stored:
    return Stored(app, blobs)


SETTLE_SECONDS = 60.0


def settled(client, bundle_id: str, item_id: str, headers, *, within: float = SETTLE_SECONDS) -> dict:
    """The item as ``GET`` of its bundle shows it once it left ``fetching`` (the fetch job is
    done: ``ready`` or ``failed``); fails the test when it has not within ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        response = client.get(f"/v1/evidence/bundles/{bundle_id}", headers=headers)
        assert response.status_code == 200, response.text
        item = next(i for i in response.json()["items"] if i["id"] == item_id)
        if item["state"] != "fetching":
            return item
        assert time.monotonic() < deadline, f"item {item_id} still fetching after {within} s"
        time.sleep(0.1)


def add_fetched(client, bundle: dict, headers, body: dict) -> dict:
    """Add a URL or repository item (202, state ``fetching``) and return it once fetched."""
    response = client.post(f"/v1/evidence/bundles/{bundle['id']}/items", json=body, headers=headers)
    assert response.status_code == 202, response.text
    assert response.json()["state"] == "fetching"
    assert response.headers["Location"] == f"/v1/evidence/bundles/{bundle['id']}"
    return settled(client, bundle["id"], response.json()["id"], headers)
