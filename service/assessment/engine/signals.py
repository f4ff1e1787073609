"""Measures of what a text *is*, before what it says is scored: prose or a keyword list, new words
or the same ones again, specifics or boilerplate.

Everything here is lexical, deterministic and cheap (no model): :mod:`.gaming` turns the measures
into flags, and :mod:`.scoring` uses :func:`specific_tokens` and :func:`novel_stems` for depth.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from dataclasses import dataclass

from service.assessment.engine.text import STOPWORDS, all_stems, content_stems, sentences, stem, words

# A finite verb is likely when a sentence has one of these (auxiliaries, common verbs of a work
# narrative), a word in -ed, or a subject pronoun followed by another word.
_VERB_WORDS = frozenset(
    """
am is are was were be been being has have had do does did can could will would shall should may might must
got made built wrote written ran gave kept went came saw found knew thought led grew rose fell began took
brought taught sold spent chose drew
""".split()
)
# Common verbs of a work narrative, recognised with -s, -es, -ed and -ing too.
_VERB_STEMS = frozenset(
    """
add analyse analyze audit build call change check clean compare create cut deliver deploy design
drop find fix get give go help improve keep lead learn load make measure move need plan publish reduce
remove replace report review rewrite run see send set ship show speak split start stop test track try
turn use validate want work write
""".split()
)
_SUBJECTS = frozenset("i we he she they it you".split())
_WORD_OR_TOKEN = re.compile(r"\S+")
_NUMBER = re.compile(r"^[~<>≈]?\d[\d.,:/x%×-]*(?:[a-zµ%]{0,3})$", re.IGNORECASE)
_IDENTIFIER = re.compile(
    r"^(?:[a-z]+[A-Z]\w*|\w+_\w+|[\w-]+\.(?:[a-z]{1,5})|[\w.-]*/[\w./-]+|@[\w-]+|#[\w-]+|`[^`]+`|https?://\S+)$"
)
_EDGE = re.compile(r"^[\"'“”‘’(\[{<*_]+|[\"'“”‘’)\]}>*_.,;:!?]+$")
_CAPITALISED = re.compile(r"^[A-Z][A-Za-z0-9+#.-]*[A-Za-z0-9+#]$|^[A-Z]{2,}[0-9]*$")
# Capitalised words that name nothing specific.
_PLAIN_CAPITALS = frozenset(
    """
i i'm i've i'd i'll the a an my our this that these those it we he she they you your their monday tuesday
wednesday thursday friday saturday sunday january february march april may june july august september
october november december english ok
""".split()
)


def verb_sentence_share(text: str) -> tuple[float, int]:
    """``(share, count)``: of the sentences of at least three words, the share that look like they
    have a finite verb, and how many such sentences there are."""
    counted = 0
    with_verb = 0
    for sentence in sentences(text):
        tokens = words(sentence)
        if len(tokens) < 3:
            continue
        counted += 1
        if has_verb(tokens):
            with_verb += 1
    return (with_verb / counted if counted else 1.0), counted


def has_verb(tokens: list[str]) -> bool:
    """Do the folded words ``tokens`` look like they contain a finite verb? (A heuristic, no tagger.)"""
    for index, token in enumerate(tokens):
        if token in _VERB_WORDS or (len(token) >= 4 and token.endswith("ed")) or "'" in token:
            return True
        if token in _VERB_STEMS or any(
            token.endswith(suffix) and token[: -len(suffix)] in _VERB_STEMS for suffix in ("s", "es", "ing", "d")
        ):
            return True
        if token in _SUBJECTS and index + 1 < len(tokens) and tokens[index + 1] not in STOPWORDS:
            return True
    return False


def function_word_share(tokens: list[str]) -> float:
    """Share of ``tokens`` (folded words) that are function words: about 40-55% in English prose,
    under 10% in a keyword list."""
    return sum(token in STOPWORDS for token in tokens) / len(tokens) if tokens else 0.0


def repeated_ngram_share(tokens: list[str], size: int = 5) -> float:
    """Share of the word ``size``-grams of ``tokens`` that occur more than once (0 for prose that
    never repeats itself; 5/6 for a text written out six times)."""
    grams = [tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1)]
    if not grams:
        return 0.0
    counts = Counter(grams)
    return sum(count for count in counts.values() if count > 1) / len(grams)


def compression_ratio(text: str) -> float:
    """zlib-compressed size over raw size (UTF-8): about 0.4-0.6 for prose of a few hundred words,
    much lower for padded or repeated text."""
    raw = " ".join(text.split()).encode("utf-8")
    return round(len(zlib.compress(raw, 9)) / len(raw), 3) if raw else 1.0


def lexical_diversity(stems: list[str], window: int = 50) -> float:
    """Moving-average type-token ratio over ``window`` stems (independent of length; 1.0 when no
    word repeats, lower the more the same words come back)."""
    if not stems:
        return 1.0
    if len(stems) <= window:
        return len(set(stems)) / len(stems)
    counts = Counter(stems[:window])
    total = len(counts)
    for position in range(window, len(stems)):
        leaving = stems[position - window]
        counts[leaving] -= 1
        if not counts[leaving]:
            del counts[leaving]
        counts[stems[position]] += 1
        total += len(counts)
    return total / window / (len(stems) - window + 1)


def specific_tokens(text: str, vocabulary: frozenset[str] | set[str] = frozenset()) -> set[str]:
    """The distinct specific tokens of ``text``: numbers and measurements, identifiers (file names,
    paths, code, handles, URLs, camelCase and snake_case names) and names (capitalised words that do
    not start a sentence, acronyms), folded. Tokens whose stem is in ``vocabulary`` (the rubric's own
    words) do not count: naming the rubric's terms is not a specific."""
    found: set[str] = set()
    for sentence in sentences(text):
        for position, raw in enumerate(_WORD_OR_TOKEN.findall(sentence)):
            token = _EDGE.sub("", raw)
            if not token:
                continue
            folded = token.casefold()
            if _NUMBER.match(token) or _IDENTIFIER.match(token):
                found.add(folded)
            elif _CAPITALISED.match(token) and folded not in _PLAIN_CAPITALS and (position > 0 or token.isupper()):
                if stem(folded) not in vocabulary and folded not in STOPWORDS:
                    found.add(folded)
    return found


def novel_stems(text: str, vocabulary: frozenset[str] | set[str]) -> set[str]:
    """Distinct content stems of ``text`` that are not in ``vocabulary`` (what it says beyond the rubric)."""
    return {token for token in content_stems(text) if token not in vocabulary and len(token) > 2}


@dataclass(frozen=True)
class TextMeasures:
    """What :func:`measure` finds in one text (see each helper for the scale)."""

    words: int
    sentences: int
    verb_share: float
    function_share: float
    repeated_share: float
    compression: float
    diversity: float
    specifics: int


def measure(text: str, vocabulary: frozenset[str] | set[str] = frozenset()) -> TextMeasures:
    """All the measures of ``text`` at once."""
    tokens = words(text)
    verb_share, counted = verb_sentence_share(text)
    return TextMeasures(
        words=len(tokens),
        sentences=counted,
        verb_share=round(verb_share, 3),
        function_share=round(function_word_share(tokens), 3),
        repeated_share=round(repeated_ngram_share(all_stems(text)), 3),
        compression=compression_ratio(text),
        diversity=round(lexical_diversity([stem(t) for t in tokens]), 3),
        specifics=len(specific_tokens(text, vocabulary)),
    )
