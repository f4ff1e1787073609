"""Every format of an issued credential: JSON-LD (byte for byte), VC-JWT, baked PNG and SVG."""

from __future__ import annotations

import json

import pytest

from service.vc.baking import extract_baked, extract_baked_text
from service.vc.verify import verify
from tests.credentials.helpers import MEDIA_TYPES, published_keys, stored_credential


@pytest.fixture
def issued(api, achievement):
    return api.issue(achievement["id"], {"email": "ada@example.org"})


def test_json_ld_is_the_stored_text_byte_for_byte(app, api, issued):
    response = api.client.get(f"/v1/credentials/{issued['id']}/jsonld", headers=api.admin)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vc+ld+json"
    assert response.content == stored_credential(app, issued["id"]).jsonld.encode("utf-8")
    assert json.loads(response.content) == issued["credential"]


def test_json_ld_verifies_against_the_published_did_document(api, issuer, issued):
    text = api.client.get(f"/v1/credentials/{issued['id']}/jsonld", headers=api.admin).text

    report = verify(text, key_resolver=published_keys(api.client, issuer))

    assert report.verified, report.to_text()
    assert report.check("proof").outcome == "passed"


def test_the_vc_jwt_verifies_and_carries_the_same_credential(app, api, issuer, issued):
    response = api.client.get(f"/v1/credentials/{issued['id']}/jwt", headers=api.admin)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vc+jwt"
    assert response.text == stored_credential(app, issued["id"]).vc_jwt
    report = verify(response.text, key_resolver=published_keys(api.client, issuer))
    assert report.verified, report.to_text()
    assert report.format == "vc-jwt" and "RS256" in report.check("jwt").reason
    unsigned = {k: v for k, v in issued["credential"].items() if k != "proof"}
    assert {k: report.credential[k] for k in unsigned} == unsigned


@pytest.mark.parametrize("image", ["png", "svg"])
def test_baked_images_give_back_the_stored_json_ld_text(app, api, issuer, issued, image):
    response = api.client.get(f"/v1/credentials/{issued['id']}/{image}", headers=api.admin)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith(MEDIA_TYPES[image])
    assert extract_baked_text(response.content) == stored_credential(app, issued["id"]).jsonld
    assert extract_baked(response.content) == issued["credential"]
    report = verify(response.content, key_resolver=published_keys(api.client, issuer))
    assert report.verified and report.format == image, report.to_text()


def test_the_svg_badge_shows_the_achievement_name_escaped(api, issuer):
    achievement = api.create_achievement(issuer["id"], name='Tests <&> "fixtures"')
    issued = api.issue(achievement["id"])

    svg = api.client.get(f"/v1/credentials/{issued['id']}/svg", headers=api.admin).text

    drawing = svg.split("</openbadges:credential>")[1]  # the credential itself is JSON in CDATA
    assert "Tests &lt;&amp;&gt;" in drawing and "<&>" not in drawing
    assert svg.startswith("<?xml") and "<script" not in svg


def test_the_png_badge_is_a_real_png(api, issued):
    png = api.client.get(f"/v1/credentials/{issued['id']}/png", headers=api.admin).content

    assert png.startswith(b"\x89PNG\r\n\x1a\n") and png[12:16] == b"IHDR"
    assert png.endswith(b"IEND\xaeB`\x82")
