"""Evidence of an issued credential on its badge page: a stored image shows on the page, every
stored item downloads under a real file name with an extension, and a private credential's
evidence is private too."""

from __future__ import annotations

import re

import pytest

from service.api.deps import get_assessor
from tests.assessment.helpers import ScriptedAssessor, create_achievement_with_rubric, rubric, wait_decided
from tests.endorsements.conftest import register_earner
from tests.web.badge_helpers import set_credential

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


@pytest.fixture
def assessed(app, api, client):
    """A credential issued from a bundle with a text item, a PNG and a PDF uploaded without an extension."""
    app.dependency_overrides[get_assessor] = lambda: ScriptedAssessor(levels={"tests": "thorough", "ci": "present"})
    try:
        issuer = api.create_issuer("Assessing Academy")
        achievement = create_achievement_with_rubric(api, app, issuer["id"], rubric("auto"))
        earner = register_earner(api)
        bundle = client.post("/v1/evidence/bundles", json={"achievement_id": achievement["id"]}, headers=earner.headers)
        bundle_id = bundle.json()["id"]
        text = client.post(
            f"/v1/evidence/bundles/{bundle_id}/items",
            json={"kind": "text", "text": "# My tests\n\nI test with `pytest`.", "name": "Narrative"},
            headers=earner.headers,
        )
        assert text.status_code == 201, text.text
        for name, data, media_type in (
            ("diagram.png", PNG, "image/png"),
            ("report", b"%PDF-1.4\n%%EOF\n", "application/pdf"),
        ):
            upload = client.post(
                f"/v1/evidence/bundles/{bundle_id}/files",
                files={"file": (name, data, media_type)},
                headers=earner.headers,
            )
            assert upload.status_code == 201, upload.text
        started = client.post("/v1/assessments", json={"bundle_id": bundle_id}, headers=earner.headers)
        assert started.status_code == 202, started.text
        credential_id = wait_decided(app, client, started.json()["id"], earner.headers)["credential_id"]
    finally:
        app.dependency_overrides.pop(get_assessor, None)
    page = client.get(f"/credentials/{credential_id}", headers={"Accept": "text/html"}).text
    return credential_id, page


def _downloads(page: str) -> dict[str, str]:
    return dict(re.findall(r'<a href="(/evidence/items/[^"]+)" download="([^"]+)">', page))


def test_a_stored_image_is_shown_on_the_page(assessed):
    _, page = assessed

    assert re.search(r'<img class="evidence-image" src="/evidence/items/[^"]+" alt="Evidence: diagram.png">', page)


def test_every_stored_item_downloads_with_a_real_file_name_and_extension(client, assessed):
    _, page = assessed
    downloads = _downloads(page)

    names = set(downloads.values())
    generated = {name for name in names if re.fullmatch(r"evidence-[0-9a-f-]+\.txt", name)}
    assert len(generated) == 1 and names - generated == {"diagram.png", "report.pdf"}
    for url, name in downloads.items():
        response = client.get(url)
        assert response.status_code == 200
        disposition = response.headers["content-disposition"]
        fallback = re.search(r'filename="([^"]+)"', disposition)
        assert fallback and re.fullmatch(r"evidence-[0-9a-f-]+\.(png|pdf|txt)", fallback.group(1)), disposition
        assert disposition.endswith("''" + name), disposition


def test_a_private_credentials_evidence_is_not_served(app, client, assessed):
    credential_id, page = assessed
    set_credential(app, credential_id, public=False)

    for url in _downloads(page):
        assert client.get(url).status_code == 404
