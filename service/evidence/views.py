"""Evidence rows as API responses: the one place a bundle or an item becomes an API shape, and
where stored bytes get the type and headers they are served with.

Stored bytes are served with a type that cannot run in a browser: images inline as themselves,
everything else as a download, HTML and SVG as ``text/plain``, always with ``nosniff`` and a
sandboxing Content-Security-Policy.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from service.evidence.credential import digest_multibase
from service.evidence.models import EvidenceBundleRecord, EvidenceItemRecord, ItemState
from service.evidence.schemas import BundleSummary, BundleView, ContactView, ItemView

INLINE_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
AS_PLAIN_TEXT = frozenset({"text/html", "image/svg+xml", "application/xml", "text/markdown", "text/csv", "text/plain"})


EXTENSIONS = {
    "text/plain": ".txt",
    "text/markdown": ".md",
    "text/csv": ".csv",
    "text/html": ".html",
    "application/json": ".json",
    "application/xml": ".xml",
    "image/svg+xml": ".svg",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
    "application/zip": ".zip",
    "application/gzip": ".gz",
    "application/x-tar": ".tar",
    "application/x-git-bundle": ".bundle",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
}
"""The file name extension of each stored media type (the sniffed type, never the declared one)."""
_SAFE_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,10}")
ALSO_ACCEPTED = {
    "image/jpeg": frozenset({".jpeg"}),
    "text/markdown": frozenset({".markdown"}),
    "text/plain": frozenset({".text", ".log"}),
    "application/gzip": frozenset({".tgz"}),
}
"""Other extensions an uploaded file of each type may keep (besides :data:`EXTENSIONS`' own)."""
SERVED_AS_TEXT = frozenset({"text/html", "image/svg+xml", "application/xml"})
"""Types served as ``text/plain``: their downloads are named ``.txt`` too, so a saved copy does not
open as a page or an image either."""
_FORMAT_CHARACTERS = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]")


def _own_extension(file_name: str | None) -> str | None:
    if file_name:
        dot = file_name.rfind(".")
        if dot > 0 and _SAFE_EXTENSION.fullmatch(file_name[dot:]):
            return file_name[dot:].lower()
    return None


def extension_of_item(item: EvidenceItemRecord) -> str:
    """The extension a download of the item is named with: the uploaded file's own when it names
    the sniffed type (``.jpeg`` for a JPEG, never ``.hta`` for text), else the type's (``.bin``
    for an unknown type); ``.txt`` after it for types served as plain text."""
    own = _own_extension(item.file_name)
    typed = EXTENSIONS.get(item.media_type, ".bin")
    chosen = own if own is not None and (own == typed or own in ALSO_ACCEPTED.get(item.media_type, ())) else typed
    return chosen + ".txt" if item.media_type in SERVED_AS_TEXT else chosen


def download_name(item: EvidenceItemRecord) -> str:
    """The file name a download of the item gets: the uploaded file's name (without bidi and other
    invisible format characters) with the extension of :func:`extension_of_item`, else
    ``evidence-<id>`` with it."""
    name = _FORMAT_CHARACTERS.sub("", item.file_name or "").strip()
    if not name:
        return f"evidence-{item.id}{extension_of_item(item)}"
    own = _own_extension(name)
    stem = name[: -len(own)] if own else name
    return (stem or "evidence") + extension_of_item(item)


def content_url(item: EvidenceItemRecord) -> str:
    """Where the item's stored bytes are served to those who may see its bundle."""
    return f"/v1/evidence/bundles/{item.bundle_id}/items/{item.id}/content"


def item_view(item: EvidenceItemRecord, *, show_contact: bool) -> ItemView:
    """One stored item; a testimonial's contact only when ``show_contact`` (personal data)."""
    contact = None
    if item.kind == "testimonial" and show_contact:
        contact = ContactView(email=item.contact_email, phone=item.contact_phone)
    ready = item.state == ItemState.ready
    return ItemView(
        id=item.id,
        kind=item.kind,
        state=item.state,
        error=item.error,
        name=item.name,
        sha256=item.sha256 if ready else None,
        digest_multibase=digest_multibase(item.sha256) if ready else None,
        size=item.size,
        media_type=item.media_type if ready else None,
        declared_media_type=item.declared_media_type,
        file_name=item.file_name,
        url=item.url,
        final_url=item.final_url,
        http_status=item.http_status,
        fetched_at=item.fetched_at,
        commit=item.commit,
        author_name=item.author_name,
        contact=contact,
        created_at=item.created_at,
        content_url=content_url(item) if ready else None,
    )


def _summary_fields(bundle: EvidenceBundleRecord, item_count: int, total_bytes: int) -> dict[str, Any]:
    return dict(
        id=bundle.id,
        achievement_id=bundle.achievement_id,
        issuer_id=bundle.issuer_id,
        owner_id=bundle.owner_id,
        title=bundle.title,
        state=bundle.state,
        item_count=item_count,
        total_bytes=total_bytes,
        created_at=bundle.created_at,
        updated_at=bundle.updated_at,
        locked_at=bundle.locked_at,
        credential_id=bundle.credential_id,
    )


def bundle_summary(bundle: EvidenceBundleRecord, item_count: int, total_bytes: int) -> BundleSummary:
    """A bundle without its items: how many it holds and how many bytes they store."""
    return BundleSummary(**_summary_fields(bundle, item_count, total_bytes))


def bundle_view(bundle: EvidenceBundleRecord, items: Sequence[EvidenceItemRecord], *, show_contact: bool) -> BundleView:
    """A bundle with its items in the order given (the order they were added)."""
    return BundleView(
        **_summary_fields(bundle, len(items), sum(item.size for item in items)),
        items=[item_view(item, show_contact=show_contact) for item in items],
    )


def content_headers(item: EvidenceItemRecord, *, public: bool) -> tuple[str, dict[str, str]]:
    """The media type and headers stored bytes are served with, chosen so a browser never runs
    them: images inline, everything else as a download, markup as ``text/plain``."""
    if item.media_type in INLINE_IMAGES:
        media_type, disposition = item.media_type, "inline"
    elif item.media_type in AS_PLAIN_TEXT:
        media_type, disposition = "text/plain; charset=utf-8", "attachment"
    else:
        media_type, disposition = item.media_type, "attachment"
    fallback = f"evidence-{item.id}{extension_of_item(item)}"
    name = download_name(item)
    headers = {
        # RFC 6266 section 4.3: a plain fallback filename, then the UTF-8 one (RFC 8187 encoding)
        "Content-Disposition": f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "ETag": f'"sha256-{item.sha256}"',
        # revalidated each time: an earner who makes the credential private takes it back at once
        "Cache-Control": "public, no-cache" if public else "private, no-store",
    }
    return media_type, headers
