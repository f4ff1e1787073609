"""Read a bundle once for any assessor: screened texts, repository signals, findings, passages.

Every text source goes through :func:`service.assessment.engine.injection.screen_text` (item texts,
testimonials, fetched pages, files with text, and each repository's README), then through
:func:`service.assessment.engine.gaming.screen_gaming`; a repository's facts
(:class:`.repository.RepositorySignals`) become one more plain-English passage. Commit messages
(subjects and bodies) and every item's name and attributes (file name, author) are scanned for
instructions but never scored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from service.assessment.engine.bundle import EvidenceBundle, EvidenceItem
from service.assessment.engine.gaming import screen_gaming
from service.assessment.engine.injection import (
    RubricCopyDetector,
    ScreenedText,
    instruction_matches,
    rubric_screening,
    screen_text,
)
from service.assessment.engine.repository import RepositoryError, RepositorySignals, read_repository
from service.assessment.engine.result import ARTEFACT_KINDS, FLAG_PROMPT_INJECTION, Finding
from service.assessment.engine.rubric import Rubric
from service.assessment.engine.text import Passage, passages, shorten

MAX_TEXT_CHARS = 100_000
REPOSITORY_FACTS = "repository facts"
NARRATIVE_KINDS = ("text", "testimonial")
"""Kinds whose text is an account of the work (checked for topic), not the work itself."""


@dataclass
class RepositoryReading:
    """One repository item: its signals, or why they could not be read."""

    item_id: str
    signals: RepositorySignals | None
    error: str | None = None


@dataclass
class Reading:
    """Everything the assessors need from a bundle, computed once."""

    texts: list[ScreenedText] = field(default_factory=list)
    repositories: list[RepositoryReading] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unreadable: int = 0
    """Items that could not be read at all (binary files, unreadable repositories)."""
    vocabulary: frozenset[str] = frozenset()
    """Content stems of everything the rubric says (what evidence must go beyond to show depth)."""
    kinds: dict[str, str] = field(default_factory=dict)
    """``{item id: kind}`` of every item in the bundle."""
    metadata: list[tuple[str, str, str]] = field(default_factory=list)
    """``(item id, where, value)`` of the metadata inside the items' files: screened, not evidence."""

    @property
    def flags(self) -> list[str]:
        """The distinct flags raised, sorted."""
        return sorted({finding.flag for finding in self.findings})

    def passages(self) -> list[Passage]:
        """Scorable passages in bundle order: each clean text, then each repository's facts."""
        result: list[Passage] = []
        for screened in self.texts:
            result += passages(screened.item_id, screened.clean, locator=screened.locator)
        for repo in self.repositories:
            if repo.signals is not None:
                result.append(Passage(repo.item_id, 0, repo.signals.summary(), REPOSITORY_FACTS))
        return result

    def artefacts(self) -> tuple[str, ...]:
        """Ids of the items read that are artefacts (:data:`ARTEFACT_KINDS`), in bundle order."""
        read = {t.item_id for t in self.texts} | {r.item_id for r in self.repositories if r.signals is not None}
        return tuple(item_id for item_id, kind in self.kinds.items() if kind in ARTEFACT_KINDS and item_id in read)

    def text_words(self) -> int:
        return sum(len(t.clean.split()) for t in self.texts)


def _item_text(item: EvidenceItem, reading: Reading) -> str | None:
    """The item's text: as stored when textual, else what its file carries (a PDF's pages)."""
    text = item.text if item.text is not None else item.embedded.text
    if text is None:
        return None
    if len(text) > MAX_TEXT_CHARS:
        reading.notes.append(f"{item.id}: only the first {MAX_TEXT_CHARS} characters were read")
        text = text[:MAX_TEXT_CHARS]
    return text


def read_bundle(bundle: EvidenceBundle, rubric: Rubric) -> Reading:
    """Screen and read every item of ``bundle`` against ``rubric`` (deterministic, in item order)."""
    reading = Reading()
    detector, vocabulary = rubric_screening(rubric)
    reading.vocabulary = vocabulary
    for item in bundle.items:
        reading.kinds[item.id] = item.kind
        _screen_metadata(item, reading)
        text = _item_text(item, reading)
        if text is not None and item.kind != "repository":
            screened = screen_text(
                item.id,
                text,
                media_type=item.media_type,
                name=item.attributes.get("file_name") or item.name,
                detector=detector,
                rubric_words=vocabulary,
            )
            screen_gaming(screened, vocabulary, narrative=item.kind in NARRATIVE_KINDS)
            reading.texts.append(screened)
            reading.findings += screened.findings
        elif item.kind != "repository":
            reason = item.embedded.unread or "no text to read"
            reading.notes.append(f"{item.id}: {reason} ({item.media_type})")
            reading.unreadable += 1
        if item.kind == "repository":
            _read_repository_item(item, reading, detector, vocabulary)
    from service.assessment.engine.claims import check_claims  # claims reads a Reading: imported late

    check_claims(reading)
    return reading


def _read_repository_item(
    item: EvidenceItem, reading: Reading, detector: RubricCopyDetector, vocabulary: frozenset[str]
) -> None:
    if item.repository is None:
        reading.repositories.append(RepositoryReading(item.id, None, "no local checkout"))
        reading.notes.append(f"{item.id}: repository not checked out")
        reading.unreadable += 1
        return
    try:
        signals = read_repository(item.repository, item.commit)
    except RepositoryError as err:
        reading.repositories.append(RepositoryReading(item.id, None, str(err)))
        reading.notes.append(f"{item.id}: {err}")
        reading.unreadable += 1
        return
    reading.repositories.append(RepositoryReading(item.id, signals))
    if signals.readme is not None and signals.readme_path:
        screened = screen_text(
            item.id,
            signals.readme[:MAX_TEXT_CHARS],
            media_type="text/markdown",
            name=signals.readme_path,
            detector=detector,
            rubric_words=vocabulary,
            locator=signals.readme_path,
        )
        screen_gaming(screened, vocabulary, narrative=False)
        reading.texts.append(screened)
        reading.findings += screened.findings
    for message in signals.commit_subjects + signals.commit_bodies:
        matched = instruction_matches(message)
        if matched:
            reading.findings.append(
                Finding(
                    FLAG_PROMPT_INJECTION, item.id, f"{item.id} commit message: {', '.join(matched)}", shorten(message)
                )
            )


def _screen_metadata(item: EvidenceItem, reading: Reading) -> None:
    """An item's name, attributes (file name, author, ...) and the metadata inside its file (PDF
    document information, XMP, EXIF, PNG text chunks, JPEG comments) are text an attacker controls
    too; the metadata is kept for the semantic screen (:attr:`Reading.metadata`), never credited."""
    reading.metadata += [(item.id, where, value) for where, value in item.embedded.metadata]
    fields = [("name", item.name or "")] + sorted(item.attributes.items()) + list(item.embedded.metadata)
    for key, value in fields:
        if key in ("commit", "declared_media_type", "final_url") or not value:
            continue
        matched = instruction_matches(value.replace("_", " ").replace("-", " "))
        if matched:
            reading.findings.append(
                Finding(
                    FLAG_PROMPT_INJECTION, item.id, f"{item.id} metadata ({key}): {', '.join(matched)}", shorten(value)
                )
            )
            return  # one finding per item is enough to send it to a reviewer
