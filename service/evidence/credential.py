"""Evidence as an Open Badges 3.0 credential carries it: one ``Evidence`` entry per item, each with
the digest of the stored bytes, so a verifier can later check the evidence has not changed.

The digest is given twice, in the two forms VCDM 2.0 defines in its own context
(``https://www.w3.org/ns/credentials/v2``, which every credential of this service uses first):
``digestMultibase`` -- multibase base58btc (``z``) of the multihash ``0x12 0x20 || sha256`` -- and
``digestSRI`` -- ``sha256-`` + base64 of the digest, as HTML subresource integrity writes it.
The digest is over the exact bytes the entry's ``id`` serves: a URL item's body as fetched, a
repository's stored ``git bundle``, an upload, a text's or a testimonial's UTF-8 statement (the
service URL ``{public_url}/evidence/items/{item_id}`` serves them once the credential is issued).
A testimonial's contact never appears.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from typing import Any

from service.core.config import Settings
from service.evidence.models import EvidenceItemRecord
from service.vc.multikey import multibase_encode

SHA2_256_MULTIHASH_PREFIX = b"\x12\x20"
NARRATIVE_MAX_CHARS = 10_000
GENRES = {
    "url": "Web page",
    "repository": "Repository",
    "file": "File",
    "text": "Narrative",
    "testimonial": "Testimonial",
}


def digest_multibase(sha256_hex: str) -> str:
    """``z`` + base58btc(multihash sha2-256): the VCDM 2.0 ``digestMultibase`` of the bytes."""
    return multibase_encode(SHA2_256_MULTIHASH_PREFIX + bytes.fromhex(sha256_hex))


def digest_sri(sha256_hex: str) -> str:
    """``sha256-<base64>``: the VCDM 2.0 ``digestSRI`` of the bytes."""
    return "sha256-" + base64.b64encode(bytes.fromhex(sha256_hex)).decode("ascii")


def item_url(settings: Settings, item_id: str) -> str:
    """Where the public (once issued) copy of an item's stored bytes lives."""
    return f"{settings.public_url}/evidence/items/{item_id}"


def _clip(text: str) -> str:
    return text if len(text) <= NARRATIVE_MAX_CHARS else text[: NARRATIVE_MAX_CHARS - 1] + "…"


def _entry(settings: Settings, item: EvidenceItemRecord, text: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": ["Evidence"], "genre": GENRES.get(item.kind, "Evidence")}
    if item.kind == "url":
        entry["id"] = item.url
        entry["name"] = item.name or item.url
        fetched = item.fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ") if item.fetched_at else "unknown"
        moved = f" (redirected to {item.final_url})" if item.final_url and item.final_url != item.url else ""
        entry["description"] = f"Web resource fetched {fetched}{moved}; the digest is of the body received."
    elif item.kind == "repository":
        entry["id"] = item.url
        entry["name"] = f"{item.name or item.url} at commit {item.commit}"
        entry["description"] = (
            f"Git repository {item.url} at commit {item.commit}; the digest is of "
            "SkillCred's stored git bundle of its history up to that commit."
        )
    else:
        entry["id"] = item_url(settings, item.id)
        if item.kind == "file":
            entry["name"] = item.name or item.file_name or "Uploaded file"
            entry["description"] = f"Uploaded file ({item.media_type}, {item.size} bytes)."
        elif item.kind == "testimonial":
            entry["name"] = item.name or f"Testimonial from {item.author_name}"
            if text is not None:
                entry["narrative"] = _clip(f"{text}\n\n— {item.author_name}")
        else:
            entry["name"] = item.name or "Narrative"
            if text is not None:
                entry["narrative"] = _clip(text)
    entry["digestMultibase"] = digest_multibase(item.sha256)
    entry["digestSRI"] = digest_sri(item.sha256)
    return entry


def credential_evidence_entries(
    settings: Settings, items: Iterable[EvidenceItemRecord], texts: Sequence[str | None] | None = None
) -> list[dict[str, Any]]:
    """The ``evidence`` entries for ``items`` (``texts``: each item's stored text, for the
    narratives of text and testimonial items; None where it is not text)."""
    items = list(items)
    texts = list(texts) if texts is not None else [None] * len(items)
    return [_entry(settings, item, text) for item, text in zip(items, texts, strict=True)]
