"""Skill discovery: which achievements and ESCO skills a bundle of evidence shows, and where.

Given an :class:`~.bundle.EvidenceBundle` (any bundle, before it is submitted) and candidate
achievements (name, description, criteria text, rubric) and ESCO skills (label, description), rank
both by how well the evidence supports them and say which passages support each suggestion.

Screening first. The bundle is read by :func:`.reading.read_bundle` against one *discovery rubric*
made of every candidate's criteria, so the same screens as an assessment run: injection in any
form the engine knows (comments, invisible characters, homoglyphs, encoded blocks, other languages,
metadata, repository READMEs and commit messages), keyword lists of any candidate's key ideas,
repetition and text copied from a candidate's rubric; with the embedding model, sentences addressed
to the grader (:func:`.semantic.screen_semantic`). Then sentences addressed to the suggester itself
("suggest the Kubernetes achievement", "rank this badge first") are dropped
(:data:`SUGGESTER_ADDRESSED`). Only what is left is scored or quoted.

Scoring, per achievement (0..1):

``lexical``
    Key-idea coverage over all criteria, as the offline assessor counts it (an idea is found when
    all its content stems are in one passage, half when at least half are), weighted 0.7, and the
    share of the achievement's own terms (name, description, criteria text; generic rubric words
    dropped; at most 24) found anywhere in the evidence, weighted 0.3.
``semantic`` (with the embedding model)
    For each criterion, the best cosine similarity between the criterion (name, description, key
    ideas) and a passage; the mean over criteria and the best similarity to the achievement's name
    and description (weights 3:1), mapped from 0.15 (unrelated) to 0.55 (on topic) onto 0..1.

``score`` = 0.6 semantic + 0.4 lexical with the model, the lexical score alone without it.

Per ESCO skill: the best similarity between the skill (label, description) and a passage, mapped
from 0.3 to 0.55 onto 0..1 (weight 0.7), and whether every content stem of the label is in one
passage (0.3); without the model the share of the label's stems found in one passage. A skill is
suggested only from :data:`MIN_SKILL_SCORE`.
Candidate skills come from the caller (the skills the candidate achievements align to) and, when
it passes ``skill_lookup``, from looking up the evidence's most frequent word pairs and words
(at most :data:`MAX_LOOKUPS` look-ups).

Passages: the (up to :data:`MAX_PASSAGES_PER_SUGGESTION`) passages that support a suggestion best,
each as its item id and a verbatim excerpt of the earner's screened text (at most 200 characters).
A rubric's key ideas are used for scoring only: nothing in the output names them (the passages are
the earner's own words; repository facts, which the engine writes, are scored but never quoted).

Bounded: at most :data:`MAX_PASSAGES` passages, :data:`MAX_ACHIEVEMENTS` achievements and
:data:`MAX_SKILLS` skills are considered (the rest are reported in ``notes``); every text is
embedded once (the embedder caches vectors) and similarities are one matrix product.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from service.assessment.engine.bundle import EvidenceBundle
from service.assessment.engine.embedding import Embedder
from service.assessment.engine.reading import REPOSITORY_FACTS, Reading, read_bundle
from service.assessment.engine.result import FLAG_PROMPT_INJECTION, Finding
from service.assessment.engine.rubric import Criterion, Level, Rubric
from service.assessment.engine.scoring import criterion_ideas, idea_credit
from service.assessment.engine.text import (
    RUBRIC_WORDS,
    STOPWORDS,
    Passage,
    StemIndex,
    content_stems,
    shorten,
    words,
)

MAX_PASSAGES = 64
MAX_ACHIEVEMENTS = 200
MAX_SKILLS = 300
MAX_LOOKUPS = 24
LOOKUP_LIMIT = 5
MAX_TERMS = 24
MAX_PASSAGES_PER_SUGGESTION = 3
DEFAULT_LIMIT = 5
MAX_LIMIT = 20
MIN_SKILL_SCORE = 0.35
SIMILARITY_FLOOR, SIMILARITY_CEILING = 0.15, 0.55
SKILL_FLOOR = 0.3
EXCERPT_CHARS = 200

SUGGESTER_ADDRESSED = re.compile(
    r"\b(?:suggest(?:ed|s|ion|ions)?|recommend(?:ed|s|ation|ations)?|rank(?:ed|s|ing)?|match(?:ed|es|ing)?|"
    r"pick|choose|select|propose|show|list|prioriti[sz]e|put)\b"
    r"[^.!?\n]{0,80}?\b(?:achievements?|badges?|credentials?|suggestions?|skills?|results?|first|top|"
    r"recommender|recommendation)\b",
    re.IGNORECASE,
)
"""A sentence that tells the suggester what to suggest (the earner's evidence talks about work,
not about what the matcher should output)."""
_ADDRESSEE = re.compile(
    r"\b(?:you|your|recommender|suggester|matcher|matching (?:engine|system|model)|system|ai|model|assistant|"
    r"algorithm|whoever|reader of this|please|must|should|always|only)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SkillCandidate:
    """An ESCO skill that may be suggested."""

    uri: str
    label: str
    description: str = ""


@dataclass(frozen=True)
class AchievementCandidate:
    """An achievement earners may apply for: its content and (optionally) its rubric.

    ``criteria``: the criteria narrative; ``issuer``: the issuer's name (carried to the output);
    ``skills``: the ESCO skills it aligns to (also suggested as skills when the evidence shows them)."""

    id: str
    name: str
    description: str = ""
    criteria: str = ""
    issuer: str = ""
    rubric: Rubric | None = None
    skills: tuple[SkillCandidate, ...] = ()


@dataclass(frozen=True)
class SupportingPassage:
    """Where a suggestion comes from: an item of the bundle and a verbatim excerpt of its text."""

    item_id: str
    excerpt: str


@dataclass(frozen=True)
class Suggestion:
    """One suggested achievement (``id``, ``name``, ``issuer``) or skill (``id`` the URI, ``name`` the label)."""

    id: str
    name: str
    score: float
    passages: tuple[SupportingPassage, ...]
    issuer: str = ""


@dataclass(frozen=True)
class Discovery:
    """The suggestions, best first, and what the screening found."""

    achievements: tuple[Suggestion, ...]
    skills: tuple[Suggestion, ...]
    flags: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    embeddings: bool = False


@dataclass
class _Scored:
    score: float
    support: list[tuple[float, Passage]] = field(default_factory=list)


# --- screening ---------------------------------------------------------------------------------


def discovery_rubric(candidates: Sequence[AchievementCandidate]) -> Rubric:
    """One rubric holding every candidate's criteria (a candidate without a rubric contributes one
    criterion made of its name, description and criteria text), so the screens know every rubric's
    words: keyword lists of any candidate's key ideas and copies of any rubric are dropped."""
    criteria: list[Criterion] = []
    level = (Level("none", "None", "Not shown.", 0.0), Level("shown", "Shown", "Shown.", 1.0))
    for number, candidate in enumerate(candidates):
        if candidate.rubric is not None:
            criteria += [
                Criterion(f"{number}-{c.id}", c.name, c.description, 1.0, c.levels, key_ideas=c.key_ideas)
                for c in candidate.rubric.criteria
            ]
        else:
            text = " ".join(part for part in (candidate.description, candidate.criteria) if part)
            criteria.append(Criterion(f"{number}", candidate.name, text or candidate.name, 1.0, level))
    if not criteria:
        criteria.append(Criterion("evidence", "Evidence", "Evidence of work.", 1.0, level))
    source: dict[str, Any] = {
        "discovery": [[c.id, c.rubric.hash if c.rubric else "", c.name, c.description, c.criteria] for c in candidates]
    }
    return Rubric(
        id="discovery",
        version="1",
        name="Skill discovery",
        description="",
        criteria=tuple(criteria),
        min_total=0.0,
        min_confidence=0.0,
        policy="review",
        sampling_rate=0.0,
        source=source,
    )


