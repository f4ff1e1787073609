"""The achievement page (``GET /achievements/{id}`` for browsers): what it takes, the rubric
(criteria, weights and levels, never the assessor's hints), how applications are assessed, the
aligned skills and where to apply. The same public facts as ``/v1/catalogue``, from the same
views. No FastAPI here."""

from __future__ import annotations

from sqlmodel import Session

from service.achievements.catalogue.service import CatalogueEntry, get_entry
from service.achievements.catalogue.views import apply_path, assessment_out, rubric_out, skills_of
from service.core.config import Settings
from service.core.errors import NotFound
from service.core.templates import render
from service.web.claims_view import Link
from service.web.links import safe_href
from service.web.negotiation import negotiate


def render_achievement_page(settings: Settings, entry: CatalogueEntry) -> str:
    """The page of ``entry`` (any version; only an open current version offers to apply)."""
    content, rubric = entry.content, entry.rubric
    skills = [
        Link(f"{s.name}" + (f" ({s.framework})" if s.framework else ""), safe_href(s.url))
        for s in skills_of(content.alignments)
    ]
    return render(
        "achievement.html",
        achievement_id=entry.achievement.id,
        achievement_name=content.name,
        description=content.description,
        criteria=content.criteria_narrative,
        issuer=entry.issuer.name,
        issuer_link=Link(entry.issuer.url, safe_href(entry.issuer.url)),
        version=content.version,
        current=entry.is_current,
        current_version=entry.achievement.current_version,
        validity_days=content.validity_days,
        tags=[tag for tag in content.tags or () if isinstance(tag, str)],
        skills=skills,
        rubric=rubric_out(rubric) if rubric is not None else None,
        assessment=assessment_out(settings, rubric) if rubric is not None else None,
        is_open=entry.is_open,
        apply_url=apply_path(entry.achievement.id),
    )


def render_achievement_not_found() -> str:
    """The page for an achievement (or version) that does not exist."""
    return render("achievement_not_found.html")


ACHIEVEMENT_OFFERS = ("application/json", "text/html")
"""What ``/achievements/{id}`` offers, JSON first: a client that asks for nothing in particular
(no ``Accept``, ``*/*``) gets the Open Badges 3.0 Achievement as before; a browser, which prefers
``text/html``, gets the page."""


def wants_page(accept: str | None) -> bool:
    """Whether an ``Accept`` header prefers the HTML page to the JSON document."""
    return negotiate(accept, ACHIEVEMENT_OFFERS) == "text/html"


def achievement_page(session: Session, settings: Settings, achievement_id: str, version: int | None) -> tuple[str, int]:
    """(HTML, status) of the page of ``achievement_id`` at ``version``: 404 with a page saying so
    for an unknown achievement or version."""
    try:
        entry = get_entry(session, achievement_id, version)
    except NotFound:
        return render_achievement_not_found(), 404
    return render_achievement_page(settings, entry), 200
