"""What the public badge page shows, read from the signed credential itself (what was signed is
what is shown), with the result of verifying it now in plain words (:mod:`service.web.report_view`).

Above the fold: the badge image (greyed and marked when the credential is revoked, suspended or
expired), the achievement, the earner's display name when the earner chose to show it
(:mod:`service.web.recipient`), the issuer and the web domain that publishes its key, the issue
date and the one banner. Then how it was checked, the skill (:mod:`service.web.badge_skill`), the
evidence (:mod:`service.web.badge_evidence`), endorsements (:mod:`service.web.badge_endorsements`),
"Is this you?", sharing (:mod:`service.web.badge_share`) and downloads. Never the reason for a
revocation (that is for the issuer and the earner only). No FastAPI here.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlmodel import Session

from service.core.config import Settings
from service.core.templates import render
from service.credentials.models import Credential
from service.credentials.service import credential_url
from service.vc.report import VerificationReport
from service.web.badge_endorsements import page_endorsements
from service.web.badge_evidence import evidence_views
from service.web.badge_share import embed_snippet, linkedin_url, preview_tags
from service.web.badge_skill import (
    achievement_of,
    assessment_text,
    criteria_html,
    link,
    result_views,
    skill_views,
)
from service.web.recipient import display_name, email_identities, has_email_identity, recipient_labels
from service.web.report_view import ReportView, human_date, report_view, verified_domain

NO_LONGER_VALID = ("Revoked", "Suspended", "Expired")


def render_not_found_page() -> str:
    """The HTML page for a credential id that does not exist (or that its earner keeps private)."""
    return render("not_found.html")


def render_verified_page(
    session: Session, settings: Settings, credential: Credential, report: VerificationReport
) -> str:
    """The badge page of ``credential`` showing ``report`` (the verification of its stored copy)."""
    document = json.loads(credential.jsonld)
    return render("credential.html", **page_context(session, settings, credential, document, report))


def _issuer(document: dict[str, Any]) -> dict[str, Any]:
    issuer = document.get("issuer")
    profile = issuer if isinstance(issuer, dict) else {"id": issuer if isinstance(issuer, str) else ""}
    name = profile.get("name") if isinstance(profile.get("name"), str) else ""
    return {
        "name": name or profile.get("id") or "Unknown issuer",
        "id": profile.get("id"),
        "url": link(profile.get("url")),
    }


def _parse(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None
    except ValueError:
        return None


def state_word(view: ReportView, credential: Credential) -> str | None:
    """ "Revoked", "Suspended" or "Expired" when the badge is no longer valid for one of those
    reasons (the live verification's headline, or the issuer's own record), else None."""
    if view.headline in NO_LONGER_VALID:
        return view.headline
    state = str(credential.state)
    return state.capitalize() if state in ("revoked", "suspended") else None


def page_context(
    session: Session, settings: Settings, credential: Credential, document: dict[str, Any], report: VerificationReport
) -> dict[str, Any]:
    """Everything the template ``credential.html`` shows."""
    achievement = achievement_of(document)
    name = achievement.get("name") if isinstance(achievement.get("name"), str) else None
    name = name or (document.get("name") if isinstance(document.get("name"), str) else None) or "Open Badge"
    issuer = _issuer(document)
    view = report_view(report, document)
    earner = display_name(session, credential)
    issued_at = _parse(document.get("validFrom") or document.get("issuanceDate"))
    page_url = credential_url(settings, credential.id)
    no_longer = state_word(view, credential)
    who = f"{earner} earned" if earner else "Earned:"
    description = f"{who} {name}, issued by {issuer['name']}." + (f" {no_longer}." if no_longer else " Verify it here.")
    return {
        "achievement_name": name,
        "description": achievement.get("description") if isinstance(achievement.get("description"), str) else "",
        "achievement_type": achievement.get("achievementType")
        if isinstance(achievement.get("achievementType"), str)
        else "",
        "issuer": issuer,
        "domain": verified_domain(report),
        "earner": earner,
        "recipients": recipient_labels(document) or ["not stated"],
        "issued": human_date(issued_at),
        "valid_until": human_date(document.get("validUntil") or document.get("expirationDate")),
        "report_view": view,
        "no_longer_valid": no_longer,
        "criteria": criteria_html(document),
        "results": result_views(document),
        "skills": skill_views(document),
        "assessment": assessment_text(document),
        "evidence": evidence_views(session, settings, document),
        "endorsements": page_endorsements(session, credential, document),
        "identities": [{"hash": i.hash, "salt": i.salt} for i in email_identities(document)],
        "email_identified": has_email_identity(document),
        "summary": description,
        "page_url": page_url,
        "credential_id": credential.id,
        # relative to the page (/credentials/<id>), so they work behind any host name or path prefix
        "files": {
            "png": f"{credential.id}/badge.png",
            "svg": f"{credential.id}/badge.svg",
            "jsonld": f"{credential.id}/credential.jsonld",
            "jwt": f"{credential.id}/credential.jwt",
            "qr": f"{credential.id}/qr.svg",
            "identity": f"{credential.id}/identity",
            "evidence": f"{credential.id}/evidence",
        },
        "linkedin": linkedin_url(
            name=name,
            organisation=str(issuer["name"]),
            issued=issued_at,
            expires=_parse(document.get("validUntil")),
            url=page_url,
            credential_id=credential.id,
        ),
        "embed": embed_snippet(url=page_url, image_url=f"{page_url}/badge.png", name=name, issuer=str(issuer["name"])),
        "meta": preview_tags(
            title=f"{name} ({no_longer})" if no_longer else name,
            description=description,
            url=page_url,
            image_url=f"{page_url}/preview.png",
            image_alt=f"{name}, issued by {issuer['name']}" + (f": {no_longer}" if no_longer else ""),
        ),
    }
