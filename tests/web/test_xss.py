"""Stored XSS on the public badge page (``GET /credentials/{id}``) and its SVG badge.

Every string a user controls that the page shows is given each payload through the real API: the
issuer's name and description, the achievement's name, description, criteria, alignment names and
frameworks, result description and rubric level names, result values, evidence names, narratives
and descriptions, endorsers' names and comments (both endorsement flows), and, on the assessment
path, the rubric's name and criteria, a bundle's text, testimonial and uploaded file names. The
page is then parsed (the standard library's HTML parser) and must hold no element, attribute or
URL the template does not write itself, every payload must come back as text, template syntax
must stay text, and the Content-Security-Policy must forbid scripts. URL fields refuse
``javascript:`` (and other non-http) URLs at the door; an SVG with a script, uploaded as evidence,
is never served as an image a browser would run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element

import pytest
from defusedxml.ElementTree import fromstring

from service.api.deps import get_assessor
from service.core.templates import TEMPLATES
from service.vc.keys import did_key_signer, generate_ed25519
from service.web.markdown import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, render_markdown
from tests.api_client import Api
from tests.assessment.helpers import ScriptedAssessor, create_achievement_with_rubric, rubric, wait_decided
from tests.endorsements.conftest import Client, accept, challenge, endorse_by_email, register_earner, submit

pytestmark = pytest.mark.attack

HTML_ACCEPT = {"Accept": "text/html"}
TEMPLATE_EXPRESSION = '{{ "pw" ~ "ned" ~ 4242 }}'
EVALUATED = "pwned4242"
PAYLOADS = {
    "script": "<script>alert('xss')</script>",
    "attribute_breakout": '"><img src=x onerror=alert(1)>',
    "single_quote_breakout": "'><svg onload=alert(2)>",
    "style_breakout": "</style><script>alert(3)</script>",
    "title_breakout": "</title><script>alert(4)</script>",
    "javascript_url": "javascript:alert(5)",
    "link": '<a href="javascript:alert(6)">click</a>',
    "svg_script": "<svg><script>alert(7)</script></svg>",
    "iframe": '<iframe srcdoc="<script>alert(8)</script>"></iframe>',
    "template": f"{TEMPLATE_EXPRESSION} {{% print(1) %}} ${{7*7}} #{{7*7}}",
    "entity": "&lt;script&gt;alert(9)&lt;/script&gt; &#60;b&#62;",
}
SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(10)">'
    b"<script>alert(11)</script><circle r='5'/></svg>"
)
FILE_NAME = "'><img src=x onerror=alert(12)><svg onload=alert(13)>.svg"
DANGEROUS_ELEMENTS = {"iframe", "svg", "object", "embed", "base", "frame", "style", "textarea", "select"}
"""Never on the page (``textarea`` and ``select`` only as the templates write them: see below)."""
ONCE_ONLY = ("html", "head", "title", "body", "main", "script")
"""Elements the templates write once: the page has exactly one of each."""
PAGE_TEMPLATES = ("_layout.html", "credential.html", "_report.html")


# --- reading the page ---------------------------------------------------------------------------


def _template_vocabulary() -> tuple[frozenset[str], frozenset[str]]:
    """The element and attribute names the page's templates write themselves, and those the
    Markdown sanitiser lets through (the narratives are rendered from Markdown)."""
    source = "".join((TEMPLATES / name).read_text(encoding="utf-8") for name in PAGE_TEMPLATES)
    tags = frozenset(t.lower() for t in re.findall(r"<([A-Za-z][A-Za-z0-9]*)", source)) | ALLOWED_TAGS
    attributes = frozenset(a.lower() for a in re.findall(r"\s([A-Za-z][A-Za-z-]*)=[\"']", source))
    attributes |= {"download", "hidden", "required", "readonly", "defer", "spellcheck", "property"}
    attributes |= {name for names in ALLOWED_ATTRIBUTES.values() for name in names}
    return tags, attributes


TEMPLATE_TAGS, TEMPLATE_ATTRIBUTES = _template_vocabulary()


class ParsedPage(HTMLParser):
    """A page as a browser's tokenizer sees it: its elements with their attributes, its text
    (character references decoded) and the contents of its ``<style>`` elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.texts: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        (self.styles if self._in_style else self.texts).append(data)

    @property
    def text(self) -> str:
        return "".join(self.texts)


