"""The evidence an assessor reads: a bundle of items, already fetched, stored and digested.

The evidence domain (:mod:`service.evidence`) builds an :class:`EvidenceBundle` from stored items
(repositories checked out into a temporary folder at their pinned commit); ``skillcred assess``
builds one from local files. Assessors only read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from service.assessment.engine.embedded import EmbeddedContent

EvidenceKind = Literal["url", "repository", "file", "text", "testimonial"]
EVIDENCE_KINDS: tuple[EvidenceKind, ...] = ("url", "repository", "file", "text", "testimonial")


@dataclass(frozen=True)
class EvidenceItem:
    """One piece of evidence.

    ``id``: stable within the bundle (the stored item's id, or the local path for the CLI).
    ``sha256``/``size``/``media_type``: of the stored bytes (media type sniffed, not trusted).
    ``text``: the content decoded as text *exactly as stored* (HTML and Markdown unrendered,
    zero-width characters kept) when it is textual, else None: assessors do their own
    normalisation and injection checks on it. For a ``testimonial`` it is the client's statement.
    ``repository``: for a ``repository`` item, a local checkout at ``commit`` (history included).
    ``attributes``: kind-specific extras, e.g. ``author_name`` for a testimonial, ``file_name``.
    ``embedded``: for a binary file, the text it carries (a PDF's pages, document information,
    EXIF...; :func:`.embedded.read_embedded`), read by whoever builds the bundle.
    """

    id: str
    kind: EvidenceKind
    sha256: str
    size: int
    media_type: str
    name: str | None = None
    text: str | None = None
    url: str | None = None
    repository: Path | None = None
    commit: str | None = None
    attributes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    embedded: EmbeddedContent = field(default_factory=EmbeddedContent)


@dataclass(frozen=True)
class EvidenceBundle:
    """The items submitted together for one achievement."""

    items: tuple[EvidenceItem, ...]

    @property
    def digests(self) -> dict[str, str]:
        """``{item id: sha256 hex}``: what an assessment records about its input."""
        return {item.id: item.sha256 for item in self.items}
