"""Label search over the bundled ESCO skills, so an issuer can pick the skills an achievement
aligns to.

Matching ignores case, accents and punctuation (``Développement`` finds ``developpement``; ``c++``
and ``c#`` keep their symbols). Every word of the query must begin a word of the skill's labels
(preferred or alternative). Results are ranked:

1. the preferred label is the query (exact);
2. an alternative label is the query;
3. the preferred label begins with the query (prefix);
4. an alternative label begins with the query;
5. every query word begins a word of the preferred label (token);
6. the query words are found across the alternative labels;

and within a rank by shorter preferred label, then alphabetically, then by URI, so the order is
stable. The index is built once, on first use (about two seconds, 36 MB), and kept; a search
then takes well under 10 ms: 0.05-0.3 ms for ordinary queries, 1-2 ms for one letter, under
10 ms for several one-letter words (measured on one core of the project machine).
"""

from __future__ import annotations

import bisect
import functools
import heapq
import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from service.skills.esco import Skill, all_skills

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
_WORD_BREAKS = re.compile(r"[^\w+#]+")


def normalize(text: str) -> str:
    """Lower case, no accents, punctuation (except ``+`` and ``#``) turned into single spaces."""
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_WORD_BREAKS.sub(" ", text.casefold().replace("_", " ")).split())


@dataclass(frozen=True)
class _Entry:
    skill: Skill
    label: str
    alternatives: tuple[str, ...]
    label_words: frozenset[str]


class SkillIndex:
    """A word-prefix index over skills' labels. Entries are numbered in tie-break order (shorter
    label, then label, then URI), so sorting numbers sorts ties."""

    def __init__(self, skills: Iterable[Skill]) -> None:
        entries = []
        for skill in skills:
            label = normalize(skill.label)
            alternatives = tuple(dict.fromkeys(a for a in (normalize(alt) for alt in skill.alt_labels) if a))
            entries.append(_Entry(skill, label, alternatives, frozenset(label.split())))
        entries.sort(key=lambda e: (len(e.label), e.label, e.skill.uri))
        self._entries = entries
        self._by_uri = {entry.skill.uri: number for number, entry in enumerate(entries)}
        postings: dict[str, list[int]] = {}
        exact: dict[str, list[int]] = {}
        phrases: list[tuple[str, int]] = []
        for number, entry in enumerate(entries):
            for rank, text in ((0, entry.label), *((1, alt) for alt in entry.alternatives)):
                exact.setdefault(text, []).append(number * 2 + (rank > 0))
                phrases.append((text, number * 2 + (rank > 0)))
                for word in set(text.split()):
                    words = postings.setdefault(word, [])
                    if not words or words[-1] != number:
                        words.append(number)
        self._words = sorted(postings)
        self._postings = [postings[word] for word in self._words]
        self._exact = exact
        phrases.sort()
        self._phrases = [text for text, _ in phrases]
        self._phrase_owner = [owner for _, owner in phrases]
        self._ranked = functools.lru_cache(maxsize=4096)(self._rank)

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def _bounds(keys: list[str], prefix: str) -> tuple[int, int]:
        """``(start, end)`` of the keys (sorted) that begin with ``prefix``."""
        start = bisect.bisect_left(keys, prefix)
        return start, bisect.bisect_left(keys, prefix + "\U0010ffff", lo=start)

    def _candidates(self, words: list[str]) -> set[int]:
        """Entries where every word of ``words`` begins some word of a label."""
        matched: set[int] | None = None
        for word in sorted(set(words), key=len, reverse=True):  # longer words match fewer entries
            found: set[int] = set()
            for postings in self._postings[slice(*self._bounds(self._words, word))]:
                found.update(postings)
            matched = found if matched is None else matched & found
            if not matched:
                return set()
        return matched or set()

    def search(self, query: str, limit: int = DEFAULT_LIMIT) -> list[Skill]:
        """Up to ``limit`` skills matching ``query``, best first (see the module docstring).
        Recent answers are remembered: typing "a", "ab", "abc" asks for the short ones often."""
        wanted = normalize(query)
        if not wanted or limit < 1:
            return []
        return [self._entries[number].skill for number in self._ranked(wanted, limit)]

    def _rank(self, wanted: str, limit: int) -> tuple[int, ...]:
        results: list[int] = []
        chosen: set[int] = set()

        def take(numbers: Iterable[int]) -> bool:
            for number in numbers:
                if number not in chosen:
                    chosen.add(number)
                    results.append(number)
                    if len(results) == limit:
                        return True
            return False

        exact = self._exact.get(wanted, ())
        span = self._phrase_owner[slice(*self._bounds(self._phrases, wanted))]
        tiers = (
            lambda: sorted(owner >> 1 for owner in exact if not owner & 1),  # exact label
            lambda: sorted(owner >> 1 for owner in exact if owner & 1),  # exact alternative
            lambda: heapq.nsmallest(limit + len(chosen), {o >> 1 for o in span if not o & 1}),  # label prefix
            lambda: heapq.nsmallest(limit + len(chosen), {o >> 1 for o in span if o & 1}),  # alternative prefix
        )
        for tier in tiers:
            if take(tier()):
                return tuple(results)
        words = wanted.split()
        elsewhere: list[int] = []
        for number in sorted(self._candidates(words) - chosen):  # every word begins a label word
            label_words = self._entries[number].label_words
            if all(any(w.startswith(word) for w in label_words) for word in words):
                if take((number,)):
                    return tuple(results)
            elif len(elsewhere) < limit:
                elsewhere.append(number)
        take(elsewhere)
        return tuple(results)


_lock = threading.Lock()
_index: SkillIndex | None = None


def skill_index() -> SkillIndex:
    """The index over every bundled ESCO skill (built on first call, then kept)."""
    global _index
    if _index is None:
        with _lock:
            if _index is None:
                _index = SkillIndex(all_skills().values())
    return _index


def search_skills(query: str, limit: int = DEFAULT_LIMIT) -> list[Skill]:
    """Search the bundled ESCO skills by label (see the module docstring for the ranking)."""
    return skill_index().search(query, max(0, min(limit, MAX_LIMIT)))
