"""How the offline assessor turns signals into a level and a confidence (mapping ``strength/1``).

For each criterion, from the *screened* evidence only (:mod:`.reading`):

``coverage`` (0..1)
    Key ideas found. Each key idea is reduced to its content stems; an idea counts 1 when every
    stem appears in one passage, 0.5 when at least half do (ideas of two or more words). Coverage is
    found / (0.7 x ideas), capped at 1: a rubric's key ideas are alternative ways of showing the
    criterion ("support tickets", "user feedback"), and strong work rarely names all of them (with
    the plain mean, honest samples of the evaluation set were under-levelled by 0.1 to 1.1 levels
    on every rubric). A criterion without ``key_ideas`` uses up to 12 terms derived from its description and
    level descriptions (generic rubric words dropped); then coverage = found / (0.6 x terms), capped
    at 1, since no text uses every word of a rubric.
``similarity`` (0..1, absent without the embedding model)
    Cosine similarity between the criterion (name, description, key ideas) and each passage; the
    best passage's, mapped linearly from 0.25 (same field, other subject) to 0.55 (on topic) onto 0..1.
``depth`` (0..1)
    Distinct, specific content in the passages that support the criterion (an idea found, or
    similarity >= 0.35), not their length: the distinct content words that are *not* the rubric's
    own, plus twice the distinct specific tokens (numbers, names, identifiers; the rubric's terms do
    not count), divided by 60. A one-line claim is not a worked example, and the rubric's key terms
    listed (or repeated) add nothing.
``repository`` (0..1, only for criteria about code: their text names code, tests, software, ...)
    The best repository's practice: README 0.15, tests 0.25 (3+ test files), CI 0.20, commits 0.15
    (15+), history 0.10 (30+ days), source files 0.15 (5+).

``strength`` is the weighted mean of the signals present (coverage 0.40, similarity 0.30,
depth 0.20, repository 0.25). With L levels the thresholds are ``0.9 k / L`` for k = 1..L-1;
the level is the highest whose threshold the strength reaches (4 levels: 0.225, 0.45, 0.675).
``score`` is that level's points.

Evidence pointers: the three passages that support the criterion best (an idea found, or
similarity >= 0.35); when none of them is from an artefact (:data:`.result.ARTEFACT_KINDS`), also
the best supporting artefact passage or, failing that, the artefact passage most related to the
criterion (half a key idea, or similarity >= 0.25): the judgement names the work it rests on, which
:mod:`.decision` requires before issuing automatically.

``confidence`` = availability x (0.45 agreement + 0.35 margin + 0.20 volume), where agreement is
1 - (max - min) over coverage, similarity and repository (0.7 when fewer than two are present),
margin is the distance of the strength to the nearest threshold relative to half a step, volume is
min(1, evidence words / 150) (a read repository counts 100 words), and availability is 1 with
embeddings and 0.8 without; x0.8 when some item could not be read, x0.85 for a repository with
more than three authors (whose work is it?). No readable evidence at all: the lowest level with
confidence 0.1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from service.assessment.engine.embedding import Embedder
from service.assessment.engine.reading import REPOSITORY_FACTS, Reading
from service.assessment.engine.repository import RepositorySignals
from service.assessment.engine.result import CriterionResult, EvidencePointer
from service.assessment.engine.rubric import Criterion
from service.assessment.engine.signals import novel_stems, specific_tokens
from service.assessment.engine.text import RUBRIC_WORDS, Passage, StemIndex, content_stems, stem

MAPPING_VERSION = "strength/2"
WEIGHTS = {"coverage": 0.40, "similarity": 0.30, "depth": 0.20, "repository": 0.25}
SIMILARITY_FLOOR, SIMILARITY_CEILING, SUPPORT_SIMILARITY = 0.25, 0.55, 0.35
DEPTH_UNITS, VOLUME_WORDS, REPOSITORY_WORDS = 60, 150, 100
MAX_PASSAGES = 64
DERIVED_TERMS = 12
KEY_IDEA_SHARE = 0.7
"""The share of a criterion's key ideas that counts as full coverage (see the module docstring)."""
CODE_WORDS = frozenset(
    stem(w)
    for w in """code coding software repository repositories test tests testing program
programming implement implementation develop developer development engineer engineering commit commits version
git pipeline deploy deployment application api function module refactor build continuous integration automated
script scripts unit javascript python typescript html css react frontend backend web component library framework
debug lint maintainable maintain notebook sql""".split()
)


