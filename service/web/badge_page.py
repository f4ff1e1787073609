"""What the public badge page shows, read from the signed credential itself (what was signed is
what is shown): the achievement, the issuer, the recipient (an email recipient only as "a hashed
email address"), results, evidence, the dates, whether the issuer revoked or suspended it and when
(never why), the result of verifying it now (status lists included) and its endorsements
(:mod:`service.web.badge_endorsements`). No FastAPI here.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlmodel import Session

from service.core.config import Settings
from service.core.keystore import Keystore
from service.core.templates import render
from service.credentials.models import Credential
from service.credentials.service import credential_url
from service.vc.report import VerificationReport
from service.vc.skillcred import describe, read_assessment
from service.verification.service import Verifier
from service.web.badge_endorsements import page_endorsements

DATE_FORMAT = "%d %B %Y, %H:%M UTC"


def render_not_found_page() -> str:
    """The HTML page for a credential id that does not exist."""
    return render("not_found.html")


def render_badge_page(
    session: Session,
    settings: Settings,
    keystore: Keystore,
    verifier: Verifier,
    credential: Credential,
    *,
    now: datetime,
) -> str:
    """The badge page of ``credential`` (HTML), verifying the stored credential as of ``now``."""
    report = verifier.verify(session, settings, credential.jsonld, keystore=keystore, now=now)
    return render_verified_page(session, settings, credential, report)


def render_verified_page(
    session: Session, settings: Settings, credential: Credential, report: VerificationReport
) -> str:
    """The badge page of ``credential`` showing ``report`` (the verification of its stored copy)."""
    document = json.loads(credential.jsonld)
    return render(
        "credential.html",
        **page_context(document, credential),
        verified=report.verified,
        checks=[c.to_dict() for c in report.checks],
        # relative to the page (/credentials/<id>), so they work behind any host name or path prefix
        badge_png_url=f"{credential.id}/badge.png",
        badge_svg_url=f"{credential.id}/badge.svg",
        credential_id=credential_url(settings, credential.id),
        endorsements=page_endorsements(session, credential, document),
    )


def page_context(document: dict[str, Any], credential: Credential) -> dict[str, Any]:
    """The page's view of a credential, read from the signed ``document``. A hashed email
    recipient is shown as such, never as the address."""
    subject = _object(document.get("credentialSubject"))
    achievement = _object(subject.get("achievement"))
    return {
        "achievement": _achievement_view(achievement, document),
        "issuer": _issuer_view(document.get("issuer")),
        "recipients": _recipients(subject) or [{"label": "Recipient", "value": "not stated"}],
        "results": _results(subject, achievement),
        "evidence": _evidence(document),
        "valid_from": _date(document.get("validFrom")),
        "valid_until": _date(document.get("validUntil")),
        "state": _state(credential),
        "assessment": _assessment(document),
    }


# --- reading untrusted JSON safely ----------------------------------------------------------------


def _object(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def _objects(value: Any) -> list[dict[str, Any]]:
    """The JSON objects in ``value`` when it is a list, else none."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _link(value: Any) -> str | None:
    """Only http(s) URLs become links (a ``javascript:`` evidence id stays text)."""
    return value if isinstance(value, str) and value.startswith(("https://", "http://")) else None


def _date(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).strftime(DATE_FORMAT)
    except ValueError:
        return value


# --- the parts of the page ------------------------------------------------------------------------


def _achievement_view(achievement: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """Name (the credential's own name when the achievement has none), description, criteria,
    type and aligned skills."""
    return {
        "name": _text(achievement.get("name")) or _text(document.get("name")),
        "description": _text(achievement.get("description")),
        "criteria": _text(_object(achievement.get("criteria")).get("narrative")),
        "type": _text(achievement.get("achievementType")),
        "skills": _alignments(achievement),
    }


def _issuer_view(issuer: Any) -> dict[str, Any]:
    """The issuer's name, id and http(s) URL; an issuer given as a bare id has only the id."""
    profile = issuer if isinstance(issuer, dict) else {"id": _text(issuer)}
    return {"name": _text(profile.get("name")), "id": _text(profile.get("id")), "url": _link(profile.get("url"))}


def _recipients(subject: dict[str, Any]) -> list[dict[str, str]]:
    """How the recipient is identified: a DID in full; identifiers only by kind (hashed or not)."""
    recipients = []
    if isinstance(subject.get("id"), str):
        recipients.append({"label": "DID", "value": subject["id"]})
    identifiers = subject.get("identifier")
    for identity in identifiers if isinstance(identifiers, list) else []:
        if isinstance(identity, dict):
            recipients.append({"label": "Identified by", "value": _identifier_label(identity)})
    return recipients


def _identifier_label(identity: dict[str, Any]) -> str:
    """ "a hashed email address", "an identifier (not shown)"...: never the value itself."""
    kind = "email address" if identity.get("identityType") == "emailAddress" else "identifier"
    return f"a hashed {kind}" if identity.get("hashed") is True else f"an {kind} (not shown)"


def _results(subject: dict[str, Any], achievement: dict[str, Any]) -> list[dict[str, str]]:
    """Each result with the name of its result description and its value, status or level."""
    descriptions = {d.get("id"): d for d in achievement.get("resultDescription", []) if isinstance(d, dict)}
    results = []
    for result in _objects(subject.get("result")):
        described = descriptions.get(result.get("resultDescription"), {})
        results.append(
            {
                "name": _text(described.get("name")) or "Result",
                "value": _text(result.get("value"))
                or _text(result.get("status"))
                or _level_name(described, result.get("achievedLevel")),
            }
        )
    return results


def _level_name(description: dict[str, Any], level_id: Any) -> str:
    for level in description.get("rubricCriterionLevel", []) or []:
        if isinstance(level, dict) and level.get("id") == level_id:
            return _text(level.get("name"))
    return ""


def _evidence(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Each piece of evidence: name, narrative (or description) and a link when its id is http(s)."""
    return [
        {
            "name": _text(e.get("name")) or "Evidence",
            "narrative": _text(e.get("narrative")) or _text(e.get("description")),
            "url": _link(e.get("id")),
        }
        for e in _objects(document.get("evidence"))
    ]


def _alignments(achievement: dict[str, Any]) -> list[dict[str, Any]]:
    """The skills and standards the achievement aligns to (an ESCO skill, say): name, framework,
    and a link when the target is an http(s) URL."""
    return [
        {
            "name": _text(a.get("targetName")) or _text(a.get("targetUrl")),
            "framework": _text(a.get("targetFramework")),
            "url": _link(a.get("targetUrl")),
        }
        for a in _objects(achievement.get("alignment"))
    ]


def _state(credential: Credential) -> str:
    """ "active", or "revoked on <date>" / "suspended on <date>" (never the reason: that is for the
    issuer and the earner only)."""
    state = str(credential.state)
    if state == "active" or credential.status_changed_at is None:
        return state
    return f"{state} on {credential.status_changed_at.strftime(DATE_FORMAT)}"


def _assessment(document: dict[str, Any]) -> str | None:
    """ "Assessed by <kind> (<version>) against rubric <name> v<version>; reviewed by a human:
    yes/no", when the credential states how its skill was judged."""
    statement = read_assessment(document)
    return None if statement is None else describe(statement)