def parse(html_text: str) -> ParsedPage:
    page = ParsedPage()
    page.feed(html_text)
    page.close()
    return page


def _url_scheme(value: str) -> str:
    """The scheme a browser would see (it drops ASCII whitespace and controls first)."""
    return urlsplit(re.sub(r"[\x00-\x20]", "", value).lower()).scheme


def assert_page_is_safe(response: Any, credential_id: str, shown: dict[str, str]) -> ParsedPage:
    """No injected element, attribute, script URL or style; every value in ``shown`` as text."""
    assert response.status_code == 200, response.text
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self';" in policy, policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, policy
    assert response.headers["x-content-type-options"] == "nosniff"
    page = parse(response.text)

    tags = [tag for tag, _ in page.elements]
    assert set(tags) <= TEMPLATE_TAGS, set(tags) - TEMPLATE_TAGS
    assert not set(tags) & DANGEROUS_ELEMENTS - {"textarea"}, set(tags) & DANGEROUS_ELEMENTS
    for tag in ONCE_ONLY:
        assert tags.count(tag) == 1, tag
    assert tags.count("textarea") <= 1 and tags.count("input") <= 1
    assert page.styles == [] and "<style" not in response.text
    for tag, attrs in page.elements:
        if tag == "script":  # the one script is the page's own file, never inline code
            assert re.fullmatch(r"/static/badge\.js\?v=[0-9a-f]+", str(attrs.get("src"))), attrs
        if tag == "link":
            assert attrs.get("rel") in ("stylesheet", "canonical", "alternate"), attrs
        if tag == "form":
            assert re.fullmatch(rf"{credential_id}/(identity|evidence/\d+/check)", str(attrs.get("action"))), attrs
        if tag == "input":
            assert attrs.get("type") == "email" and attrs.get("name") == "email", attrs
        if tag == "meta":
            assert set(attrs) <= {"charset", "name", "content", "property"}, attrs
    images = [attrs for tag, attrs in page.elements if tag == "img"]
    assert [image.get("src") for image in images] == [f"{credential_id}/badge.svg", f"{credential_id}/qr.svg"]
    for tag, attrs in page.elements:
        for name, value in attrs.items():
            assert not name.startswith("on") and name != "style", (tag, name, value)
            assert name in TEMPLATE_ATTRIBUTES, (tag, name, value)
            if name in ("href", "src", "action") and value is not None:
                assert _url_scheme(value) in ("", "http", "https"), (tag, name, value)

    assert EVALUATED not in response.text
    for where, value in shown.items():
        assert value in page.text, f"{where} is not shown as text"
    return page


def markdown_text(value: str) -> str:
    """The text a Markdown narrative shows (its markup, such as ``*emphasis*``, applied)."""
    return parse(render_markdown(value)).text.strip()


# --- the direct issuing path --------------------------------------------------------------------


@dataclass
class Planted:
    """A credential issued with a payload in every field, and the texts the page should show."""

    credential: dict[str, Any]
    shown: dict[str, str]


def _tagged(payload: str, where: str) -> str:
    return f"{where}: {payload}"