@dataclass
class Signals:
    """One criterion's signals (None = absent) and what supports them."""

    coverage: float
    ideas_found: list[str]
    ideas_missing: list[str]
    similarity: float | None
    best_similarity: float | None
    depth: float
    repository: float | None
    supporting: list[tuple[Passage, int, float]] = field(default_factory=list)
    distinct_words: int = 0
    specifics: int = 0
    related_artefact: list[tuple[Passage, int, float]] = field(default_factory=list)
    """The artefact passage most related to the criterion (see :func:`_pointers`), if any."""

    def present(self) -> dict[str, float]:
        values = {
            "coverage": self.coverage,
            "similarity": self.similarity,
            "depth": self.depth,
            "repository": self.repository,
        }
        return {name: value for name, value in values.items() if value is not None}


def idea_credit(stems: Sequence[str], indexes: Sequence[StemIndex]) -> tuple[float, tuple[int, ...]]:
    """A key idea's credit against the passages (their stem ``indexes``): 1 when one passage holds
    every stem, 0.5 when one holds at least half of a multi-word idea's stems, else 0; and the
    positions of the passages that hold every stem."""
    shares = [sum(token in index for token in stems) / len(stems) for index in indexes]
    best = max(shares, default=0.0)
    full = tuple(position for position, share in enumerate(shares) if share == 1.0)
    return (1.0 if best == 1.0 else (0.5 if best >= 0.5 and len(stems) >= 2 else 0.0)), full


def criterion_ideas(criterion: Criterion) -> tuple[list[tuple[str, tuple[str, ...]]], bool]:
    """``([(label, stems)], derived)``: the key ideas, or terms derived from the criterion's text."""
    ideas = [(idea, tuple(content_stems(idea))) for idea in criterion.key_ideas]
    ideas = [(label, stems) for label, stems in ideas if stems]
    if ideas:
        return ideas, False
    terms: list[str] = []
    texts = [criterion.name, criterion.description] + [level.description for level in criterion.levels]
    for text in texts:
        for term in content_stems(text, extra_stopwords=RUBRIC_WORDS):
            if term not in terms and len(term) > 2:
                terms.append(term)
    return [(term, (term,)) for term in terms[:DERIVED_TERMS]], True


def repository_quality(signals: RepositorySignals) -> float:
    """0..1: how much engineering practice a repository shows (see the module docstring)."""
    score = 0.15 if signals.readme_path else 0.0
    score += 0.25 * min(1.0, len(signals.test_files) / 3)
    score += 0.20 if signals.ci_files else 0.0
    score += 0.15 * min(1.0, signals.commits / 15)
    score += 0.10 * min(1.0, signals.history_days / 30)
    score += 0.15 * min(1.0, signals.source_files / 5)
    return round(score, 3)


def is_about_code(criterion: Criterion) -> bool:
    """Does the criterion's own text talk about code (so repository practice counts for it)?"""
    text = " ".join([criterion.name, criterion.description, *criterion.key_ideas])
    return any(token in CODE_WORDS for token in content_stems(text))