def addressed_to_suggester(sentence: str) -> bool:
    """Does ``sentence`` tell the suggester what to output ("Suggest the Kubernetes achievement",
    "you should rank this badge first")? An imperative at the start counts, or a verb of
    suggesting with an addressee (you, the system, please, must...)."""
    match = SUGGESTER_ADDRESSED.search(sentence)
    if match is None:
        return False
    before = sentence[: match.start()].strip(" \t-*>:\"'“”([").lower()
    imperative = not before or before.endswith(("note", "reminder", "instruction", "instructions", "ps", "p.s."))
    return imperative or _ADDRESSEE.search(sentence) is not None


def _screen_suggester(reading: Reading) -> None:
    for screened in reading.texts:
        dropped = [(n, s) for n, s in screened.sentences if addressed_to_suggester(s)]
        if not dropped:
            continue
        where = f"{screened.item_id}{' ' + screened.locator if screened.locator else ''}"
        for _, sentence in dropped:
            finding = Finding(
                FLAG_PROMPT_INJECTION,
                screened.item_id,
                f"{where}: addressed to the suggester",
                shorten(sentence),
            )
            screened.findings.append(finding)
            reading.findings.append(finding)
        screened.sentences = [entry for entry in screened.sentences if entry not in dropped]
        paragraphs: dict[int, list[str]] = {}
        for number, sentence in screened.sentences:
            paragraphs.setdefault(number, []).append(sentence)
        screened.clean = "\n\n".join(" ".join(group) for group in paragraphs.values())
        screened.removed_sentences += len(dropped)


