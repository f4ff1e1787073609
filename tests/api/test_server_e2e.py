"""The real thing: `skillcred serve` in a subprocess, driven over HTTP, checked by the JS verifier.

The server migrates and bootstraps its admin itself. A credential issued over HTTP verifies with
digitalbazaar's verifier, which gets the issuer's DID document from the service's own did:web URL
(fetched over HTTP here and handed to the verifier's offline loader), and with POST /v1/verify.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from service.vc.did import did_web_document_url
from tests.interop.node_verifier import NodeVC, ensure_node_modules
from tests.serve import ADMIN, free_port, running_server

pytestmark = pytest.mark.interop


@pytest.fixture
def server(database_url: str, tmp_path) -> Iterator[str]:
    with running_server(database_url, tmp_path) as running:
        yield running.base


def test_a_credential_issued_by_the_running_server_verifies_independently(server, tmp_path):
    http = httpx.Client(base_url=server, timeout=30)
    token = http.post("/v1/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]}).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    issuer = http.post("/v1/issuers", json={"name": "E2E Issuer", "url": "https://e2e.example"}, headers=auth).json()
    achievement = http.post(
        f"/v1/issuers/{issuer['id']}/achievements",
        headers=auth,
        json={
            "name": "Shipping a tested service",
            "description": "Builds and ships a tested web service.",
            "criteria": {"narrative": "A deployed service with CI."},
        },
    ).json()
    issued = http.post(
        "/v1/credentials",
        headers=auth,
        json={"achievement_id": achievement["id"], "recipient": {"email": "freelancer@example.org"}},
    )
    assert issued.status_code == 201, issued.text
    credential_url = issued.json()["url"]
    assert credential_url.startswith(server)

    # the issuer's did:web resolves to this server: fetch its DID document over HTTP
    did_url = did_web_document_url(issuer["did"], scheme="http")
    assert did_url.startswith(server)
    did_json = tmp_path / "did.json"
    did_json.write_text(httpx.get(did_url).text)
    jsonld = httpx.get(credential_url, headers={"Accept": "application/vc+ld+json"}).text
    # and its revocation and suspension lists from their public URLs on this server
    resolve = {issuer["did"]: did_json}
    for number, entry in enumerate(json.loads(jsonld)["credentialStatus"]):
        assert entry["statusListCredential"].startswith(f"{server}/status/")
        resolve[entry["statusListCredential"]] = tmp_path / f"status-{number}.json"
        resolve[entry["statusListCredential"]].write_text(httpx.get(entry["statusListCredential"]).text)

    ensure_node_modules()
    result = NodeVC().verify(jsonld, resolve=resolve)
    assert result.verified, result.errors
    assert result.checks["status"] is True

    report = http.post("/v1/verify", content=jsonld, headers={"Content-Type": "application/vc+ld+json"}).json()
    assert report["verified"] is True, report
    page = httpx.get(credential_url, headers={"Accept": "text/html"})
    assert "Shipping a tested service" in page.text and "freelancer@example.org" not in page.text
    assert json.loads(jsonld)["issuer"]["id"] == issuer["did"]


def test_production_refuses_to_start_without_a_key_encryption_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKILLCRED_")}
    env |= {"SKILLCRED_ENV": "production", "SKILLCRED_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    result = subprocess.run(
        [sys.executable, "-m", "service.cli.main", "serve", "--port", str(free_port())],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "SKILLCRED_KEK" in result.stderr
    assert not (tmp_path / "keys").exists()
