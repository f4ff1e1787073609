"""The evidence section of the badge page: each ``evidence`` entry of the signed credential, shown
safely. What the credential says is what is shown: the name, its kind, its description, its
narrative (Markdown rendered to sanitised HTML, :mod:`service.web.markdown`), the digest it carries,
a link to a web item and, for the items this service stores (``/evidence/items/<id>``), the image
itself or a download with a real file name. A web page item with a digest can be checked again
(:mod:`service.web.evidence_check`). No FastAPI here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup
from sqlmodel import Session, col, select

from service.core.config import Settings
from service.evidence.models import EvidenceItemRecord
from service.evidence.views import INLINE_IMAGES, download_name
from service.web.markdown import render_markdown

ITEMS_PATH = "/evidence/items/"


@dataclass(frozen=True)
class EvidenceView:
    """One evidence entry as the page shows it."""

    index: int
    name: str
    genre: str
    description: str
    narrative: Markup | None
    url: str | None
    """An outside http(s) address the entry names (a web page, a repository)."""
    digest_sri: str
    digest_multibase: str
    image_url: str | None
    """A stored image of this service, shown on the page."""
    download_url: str | None
    download_name: str | None
    download_note: str
    """What the download is ("PDF, 120 KB")."""
    checkable: bool
    """Whether "check this evidence again" is offered (an outside web page with a digest)."""


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _entries(document: dict[str, Any]) -> list[dict[str, Any]]:
    evidence = document.get("evidence")
    return [e for e in evidence if isinstance(e, dict)] if isinstance(evidence, list) else []


def stored_item_id(settings: Settings, entry_id: str) -> str | None:
    """The id of the stored item an entry names (``{public_url}/evidence/items/<id>``), or None."""
    prefix = settings.public_url + ITEMS_PATH
    if entry_id.startswith(prefix):
        item_id = entry_id.removeprefix(prefix)
        return item_id if item_id and "/" not in item_id and len(item_id) <= 36 else None
    return None


def recheckable(entry: dict[str, Any], settings: Settings) -> bool:
    """Whether the server may fetch the entry again to compare its digest: an outside https (or
    http) page with a digest, not a repository (its digest is of a stored git bundle, not of
    anything its URL serves) and not one of this service's own stored items."""
    entry_id = _text(entry.get("id"))
    has_digest = bool(_text(entry.get("digestSRI")) or _text(entry.get("digestMultibase")))
    return (
        entry_id.startswith(("https://", "http://"))
        and has_digest
        and _text(entry.get("genre")) != "Repository"
        and stored_item_id(settings, entry_id) is None
    )


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def evidence_views(session: Session, settings: Settings, document: dict[str, Any]) -> list[EvidenceView]:
    """The credential's evidence, in its order, as the page shows it (one query for the stored items)."""
    entries = _entries(document)
    ids = {i: stored_item_id(settings, _text(e.get("id"))) for i, e in enumerate(entries)}
    wanted = [item_id for item_id in ids.values() if item_id]
    items: dict[str, EvidenceItemRecord] = {}
    if wanted:
        rows = session.exec(select(EvidenceItemRecord).where(col(EvidenceItemRecord.id).in_(wanted)))
        items = {row.id: row for row in rows}
    views = []
    for index, entry in enumerate(entries):
        item = items.get(ids[index] or "")
        entry_id = _text(entry.get("id"))
        outside = entry_id if entry_id.startswith(("https://", "http://")) and item is None else None
        narrative = _text(entry.get("narrative"))
        views.append(
            EvidenceView(
                index=index,
                name=_text(entry.get("name")) or "Evidence",
                genre=_text(entry.get("genre")),
                description=_text(entry.get("description")),
                narrative=render_markdown(narrative) if narrative else None,
                url=outside if ids[index] is None else None,
                digest_sri=_text(entry.get("digestSRI")),
                digest_multibase=_text(entry.get("digestMultibase")),
                image_url=f"{ITEMS_PATH}{item.id}" if item and item.media_type in INLINE_IMAGES else None,
                download_url=f"{ITEMS_PATH}{item.id}" if item else None,
                download_name=download_name(item) if item else None,
                download_note=f"{item.media_type}, {_size(item.size)}" if item else "",
                checkable=recheckable(entry, settings),
            )
        )
    return views