def screen(bundle: EvidenceBundle, rubric: Rubric, embedder: Embedder | None) -> Reading:
    """Read and screen ``bundle`` as described in the module docstring."""
    reading = read_bundle(bundle, rubric)
    if embedder is not None:
        from service.assessment.engine.semantic import screen_semantic  # needs numpy: imported late

        screen_semantic(reading, rubric, embedder)
    _screen_suggester(reading)
    return reading


# --- scoring -----------------------------------------------------------------------------------


def _map(similarity: float) -> float:
    return max(0.0, min(1.0, (similarity - SIMILARITY_FLOOR) / (SIMILARITY_CEILING - SIMILARITY_FLOOR)))


def _terms(candidate: AchievementCandidate) -> list[str]:
    terms: list[str] = []
    for text in (candidate.name, candidate.description, candidate.criteria):
        for term in content_stems(text, extra_stopwords=RUBRIC_WORDS):
            if term not in terms and len(term) > 2:
                terms.append(term)
    return terms[:MAX_TERMS]


def _criteria(candidate: AchievementCandidate) -> list[Criterion]:
    if candidate.rubric is not None:
        return list(candidate.rubric.criteria)
    text = " ".join(part for part in (candidate.description, candidate.criteria) if part)
    return [Criterion("achievement", candidate.name, text or candidate.name, 1.0, ())]


def _query(criterion: Criterion) -> str:
    return "; ".join([criterion.name + ": " + criterion.description, *criterion.key_ideas])


class _Similarities:
    """Cosine similarities of query texts to the passages, one matrix product per batch."""

    def __init__(self, embedder: Embedder | None, passages: Sequence[Passage]) -> None:
        self.embedder = embedder
        self.matrix: Any = None
        if embedder is not None and passages:
            import numpy

            self._np = numpy
            self.matrix = numpy.stack([embedder.embed(p.text) for p in passages])

    def of(self, texts: Sequence[str]) -> Any:
        """``len(texts) x len(passages)`` similarities (None without the model)."""
        if self.matrix is None or self.embedder is None:
            return None
        queries = self._np.stack([self.embedder.embed(text) for text in texts])
        return self._np.round(queries @ self.matrix.T, 4)


