"""Issue 4, "How we know it works": evidence in, assessed skill out, end to end over the API.

An earner gathers a small git repository (made here, served by a local HTTPS git server and
cloned by the real fetcher), a narrative and a file; submits them; the configured assessor (the
real offline one) judges them against a rubric whose policy sends every assessment to a
reviewer; a reviewer approves; the credential is issued; ``POST /v1/verify`` verifies it; and
every evidence entry's ``digestMultibase`` matches the SHA-256 of the bytes anyone can fetch from
the public evidence URL.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import base58
import pytest

from service.evidence import jobs as evidence_jobs
from service.evidence.routes import evidence_fetchers
from service.vc.skillcred import SKILLCRED_V1
from tests.assessment.helpers import rubric
from tests.evidence.conftest import make_local_fetchers, settled
from tests.evidence.git_server import GitHttpsServer, make_repository

MULTIHASH_SHA256 = b"\x12\x20"
NARRATIVE = (
    "I built a small calculator library in Python and tested it with pytest: unit tests with "
    "assert statements for every function, run on every push by a continuous integration "
    "workflow on GitHub Actions. The tests caught two rounding bugs before release."
)
PROJECT = [
    {
        "README.md": "# calc\n\nA calculator library. Run the tests with `pytest`.\n",
        "calc/__init__.py": "def add(a, b):\n    return a + b\n",
    },
    {
        "calc/ops.py": "def mul(a, b):\n    return a * b\n",
        "tests/test_add.py": "from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n",
        "tests/test_mul.py": "from calc.ops import mul\n\n\ndef test_mul():\n    assert mul(2, 3) == 6\n",
        "tests/test_more.py": "def test_identity():\n    assert 1 == 1\n",
    },
    {
        ".github/workflows/ci.yml": "on: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: pytest\n"
    },
]


@pytest.fixture
def assessor():
    return None  # no scripted assessor: the app's configured one (offline) judges


@pytest.fixture
def rubric_json():
    return rubric("review")


@pytest.fixture
def git_server(tmp_path: Path) -> Iterator[GitHttpsServer]:
    (tmp_path / "served").mkdir()
    (tmp_path / "tls").mkdir()
    with GitHttpsServer(tmp_path / "served", tmp_path / "tls") as server:
        yield server


@pytest.fixture
def repository(app, settings, git_server, tmp_path, monkeypatch) -> tuple[str, str]:
    """A small tested project, published on the local git server; the app (the route and the
    evidence fetch job) may clone from it."""
    commits = make_repository(tmp_path / "project", PROJECT)
    fetchers = make_local_fetchers(settings, ca_file=git_server.ca_file)
    app.dependency_overrides[evidence_fetchers] = lambda: fetchers
    monkeypatch.setattr(evidence_jobs, "fetchers_for", lambda settings: fetchers)
    yield git_server.publish(tmp_path / "project"), commits[-1]
    app.dependency_overrides.pop(evidence_fetchers, None)


def digest_of(digest_multibase: str) -> bytes:
    """The SHA-256 a ``digestMultibase`` (``z`` + base58btc multihash) names."""
    assert digest_multibase.startswith("z")
    multihash = base58.b58decode(digest_multibase[1:])
    assert multihash[:2] == MULTIHASH_SHA256 and len(multihash) == 34
    return multihash[2:]


def test_evidence_in_assessed_skill_out(cast, app, repository):
    client, (repository_url, commit) = cast.client, repository

    # the earner gathers evidence: a repository pinned to a commit, a narrative, a file
    bundle = cast.bundle(text=NARRATIVE)
    response = client.post(
        f"/v1/evidence/bundles/{bundle['id']}/items",
        headers=cast.earner,
        json={"kind": "repository", "url": repository_url, "commit": commit, "name": "calc"},
    )
    assert response.status_code == 202, response.text  # cloned by a job
    assert settled(client, bundle["id"], response.json()["id"], cast.earner)["state"] == "ready"
    response = client.post(
        f"/v1/evidence/bundles/{bundle['id']}/files",
        headers=cast.earner,
        files={"file": ("coverage.txt", b"calc/__init__.py 100%\ncalc/ops.py 100%\n", "text/plain")},
    )
    assert response.status_code == 201, response.text

    # automatic assessment; the rubric's policy sends it to a reviewer
    assessment = cast.submit(bundle["id"])
    assert assessment["state"] == "pending_review"
    assert assessment["assessor"]["kind"] == "offline" and len(assessment["evidence_digests"]) == 3
    assert {c["criterion_id"] for c in assessment["criteria"]} == {"tests", "ci"}
    queued = client.get("/v1/review-queue", headers=cast.reviewer).json()["items"]
    assert [a["id"] for a in queued] == [assessment["id"]]

    # the reviewer looks at the evidence and the per-criterion results, and approves
    seen = cast.get(assessment["id"], as_=cast.reviewer)
    assert {item["kind"] for item in seen["evidence"]} == {"text", "repository", "file"}
    overrides = (
        []
        if seen["passed"]
        else [
            {"criterion_id": c["criterion_id"], "level": top, "reason": "Checked by hand: the repository shows it."}
            for c, top in zip(seen["criteria"], ("thorough", "present"), strict=True)
        ]
    )
    approved = cast.act(assessment["id"], "approve", {"reason": "Tests and CI as described.", "overrides": overrides})
    assert approved["state"] == "issued" and approved["credential_id"]

    # the credential is issued, and verifies
    text = client.get(f"/v1/credentials/{approved['credential_id']}/jsonld", headers=cast.earner).text
    credential = json.loads(text)
    assert SKILLCRED_V1 in credential["@context"]
    stated = credential["credentialSubject"]["assessment"]
    assert (stated["assessorKind"], stated["humanReviewed"]) == ("offline", True)
    assert len(credential["credentialSubject"]["result"]) == 2
    report = client.post("/v1/verify", content=text, headers={"Content-Type": "application/vc+ld+json"}).json()
    assert report["verified"] is True, report
    assert next(c for c in report["checks"] if c["id"] == "assessment")["outcome"] == "info"

    # each evidence digest matches the stored bytes, fetched by anyone from the public evidence URL
    items = client.get(f"/v1/evidence/bundles/{bundle['id']}", headers=cast.earner).json()["items"]
    assert len(credential["evidence"]) == len(items) == 3
    for entry, item in zip(credential["evidence"], items, strict=True):
        public = client.get(f"/evidence/items/{item['id']}")  # no token: the credential made it public
        assert public.status_code == 200, public.text
        assert digest_of(entry["digestMultibase"]) == hashlib.sha256(public.content).digest(), entry["name"]
        assert seen["evidence_digests"][item["id"]] == hashlib.sha256(public.content).hexdigest()
    repository_entry = next(e for e in credential["evidence"] if e["id"] == repository_url)
    assert commit in repository_entry["name"]