def plant_everywhere(api: Api, payload: str) -> Planted:
    """An issuer, achievement, credential and two accepted endorsements (one per flow), every user
    string carrying ``payload``, all through the API."""
    shown: dict[str, str] = {}

    def text(where: str, *, displayed: bool = True) -> str:
        value = _tagged(payload, where)
        if displayed:
            shown[where] = value
        return value

    def markdown(value: str, where: str) -> str:
        shown[where] = markdown_text(value)
        return value

    issuer = api.create_issuer(text("issuer name"), description=text("issuer description", displayed=False))
    achievement = api.create_achievement(
        issuer["id"],
        name=text("achievement name"),
        description=text("achievement description"),
        criteria={"narrative": markdown(text("criteria narrative", displayed=False), "criteria narrative")},
        alignments=[
            {
                "target_name": text("alignment name"),
                "target_url": "https://esco.example/skill/1",
                "target_framework": text("alignment framework"),
                "target_description": text("alignment description", displayed=False),
                "target_code": text("alignment code", displayed=False),
            }
        ],
        result_descriptions=[
            {"name": text("result name"), "result_type": "Result"},
            {
                "name": text("rubric criterion"),
                "result_type": "RubricCriterion",
                "rubric_criterion_levels": [
                    {"name": text("rubric level"), "description": text("level description", displayed=False)},
                    {"name": "Other level"},
                ],
            },
        ],
        tags=[text("tag", displayed=False)[:64]],
    )
    earner = register_earner(api)
    credential = api.issue(
        achievement["id"],
        {"email": earner.email},
        evidence=[
            {
                "id": "https://portfolio.example/work?a=1&b=2",
                "name": text("evidence name"),
                "narrative": markdown(text("evidence narrative", displayed=False), "evidence narrative"),
                "genre": text("evidence genre", displayed=False),
            },
            {"id": "urn:uuid:00000000-0000-4000-8000-000000000001", "description": text("evidence description")},
        ],
        results=[
            {"result_description": _tagged(payload, "result name"), "value": text("result value")},
            {
                "result_description": _tagged(payload, "rubric criterion"),
                "achieved_level": _tagged(payload, "rubric level"),
            },
        ],
    )
    by_email = endorse_by_email(
        api, credential["id"], name=text("email endorser name"), statement=text("email endorsement comment")
    )
    accept(api, by_email, earner)
    client = Client(did_key_signer(generate_ed25519()))
    issued = challenge(api, credential["id"], client.did)
    proof = client.sign_jws({"nonce": issued["nonce"], "aud": issued["audience"], "iss": client.did})
    endorsement = client.endorsement(
        credential["url"],
        comment=text("signed endorsement comment"),
        issuer={"id": client.did, "type": ["Profile"], "name": text("signed endorser name")},
    )
    response = submit(api, credential["id"], issued["id"], proof, endorsement)
    assert response.status_code == 201, response.text
    accept(api, response.json(), earner)
    return Planted(credential, shown)


def assert_svg_badge_is_safe(response: Any, payload: str) -> None:
    """The SVG badge holds the achievement's name as text: no script, handler, link or foreign
    content (served as an image, it must not run when opened on its own)."""
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    elements: list[Element] = list(fromstring(response.content).iter())
    names = {element.tag.rsplit("}", 1)[-1] for element in elements}
    assert not names & {"script", "foreignObject", "a", "iframe", "image", "use", "animate", "set"}, names
    for element in elements:
        for attribute, value in element.attrib.items():
            local = attribute.rsplit("}", 1)[-1].lower()
            assert not local.startswith("on"), (element.tag, attribute, value)
            assert local != "href", (element.tag, attribute, value)
    title = next(e for e in elements if e.tag.endswith("}title"))
    assert title.text is not None and _tagged(payload, "achievement name").strip() in title.text


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_no_field_of_a_credential_can_inject_markup_into_its_badge_page_or_badge_image(api, client, payload):
    planted = plant_everywhere(api, payload)
    credential_id = planted.credential["id"]

    page = client.get(f"/credentials/{credential_id}", headers=HTML_ACCEPT)
    badge = client.get(f"/credentials/{credential_id}/badge.svg")

    assert_page_is_safe(page, credential_id, planted.shown)
    assert_svg_badge_is_safe(badge, payload)


# --- the assessment path ----------------------------------------------------------------------