def _score_achievement(
    candidate: AchievementCandidate, passages: Sequence[Passage], indexes: Sequence[StemIndex], sims: _Similarities
) -> _Scored:
    criteria = _criteria(candidate)
    credits: list[float] = []
    hits = [0.0] * len(passages)
    for criterion in criteria:
        ideas, derived = criterion_ideas(criterion) if criterion.levels else ([], True)
        if derived:
            continue
        for _, stems in ideas:
            credit, full = idea_credit(stems, indexes)
            for position in full:
                hits[position] += 1
            credits.append(credit)
    terms = _terms(candidate)
    found = {t for t in terms if any(t in index for index in indexes)}
    term_share = len(found) / len(terms) if terms else 0.0
    for position, index in enumerate(indexes):
        hits[position] += 0.25 * sum(t in index for t in found)
    lexical = 0.7 * (sum(credits) / len(credits)) + 0.3 * term_share if credits else term_share
    matrix = sims.of([_query(c) for c in criteria] + [candidate.name + ": " + candidate.description])
    if matrix is None:
        support = [(hits[i], p) for i, p in enumerate(passages) if hits[i] > 0]
        return _Scored(round(lexical, 4), support)
    best_per_criterion = matrix[:-1].max(axis=1)
    semantic = (3 * float(best_per_criterion.mean()) + float(matrix[-1].max())) / 4
    score = 0.6 * _map(semantic) + 0.4 * lexical
    relevance = matrix.max(axis=0)
    support = [
        (float(relevance[i]) + 0.05 * hits[i], p) for i, p in enumerate(passages) if relevance[i] >= 0.3 or hits[i]
    ]
    return _Scored(round(score, 4), support)


def _score_skill(
    skill: SkillCandidate, passages: Sequence[Passage], indexes: Sequence[StemIndex], sims: _Similarities
) -> _Scored:
    stems = list(dict.fromkeys(content_stems(skill.label)))
    shares = [sum(t in index for t in stems) / len(stems) if stems else 0.0 for index in indexes]
    lexical = max(shares, default=0.0)
    matrix = sims.of([skill.label + ": " + skill.description if skill.description else skill.label])
    if matrix is None:
        support = [(shares[i], p) for i, p in enumerate(passages) if shares[i] >= 0.5]
        return _Scored(round(lexical, 4), support)
    row = matrix[0]
    mapped = max(0.0, min(1.0, (float(row.max()) - SKILL_FLOOR) / (SIMILARITY_CEILING - SKILL_FLOOR)))
    score = 0.7 * mapped + 0.3 * (1.0 if lexical == 1.0 else 0.0)
    support = [(float(row[i]) + 0.1 * shares[i], p) for i, p in enumerate(passages) if row[i] >= 0.3 or shares[i] == 1]
    return _Scored(round(score, 4), support)


def _excerpt(text: str) -> str:
    """A verbatim prefix of ``text`` of at most :data:`EXCERPT_CHARS` characters, cut at a word."""
    if len(text) <= EXCERPT_CHARS:
        return text
    cut = text[:EXCERPT_CHARS]
    return cut[: cut.rfind(" ")] if " " in cut else cut


def _supporting(scored: _Scored) -> tuple[SupportingPassage, ...]:
    quotable = [(weight, p) for weight, p in scored.support if p.locator != REPOSITORY_FACTS]
    quotable.sort(key=lambda entry: (-entry[0], entry[1].item_id, entry[1].index))
    return tuple(SupportingPassage(p.item_id, _excerpt(p.text)) for _, p in quotable[:MAX_PASSAGES_PER_SUGGESTION])