def compute_signals(
    criterion: Criterion, passages: list[Passage], reading: Reading, embedder: Embedder | None
) -> Signals:
    """Measure every signal of ``criterion`` over ``passages`` (already screened)."""
    ideas, derived = criterion_ideas(criterion)
    indexes = [StemIndex(content_stems(p.text)) for p in passages]
    credits: list[float] = []
    found: list[str] = []
    missing: list[str] = []
    matches_per_passage = [0] * len(passages)
    for label, stems in ideas:
        credit, full = idea_credit(stems, indexes)
        for position in full:
            matches_per_passage[position] += 1
        credits.append(credit)
        (found if credit else missing).append(label)
    if derived:
        coverage = min(1.0, sum(credits) / (0.6 * len(ideas))) if ideas else 0.0
    else:
        coverage = min(1.0, sum(credits) / (KEY_IDEA_SHARE * len(ideas))) if ideas else 0.0
    similarities = [0.0] * len(passages)
    similarity = best_similarity = None
    if embedder is not None and passages:
        query = "; ".join([criterion.name + ": " + criterion.description, *criterion.key_ideas])
        similarities = [embedder.similarity(query, p.text) for p in passages[:MAX_PASSAGES]]
        similarities += [0.0] * (len(passages) - len(similarities))
        best_similarity = max(similarities)
        similarity = _clamp((best_similarity - SIMILARITY_FLOOR) / (SIMILARITY_CEILING - SIMILARITY_FLOOR))
    supporting = [
        (p, matches_per_passage[i], similarities[i])
        for i, p in enumerate(passages)
        if matches_per_passage[i] or similarities[i] >= SUPPORT_SIMILARITY
    ]
    supported = "\n".join(p.text for p, _, _ in supporting if p.locator != REPOSITORY_FACTS)
    distinct = len(novel_stems(supported, reading.vocabulary))
    specifics = len(specific_tokens(supported, reading.vocabulary))
    depth = _clamp((distinct + 2 * specifics) / DEPTH_UNITS)
    repository = None
    read = [repo.signals for repo in reading.repositories if repo.signals is not None]
    if read and is_about_code(criterion):
        repository = max(repository_quality(signals) for signals in read)
    supporting.sort(key=lambda entry: (-entry[1], -entry[2], entry[0].item_id, entry[0].index))
    # Artefacts that are on the criterion's subject without carrying its key ideas (a data file, a
    # client's note): a key idea half found, or similarity at least "same field".
    artefacts = set(reading.artefacts())
    related = [
        (p, matches_per_passage[i], similarities[i])
        for i, p in enumerate(passages)
        if p.item_id in artefacts
        and (
            similarities[i] >= SIMILARITY_FLOOR
            or any(sum(t in indexes[i] for t in st) * 2 >= len(st) for _, st in ideas)
        )
    ]
    related.sort(key=lambda entry: (-entry[1], -entry[2], entry[0].item_id, entry[0].index))
    return Signals(
        round(coverage, 3),
        found,
        missing,
        None if similarity is None else round(similarity, 3),
        best_similarity,
        round(depth, 3),
        repository,
        supporting,
        distinct,
        specifics,
        related[:1],
    )


def thresholds(level_count: int) -> list[float]:
    """Strength needed for each level above the lowest."""
    return [round(0.9 * k / level_count, 4) for k in range(1, level_count)]


