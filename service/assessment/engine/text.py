"""Plain-text helpers the assessors share: words, a light stemmer, sentences and passages.

Everything here is deterministic and language-light (English-first): the offline assessor only
needs the same word on both sides (rubric and evidence) to end up as the same stem.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|\n{1,}")

STOPWORDS = frozenset(
    """
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing done down during each either etc even ever
every few for from further get gets got had has have having he her here hers herself him himself his
how i if in into is it its itself just let like made make makes many may me might more most much must
my myself no nor not now of off on once one only or other our ours ourselves out over own per quite
rather really same she should since so some such than that the their theirs them themselves then there
these they this those through to too under until up upon us use used uses using very via was we were
what when where which while who whom whose why will with within without would yes yet you your yours
yourself yourselves
""".split()
)

# Words every rubric uses that say nothing about the skill itself (ignored when terms are derived
# from a criterion's own text).
RUBRIC_WORDS = frozenset(
    """
able ability candidate clear clearly criterion criteria demonstrate demonstrates demonstrated
describe describes described evidence example examples good level levels limited little minimal
none partial partially poor shows show shown some strong strongly weak well work works basic
basics advanced expert novice proficient developing exemplary adequate appropriate appropriately
consistent consistently effective effectively thorough thoroughly several multiple most mostly
beyond meets meet exceeds exceed missing lacks lack lacking absent present includes include
including provide provides provided relevant fully full
""".split()
)

_SUFFIXES = (
    "ational",
    "ations",
    "ation",
    "ements",
    "ement",
    "ments",
    "ment",
    "nesses",
    "ness",
    "ities",
    "ity",
    "ings",
    "ing",
    "ively",
    "ive",
    "ies",
    "ied",
    "ers",
    "er",
    "edly",
    "ed",
    "es",
    "ly",
    "s",
)


def fold(text: str) -> str:
    """NFKC-normalise and case-fold ``text`` (what every comparison starts from)."""
    return unicodedata.normalize("NFKC", text).casefold()


def words(text: str) -> list[str]:
    """The words of ``text``, folded (apostrophes inside words kept)."""
    return [match.group(0).replace("’", "'") for match in _WORD.finditer(fold(text))]


@lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    """A light, deterministic suffix stripper: ``tests``/``testing``/``tested`` -> ``test``.

    Not a linguistic stemmer; it only has to map both sides of a comparison the same way."""
    word = word.replace("'", "")
    if word.endswith("ise") or word.endswith("yse"):
        word = word[:-2] + "ze"
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]  # "mapp(ing)" -> "map", "runn(ing)" -> "run"
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]  # "analyze"/"analyz(ed)", "responsive"/"responsiv(e)"
    return word


def content_stems(text: str, *, extra_stopwords: frozenset[str] = frozenset()) -> list[str]:
    """Stems of the words of ``text`` that carry meaning (stop words and numbers dropped)."""
    return [
        stem(word)
        for word in words(text)
        if word not in STOPWORDS and word not in extra_stopwords and not word.isdigit() and len(word) > 1
    ]


def all_stems(text: str) -> list[str]:
    """Stems of every word of ``text`` in order (for n-gram comparisons)."""
    return [stem(word) for word in words(text)]


def stems_match(a: str, b: str) -> bool:
    """Two stems name the same idea: equal, or long and sharing all but their last two letters."""
    if a == b:
        return True
    shorter = min(len(a), len(b))
    if shorter < 5:
        return False
    prefix = max(5, shorter - 2)
    return a[:prefix] == b[:prefix]


class StemIndex:
    """The stems of a text, for fast ``contains`` checks with :func:`stems_match` semantics."""

    def __init__(self, stems: list[str]) -> None:
        self.stems = set(stems)
        self._by_prefix: dict[str, set[str]] = {}
        for item in self.stems:
            if len(item) >= 5:
                self._by_prefix.setdefault(item[:5], set()).add(item)

    def __contains__(self, wanted: object) -> bool:
        if not isinstance(wanted, str):
            return False
        if wanted in self.stems:
            return True
        if len(wanted) < 5:
            return False
        return any(stems_match(wanted, candidate) for candidate in self._by_prefix.get(wanted[:5], ()))


def sentences(text: str) -> list[str]:
    """``text`` split into sentences and lines (empty ones dropped)."""
    return [part.strip() for part in _SENTENCE_END.split(text) if part and part.strip()]


@dataclass(frozen=True)
class Passage:
    """A few consecutive sentences of one evidence item: the unit that is scored and quoted."""

    item_id: str
    index: int
    text: str
    locator: str | None = None

    @property
    def word_count(self) -> int:
        return len(words(self.text))


def passages(item_id: str, text: str, *, max_words: int = 50, locator: str | None = None) -> list[Passage]:
    """Group the sentences of each paragraph of ``text`` (paragraphs end at a blank line) into
    passages of at most ``max_words`` words (a longer sentence is a passage on its own)."""
    result: list[Passage] = []
    for paragraph in re.split(r"\n\s*\n", text):
        current: list[str] = []
        count = 0
        for sentence in sentences(paragraph):
            size = len(words(sentence))
            if current and count + size > max_words:
                result.append(Passage(item_id, len(result), " ".join(current), locator))
                current, count = [], 0
            current.append(sentence)
            count += size
        if current:
            result.append(Passage(item_id, len(result), " ".join(current), locator))
    return result


def shorten(text: str, limit: int = 160) -> str:
    """``text`` on one line, cut at ``limit`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"
