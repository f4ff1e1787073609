"""The public badge URL: ``GET /credentials/{id}`` for people and machines, and its badge images.

One URL, two audiences (content negotiation on ``Accept``):

- ``text/html`` (and ``*/*``, what browsers and plain ``curl`` send, or no ``Accept``): an HTML
  page showing the achievement, the issuer, the recipient (an email recipient only as "a hashed
  email address"), the dates, whether the issuer revoked or suspended it and when (never why),
  the result of verifying the stored credential right now (status lists included), and the
  endorsements the earner accepted (:mod:`service.endorsements.page`);
- ``application/vc+ld+json``, ``application/ld+json`` or ``application/json``: the stored,
  signed JSON-LD, byte for byte, with the Content-Type asked for.

Anything else gets 406. An unknown id is 404: an HTML page for HTML, the error shape otherwise.
The page needs no JavaScript and loads nothing from elsewhere (a Content-Security-Policy says so).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request, Response
from fastapi.responses import HTMLResponse

from service.api.auth import Public
from service.api.deps import SessionDep
from service.api.errors import error_responses
from service.core.errors import NotAcceptable, NotFound
from service.credentials import formats, service
from service.credentials.models import Credential
from service.endorsements.page import page_endorsements
from service.vc.skillcred import describe, read_assessment
from service.verification.service import verify_in_session
from service.web import render

public_router = APIRouter(tags=["public badge pages"])

CredentialId = Annotated[str, Path(min_length=1, max_length=36, description="The credential's id")]
HTML = "text/html"
JSON_TYPES = (formats.JSONLD_MEDIA_TYPE, "application/ld+json", "application/json")
OFFERS = (HTML, *JSON_TYPES)
PAGE_POLICY = (
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
IMAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'"


def negotiate(accept: str | None, offers: Sequence[str] = OFFERS) -> str | None:
    """The offer ``accept`` prefers (RFC 9110 12.5.1: q-values, the most specific range wins;
    ties go to the earlier offer), or None when it accepts none of them."""
    if not accept or not accept.strip():
        return offers[0]
    ranges: list[tuple[str, float]] = []
    for part in accept.split(",")[:50]:
        media, *params = (p.strip() for p in part.split(";"))
        if not media:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        ranges.append((media.lower(), q))
    best, best_q = None, 0.0
    for offer in offers:
        kind = offer.split("/")[0]
        quality, specificity = None, -1
        for media, q in ranges:
            rank = 2 if media == offer else 1 if media == f"{kind}/*" else 0 if media in ("*/*", "*") else -1
            if rank > specificity:
                quality, specificity = q, rank
        if quality is not None and quality > best_q:
            best, best_q = offer, quality
    return best


def _page_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Vary"] = "Accept"
    return response


@public_router.get(
    "/credentials/{credential_id}",
    dependencies=[Public],
    response_class=HTMLResponse,
    responses={
        200: {
            "description": "The badge page (HTML) or the signed credential (JSON-LD)",
            "content": {HTML: {}, **{t: {"schema": {"type": "object"}} for t in JSON_TYPES}},
        },
        **error_responses(404, 406),
    },
)
def badge_page(
    credential_id: CredentialId,
    request: Request,
    session: SessionDep,
    accept: Annotated[str | None, Header(max_length=2000)] = None,
) -> Response:
    """The public badge URL (the credential's ``id``): an HTML page for people, the signed
    credential for `Accept: application/vc+ld+json` (or `application/ld+json`, `application/json`),
    byte for byte as issued. The page verifies the credential live and shows every check."""
    chosen = negotiate(accept)
    if chosen is None:
        raise NotAcceptable(f"Offered: {', '.join(OFFERS)}")
    credential = session.get(Credential, credential_id)
    if credential is None:
        if chosen == HTML:
            return _page_headers(HTMLResponse(render("not_found.html"), status_code=404))
        raise NotFound(service.NO_SUCH_CREDENTIAL)
    if chosen != HTML:
        response = Response(credential.jsonld.encode("utf-8"), media_type=chosen)
        response.headers["Vary"] = "Accept"
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response
    settings = request.app.state.settings
    report = verify_in_session(session, settings, credential.jsonld, keystore=request.app.state.keystore)
    # relative to the page (/credentials/<id>), so they work behind any host name or path prefix
    page = render(
        "credential.html",
        **page_context(json.loads(credential.jsonld), credential),
        verified=report.verified,
        checks=[c.to_dict() for c in report.checks],
        badge_png_url=f"{credential.id}/badge.png",
        badge_svg_url=f"{credential.id}/badge.svg",
        credential_id=service.credential_url(settings, credential.id),
        endorsements=page_endorsements(session, credential, json.loads(credential.jsonld)),
    )
    return _page_headers(HTMLResponse(page))


@public_router.get(
    "/credentials/{credential_id}/badge.png",
    dependencies=[Public],
    response_class=Response,
    responses={200: {"content": {formats.PNG_MEDIA_TYPE: {}}}, **error_responses(404)},
)
def badge_png(credential_id: CredentialId, session: SessionDep) -> Response:
    """The badge as a PNG image with the signed credential baked in (OB 3.0 baking)."""
    credential = service.get_credential(session, credential_id)
    return _image(formats.baked_png(credential.jsonld), formats.PNG_MEDIA_TYPE, credential.id, "png")


@public_router.get(
    "/credentials/{credential_id}/badge.svg",
    dependencies=[Public],
    response_class=Response,
    responses={200: {"content": {formats.SVG_MEDIA_TYPE: {}}}, **error_responses(404)},
)
def badge_svg(credential_id: CredentialId, session: SessionDep) -> Response:
    """The badge as an SVG image showing the achievement, with the signed credential baked in."""
    credential = service.get_credential(session, credential_id)
    return _image(formats.baked_svg(credential.jsonld), formats.SVG_MEDIA_TYPE, credential.id, "svg")


def _image(content: bytes, media_type: str, credential_id: str, extension: str) -> Response:
    response = Response(content, media_type=media_type)
    response.headers["Content-Disposition"] = f'inline; filename="badge-{credential_id}.{extension}"'
    response.headers["Content-Security-Policy"] = IMAGE_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# --- what the page shows -----------------------------------------------------------------------


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _link(value: Any) -> str | None:
    """Only http(s) URLs become links (a ``javascript:`` evidence id stays text)."""
    return value if isinstance(value, str) and value.startswith(("https://", "http://")) else None


def _date(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).strftime("%d %B %Y, %H:%M UTC")
    except ValueError:
        return value


def page_context(document: dict[str, Any], credential: Credential) -> dict[str, Any]:
    """The page's view of a credential, read from the signed document itself (what was signed is
    what is shown). A hashed email recipient is shown as such, never as the address."""
    subject = document.get("credentialSubject")
    subject = subject if isinstance(subject, dict) else {}
    achievement = subject.get("achievement") if isinstance(subject.get("achievement"), dict) else {}
    criteria = achievement.get("criteria") if isinstance(achievement.get("criteria"), dict) else {}
    issuer = document.get("issuer")
    issuer = issuer if isinstance(issuer, dict) else {"id": _text(issuer)}
    recipients = []
    if isinstance(subject.get("id"), str):
        recipients.append({"label": "DID", "value": subject["id"]})
    identifiers = subject.get("identifier")
    for identity in identifiers if isinstance(identifiers, list) else []:
        if isinstance(identity, dict):
            kind = "email address" if identity.get("identityType") == "emailAddress" else "identifier"
            value = f"a hashed {kind}" if identity.get("hashed") is True else f"an {kind} (not shown)"
            recipients.append({"label": "Identified by", "value": value})
    descriptions = {d.get("id"): d for d in achievement.get("resultDescription", []) if isinstance(d, dict)}
    results = []
    for result in subject.get("result", []) if isinstance(subject.get("result"), list) else []:
        if isinstance(result, dict):
            described = descriptions.get(result.get("resultDescription"), {})
            results.append(
                {
                    "name": _text(described.get("name")) or "Result",
                    "value": _text(result.get("value"))
                    or _text(result.get("status"))
                    or _level_name(described, result.get("achievedLevel")),
                }
            )
    evidence = (
        [
            {
                "name": _text(e.get("name")) or "Evidence",
                "narrative": _text(e.get("narrative")) or _text(e.get("description")),
                "url": _link(e.get("id")),
            }
            for e in document.get("evidence", [])
            if isinstance(e, dict)
        ]
        if isinstance(document.get("evidence"), list)
        else []
    )
    return {
        "achievement": {
            "name": _text(achievement.get("name")) or _text(document.get("name")),
            "description": _text(achievement.get("description")),
            "criteria": _text(criteria.get("narrative")),
            "type": _text(achievement.get("achievementType")),
            "skills": _alignments(achievement),
        },
        "issuer": {"name": _text(issuer.get("name")), "id": _text(issuer.get("id")), "url": _link(issuer.get("url"))},
        "recipients": recipients or [{"label": "Recipient", "value": "not stated"}],
        "results": results,
        "evidence": evidence,
        "valid_from": _date(document.get("validFrom")),
        "valid_until": _date(document.get("validUntil")),
        "state": _state(credential),
        "assessment": _assessment(document),
    }


def _assessment(document: dict[str, Any]) -> str | None:
    """ "Assessed by <kind> (<version>) against rubric <name> v<version>; reviewed by a human:
    yes/no", when the credential states how its skill was judged."""
    statement = read_assessment(document)
    return None if statement is None else describe(statement)


def _state(credential: Credential) -> str:
    """ "active", or "revoked on <date>" / "suspended on <date>" (never the reason: that is for the
    issuer and the earner only)."""
    state = str(credential.state)
    if state == "active" or credential.status_changed_at is None:
        return state
    return f"{state} on {credential.status_changed_at.strftime('%d %B %Y, %H:%M UTC')}"


def _alignments(achievement: dict[str, Any]) -> list[dict[str, Any]]:
    """The skills and standards the achievement aligns to (an ESCO skill, say): name, framework,
    and a link when the target is an http(s) URL."""
    alignments = achievement.get("alignment")
    return [
        {
            "name": _text(a.get("targetName")) or _text(a.get("targetUrl")),
            "framework": _text(a.get("targetFramework")),
            "url": _link(a.get("targetUrl")),
        }
        for a in (alignments if isinstance(alignments, list) else [])
        if isinstance(a, dict)
    ]


def _level_name(description: dict[str, Any], level_id: Any) -> str:
    for level in description.get("rubricCriterionLevel", []) or []:
        if isinstance(level, dict) and level.get("id") == level_id:
            return _text(level.get("name"))
    return ""