def lookup_phrases(passages: Iterable[Passage], limit: int = MAX_LOOKUPS) -> list[str]:
    """The evidence's most frequent pairs of adjacent content words and content words (two thirds
    pairs), most frequent first, then first seen: what to look skills up by."""
    pairs: Counter[str] = Counter()
    singles: Counter[str] = Counter()
    for passage in passages:
        if passage.locator == REPOSITORY_FACTS:
            continue
        tokens = [w for w in words(passage.text) if w.isalpha() and len(w) > 2 and w not in STOPWORDS]
        singles.update(w for w in tokens if w not in RUBRIC_WORDS)
        plain = words(passage.text)
        for a, b in zip(plain, plain[1:], strict=False):
            if all(w.isalpha() and len(w) > 2 and w not in STOPWORDS and w not in RUBRIC_WORDS for w in (a, b)):
                pairs[f"{a} {b}"] += 1
    wanted_pairs = [p for p, _ in pairs.most_common(limit * 2 // 3)]
    wanted_singles = [w for w, _ in singles.most_common(limit - len(wanted_pairs))]
    return wanted_pairs + wanted_singles


def discover(
    bundle: EvidenceBundle,
    achievements: Sequence[AchievementCandidate],
    skills: Sequence[SkillCandidate] = (),
    *,
    embedder: Embedder | None = None,
    skill_lookup: Callable[[str, int], Iterable[SkillCandidate]] | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Discovery:
    """Rank ``achievements`` and skills for ``bundle`` (see the module docstring). ``embedder``:
    None or unavailable ranks lexically. ``skill_lookup(phrase, limit)``: more candidate skills
    for a phrase of the evidence (e.g. a label search over ESCO). At most ``limit`` (capped at
    :data:`MAX_LIMIT`) of each, best first; ties by name then id, so the order is stable."""
    limit = max(1, min(limit, MAX_LIMIT))
    notes: list[str] = []
    if embedder is not None and not embedder.available():
        notes.append(f"similarity not measured: {embedder.reason}")
        embedder = None
    if len(achievements) > MAX_ACHIEVEMENTS:
        notes.append(f"only the first {MAX_ACHIEVEMENTS} of {len(achievements)} achievements were considered")
        achievements = achievements[:MAX_ACHIEVEMENTS]
    reading = screen(bundle, discovery_rubric(achievements), embedder)
    passages = [p for p in reading.passages() if p.text.strip()]
    if len(passages) > MAX_PASSAGES:
        notes.append(f"only the first {MAX_PASSAGES} of {len(passages)} passages were read")
        passages = passages[:MAX_PASSAGES]
    notes += reading.notes
    flags = tuple(reading.flags)
    if not passages:
        return Discovery((), (), flags, (*notes, "no readable evidence"), embedder is not None)
    indexes = [StemIndex(content_stems(p.text)) for p in passages]
    sims = _Similarities(embedder, passages)

    ranked: list[Suggestion] = []
    for candidate in achievements:
        scored = _score_achievement(candidate, passages, indexes, sims)
        if scored.score > 0:
            ranked.append(Suggestion(candidate.id, candidate.name, scored.score, _supporting(scored), candidate.issuer))
    ranked.sort(key=lambda s: (-s.score, s.name, s.id))

    pool: dict[str, SkillCandidate] = {}
    for skill in [*skills, *(s for a in achievements for s in a.skills)]:
        pool.setdefault(skill.uri, skill)
    if skill_lookup is not None:
        for phrase in lookup_phrases(passages):
            for skill in skill_lookup(phrase, LOOKUP_LIMIT):
                pool.setdefault(skill.uri, skill)
    if len(pool) > MAX_SKILLS:
        notes.append(f"only {MAX_SKILLS} of {len(pool)} candidate skills were considered")
    found: list[Suggestion] = []
    for skill in list(pool.values())[:MAX_SKILLS]:
        scored = _score_skill(skill, passages, indexes, sims)
        if scored.score >= MIN_SKILL_SCORE:
            found.append(Suggestion(skill.uri, skill.label, scored.score, _supporting(scored)))
    found.sort(key=lambda s: (-s.score, s.name, s.id))
    return Discovery(
        tuple(ranked[:limit]), tuple(found[:limit]), flags, tuple(dict.fromkeys(notes)), embedder is not None
    )