def judge(criterion: Criterion, signals: Signals, reading: Reading, *, embeddings: bool) -> CriterionResult:
    """Map ``signals`` to a level, score and confidence (see the module docstring)."""
    present = signals.present()
    cuts = thresholds(len(criterion.levels))
    if not reading.texts and not any(repo.signals for repo in reading.repositories):
        level = criterion.levels[0]
        return CriterionResult(
            criterion.id,
            level.id,
            level.points,
            0.1,
            "no readable evidence",
            (),
            signals={"mapping": MAPPING_VERSION, "strength": 0.0},
        )
    weight = sum(WEIGHTS[name] for name in present)
    strength = round(sum(WEIGHTS[name] * value for name, value in present.items()) / weight, 4)
    rank = sum(strength >= cut for cut in cuts)
    level = criterion.levels[rank]
    directional = [present[name] for name in ("coverage", "similarity", "repository") if name in present]
    agreement = 1 - (max(directional) - min(directional)) if len(directional) >= 2 else 0.7
    step = 0.9 / len(criterion.levels)
    margin = _clamp(min(abs(strength - cut) for cut in cuts) / (step / 2))
    words = reading.text_words() + REPOSITORY_WORDS * sum(1 for r in reading.repositories if r.signals)
    volume = _clamp(words / VOLUME_WORDS)
    confidence = (1.0 if embeddings else 0.8) * (0.45 * agreement + 0.35 * margin + 0.20 * volume)
    if reading.unreadable:
        confidence *= 0.8
    if signals.repository is not None and any(r.signals and r.signals.authors > 3 for r in reading.repositories):
        confidence *= 0.85
    rationale = _rationale(criterion, signals, strength, level.name)
    recorded: dict[str, Any] = {
        "mapping": MAPPING_VERSION,
        "strength": strength,
        "thresholds": cuts,
        "ideas_found": signals.ideas_found,
        "ideas_missing": signals.ideas_missing,
        "best_similarity": signals.best_similarity,
        "distinct_words": signals.distinct_words,
        "specifics": signals.specifics,
        **present,
    }
    return CriterionResult(
        criterion.id,
        level.id,
        level.points,
        round(_clamp(confidence), 3),
        rationale,
        _pointers(signals, reading),
        signals=recorded,
    )


def _pointers(signals: Signals, reading: Reading) -> tuple[EvidencePointer, ...]:
    """The three passages that support the criterion best and, when none of them is from an
    artefact (a file, a repository, a fetched page, a testimonial), the best supporting passage
    that is: the judgement names the work it rests on, not only the earner's account of it."""
    cited = signals.supporting[:3]
    artefacts = set(reading.artefacts())
    if cited and not any(passage.item_id in artefacts for passage, _, _ in cited):
        cited += [entry for entry in signals.supporting[3:] if entry[0].item_id in artefacts][:1] or (
            signals.related_artefact
        )
    pointers: list[EvidencePointer] = []
    for passage, _, _ in cited:
        if passage.locator == REPOSITORY_FACTS:
            repo = next((r.signals for r in reading.repositories if r.item_id == passage.item_id and r.signals), None)
            paths = (repo.test_files[:1] + repo.ci_files[:1]) if repo else []
            pointers += [EvidencePointer(passage.item_id, path) for path in paths] or [EvidencePointer(passage.item_id)]
        else:
            quote = _quote(passage.text)
            pointers.append(
                EvidencePointer(passage.item_id, f"{passage.locator}: {quote}" if passage.locator else quote)
            )
    return tuple(pointers)


def _quote(text: str, limit: int = 200) -> str:
    """A verbatim prefix of ``text`` of at most ``limit`` characters, cut at a word boundary."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    return cut[: cut.rfind(" ")] if " " in cut else cut


def _rationale(criterion: Criterion, signals: Signals, strength: float, level_name: str) -> str:
    total = len(signals.ideas_found) + len(signals.ideas_missing)
    parts = [
        f"key ideas {len(signals.ideas_found)}/{total}"
        + (f" ({', '.join(signals.ideas_found[:5])})" if signals.ideas_found else "")
    ]
    if signals.similarity is not None:
        parts.append(f"similarity {signals.best_similarity:.2f}")
    else:
        parts.append("similarity not measured")
    parts.append(
        f"depth {signals.depth:.2f} ({signals.distinct_words} distinct words beyond the rubric, "
        f"{signals.specifics} specifics)"
    )
    if signals.repository is not None:
        parts.append(f"repository practice {signals.repository:.2f}")
    return "; ".join(parts) + f" -> strength {strength:.2f} -> {level_name}"


def _clamp(value: float) -> float:
    return max(0.0, min(1.0, value))
