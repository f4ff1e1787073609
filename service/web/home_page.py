"""The home page (``/``): what SkillCred is, for whom, the issuers and their achievements open for
applications (searchable by name, no JavaScript), and the links developers need. No FastAPI
here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session

from service.achievements.catalogue.service import CatalogueEntry, list_open
from service.core.paging import PageParams
from service.core.templates import render
from service.web.claims_view import Link
from service.web.links import safe_href

HOME_LIMIT = 100
"""Open achievements listed at most; beyond that the page says how many there are in all and
offers the search (and the catalogue API pages through them all)."""
MAX_QUERY = 200
SUMMARY_LENGTH = 240


@dataclass(frozen=True)
class DeveloperLinks:
    """Where the API's documents are (``docs``, ``redoc`` and ``verify_operation`` None when the
    interactive docs are switched off)."""

    docs: str | None
    redoc: str | None
    verify_operation: str | None


@dataclass(frozen=True)
class AchievementItem:
    """One achievement in the list."""

    id: str
    name: str
    summary: str


@dataclass(frozen=True)
class IssuerGroup:
    """An issuer and its open achievements."""

    name: str
    link: Link | None
    achievements: tuple[AchievementItem, ...]


def summary(text: str, limit: int = SUMMARY_LENGTH) -> str:
    """``text`` on one line, cut at a word to at most ``limit`` characters."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return flat[: limit - 1].rsplit(" ", 1)[0] + "\u2026"


def group_by_issuer(entries: Sequence[CatalogueEntry]) -> list[IssuerGroup]:
    """Entries grouped by issuer: issuers and achievements by name (case ignored)."""
    groups: dict[str, list[CatalogueEntry]] = {}
    for entry in entries:
        groups.setdefault(entry.issuer.id, []).append(entry)
    found = []
    for members in groups.values():
        issuer = members[0].issuer
        items = sorted(members, key=lambda e: (e.content.name.casefold(), e.achievement.id))
        found.append(
            IssuerGroup(
                name=issuer.name,
                link=Link(issuer.url, safe_href(issuer.url)) if issuer.url else None,
                achievements=tuple(
                    AchievementItem(e.achievement.id, e.content.name, summary(e.content.description)) for e in items
                ),
            )
        )
    return sorted(found, key=lambda group: group.name.casefold())


def render_home_page(session: Session, *, query: str, links: DeveloperLinks) -> str:
    """The page, listing the open achievements whose name contains ``query`` (all when empty)."""
    query = query.strip()[:MAX_QUERY]
    entries, total = list_open(session, PageParams(limit=HOME_LIMIT, offset=0), search=query or None)
    return render(
        "home.html",
        query=query,
        issuers=group_by_issuer(entries),
        shown=len(entries),
        total=total,
        links=links,
    )