def test_rubric_and_bundle_texts_cannot_inject_markup_through_an_assessed_credential(app, api, client):
    payload = PAYLOADS["attribute_breakout"] + PAYLOADS["script"]
    assessor = ScriptedAssessor(levels={"tests": "thorough", "ci": "present"})
    app.dependency_overrides[get_assessor] = lambda: assessor
    try:
        crafted = rubric("auto", name=_tagged(payload, "rubric name"))
        crafted["criteria"][0]["name"] = _tagged(payload, "criterion name")
        crafted["criteria"][0]["levels"][2]["name"] = _tagged(payload, "criterion level")
        issuer = api.create_issuer("Assessing Academy")
        achievement = create_achievement_with_rubric(api, app, issuer["id"], crafted)
        earner = register_earner(api)
        bundle = client.post(
            "/v1/evidence/bundles", json={"achievement_id": achievement["id"]}, headers=earner.headers
        ).json()
        items = f"/v1/evidence/bundles/{bundle['id']}/items"
        for body in (
            {"kind": "text", "text": _tagged(payload, "text item"), "name": _tagged(payload, "text name")},
            {
                "kind": "testimonial",
                "statement": _tagged(payload, "testimonial"),
                "author_name": _tagged(payload, "testimonial author"),
                "contact_email": "client@example.org",
            },
        ):
            added = client.post(items, json=body, headers=earner.headers)
            assert added.status_code == 201, added.text
        upload = client.post(
            f"/v1/evidence/bundles/{bundle['id']}/files",
            # a file name's last path segment is kept, so this payload has no "/" (and httpx would
            # percent-encode a double quote)
            files={"file": (FILE_NAME, SVG_WITH_SCRIPT, "image/svg+xml")},
            headers=earner.headers,
        )
        assert upload.status_code == 201, upload.text
        assert upload.json()["file_name"] == FILE_NAME
        assessment = client.post("/v1/assessments", json={"bundle_id": bundle["id"]}, headers=earner.headers)
        assert assessment.status_code == 202, assessment.text
        credential_id = wait_decided(app, client, assessment.json()["id"], earner.headers)["credential_id"]
        assert credential_id, assessment.json()
    finally:
        app.dependency_overrides.pop(get_assessor, None)

    page = client.get(f"/credentials/{credential_id}", headers=HTML_ACCEPT)

    shown = {
        where: _tagged(payload, where)
        for where in ("text item", "text name", "testimonial", "criterion name", "criterion level")
    } | {"file name": FILE_NAME}
    parsed = assert_page_is_safe(page, credential_id, shown)
    assert _tagged(payload, "rubric name") in parsed.text  # in "How this was assessed"
    # the uploaded SVG is linked from the page as evidence, and served so that it cannot run
    links = [attrs["href"] for tag, attrs in parsed.elements if tag == "a" and "/evidence/items/" in str(attrs)]
    assert links, "the evidence items are linked"
    for link in links:
        served = client.get(urlsplit(str(link)).path)
        assert served.status_code == 200
        assert not served.headers["content-type"].startswith(("image/svg", "text/html", "application/xml"))
        assert served.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in served.headers["content-security-policy"]
        if served.content == SVG_WITH_SCRIPT:
            assert served.headers["content-type"].startswith("text/plain")
            assert served.headers["content-disposition"].startswith("attachment")


# --- links: only http(s) URLs get in ------------------------------------------------------------

SCRIPT_URLS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "javascript://example.org/%0aalert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    'https://example.org/"onmouseover="alert(1)',
    "https://example.org/<script>",
]


@pytest.mark.parametrize("url", SCRIPT_URLS)
def test_every_url_that_becomes_a_link_refuses_script_urls(api, client, url):
    issuer = api.create_issuer("Link Academy")
    achievement = api.create_achievement(issuer["id"])
    base = {"name": "A", "description": "B", "criteria": {"narrative": "C"}}
    attempts = {
        "issuer url": client.post("/v1/issuers", json={"name": "X", "url": url}, headers=api.admin),
        "issuer image": client.post(
            "/v1/issuers", json={"name": "X", "url": "https://x.example", "image": url}, headers=api.admin
        ),
        "issuer url (update)": client.patch(f"/v1/issuers/{issuer['id']}", json={"url": url}, headers=api.admin),
        "achievement image": client.post(
            f"/v1/issuers/{issuer['id']}/achievements", json={**base, "image": url}, headers=api.admin
        ),
        "criteria id": client.post(
            f"/v1/issuers/{issuer['id']}/achievements",
            json={**base, "criteria": {"id": url}},
            headers=api.admin,
        ),
        "alignment url": client.post(
            f"/v1/issuers/{issuer['id']}/achievements",
            json={**base, "alignments": [{"target_name": "S", "target_url": url}]},
            headers=api.admin,
        ),
        "evidence id": client.post(
            "/v1/credentials",
            json={
                "achievement_id": achievement["id"],
                "recipient": {"email": "someone@example.org"},
                "evidence": [{"id": url, "name": "E"}],
            },
            headers=api.admin,
        ),
    }
    for where, response in attempts.items():
        assert response.status_code == 422, f"{where}: {response.status_code} {response.text}"
        assert response.json()["error"] == "validation_error", where
