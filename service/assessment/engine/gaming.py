"""Evidence that is not prose or work gets no credit for its words.

:func:`screen_gaming` runs on every screened text (after :mod:`.injection`) and, with the measured
signal in each finding's reason:

- **keyword lists and word salad** (``keyword_list``): a "sentence" of 6+ words that is a bare list
  of the rubric's words (>= 60% of its content words, function words < 10%), or has no verb and is
  a list (>= 65% rubric words, function words < 20%) or salad (15+
  words, >= 80% rubric words, function words < 35%). Dropped from what is scored.
- **repetition and padding** (``repetition``): repeated sentences (5+ words, after the first) are
  dropped; the text is flagged when 20%+ of its word 5-grams repeat (30+ words), when it compresses
  below 0.30 of its size with zlib (600+ characters), when its lexical diversity (moving type-token
  ratio over 50 words) is at most 0.40 (60+ words), or when 20+ words were repeated sentences.
- **boilerplate** (``boilerplate``): generic claims that would fit any submission: at least three
  sentences, and 75% of them, make a stock claim ("passionate", "attention to detail", "best
  practices", ...) without a single specific, in a text of 30+ words with at most two specifics
  (numbers, names, identifiers; see :func:`.signals.specific_tokens`).
- **off-topic text** (``off_topic``), lexical, for the submitter's own account (text items and
  testimonials; a work sample may be about anything, and so may a text dense with specifics, 4+
  per 100 words): 60+ words of which fewer than 4% of the distinct
  content words, and fewer than three, are the rubric's. (The offline assessor adds a semantic check
  with the embedding model: :mod:`.semantic`.)

The thresholds leave every honest sample of the labelled set unflagged (see
``tests/assessment/engine/test_gaming_signals.py``).
"""

from __future__ import annotations

import re

from service.assessment.engine.injection import ScreenedText
from service.assessment.engine.result import (
    FLAG_BOILERPLATE,
    FLAG_KEYWORD_LIST,
    FLAG_OFF_TOPIC,
    FLAG_REPETITION,
    Finding,
)
from service.assessment.engine.signals import (
    compression_ratio,
    function_word_share,
    has_verb,
    lexical_diversity,
    repeated_ngram_share,
    specific_tokens,
)
from service.assessment.engine.text import all_stems, content_stems, sentences, shorten, stem, words

KEYWORD_MIN_WORDS, KEYWORD_DENSITY, KEYWORD_FUNCTION_SHARE = 6, 0.65, 0.2
BARE_LIST_DENSITY, BARE_LIST_FUNCTION_SHARE = 0.6, 0.1
SALAD_MIN_WORDS, SALAD_DENSITY, SALAD_FUNCTION_SHARE = 15, 0.8, 0.35
REPEATED_SHARE, REPEAT_MIN_WORDS = 0.2, 30
COMPRESSION_MAX, COMPRESSION_MIN_CHARS = 0.30, 600
DIVERSITY_MAX, DIVERSITY_MIN_WORDS = 0.40, 60
DUPLICATE_MIN_WORDS, DUPLICATED_WORDS_FLAG = 5, 20
BOILERPLATE_MIN_SENTENCES, BOILERPLATE_SHARE, BOILERPLATE_MAX_SPECIFICS, BOILERPLATE_MIN_WORDS = 3, 0.75, 2, 30
OFF_TOPIC_MIN_WORDS, OFF_TOPIC_SHARE, OFF_TOPIC_MAX_TERMS = 60, 0.04, 3
WORK_SAMPLE_SPECIFICS = 4.0  # specific tokens per 100 words: a manual or a report, not padding

# Stock claims: what a profile says when it has nothing specific to say.
_GENERIC = re.compile(
    r"\b(?:passion(?:ate)?|fast\s+learner|quick\s+learner|team\s+player|attention\s+to\s+detail|detail[- ]oriented|"
    r"hard[- ]?working|results?[- ]driven|self[- ]motivated|best\s+practices?|high[- ]quality|top[- ]quality|"
    r"cutting[- ]edge|state[- ]of[- ]the[- ]art|world[- ]class|innovative|proven\s+track\s+record|"
    r"track\s+record|years\s+of\s+experience|extensive\s+experience|wide\s+range|variety\s+of|"
    r"strong\s+(?:skills|background|knowledge|understanding|communication)|excellent\s+(?:skills|communication)|"
    r"deliver(?:s|ed|ing)?\s+(?:on\s+time|results|value|quality|solutions)|exceed(?:s|ed|ing)?\s+expectations|"
    r"above\s+and\s+beyond|outside\s+the\s+box|customer\s+satisfaction|satisfied\s+(?:clients|customers)|"
    r"(?:clients|customers)\s+(?:are|were)\s+(?:always\s+)?(?:happy|satisfied)|dedicated|committed\s+to|"
    r"dynamic|synerg\w*|seamless\w*|robust\s+solutions|tailored\s+solutions|end[- ]to[- ]end\s+solutions|"
    r"(?:i\s+am|i'm)\s+(?:an?\s+)?(?:expert|skilled|proficient|experienced|highly|very)|"
    r"central\s+to\s+my\s+work|(?:i|we)\s+always|i\s+(?:love|enjoy)|(?:is|are)\s+(?:key|essential|crucial)\b)",
    re.IGNORECASE,
)


def _normalised(sentence: str) -> str:
    return " ".join(all_stems(sentence))


def keyword_list_reason(sentence: str, vocabulary: frozenset[str] | set[str]) -> str | None:
    """Why ``sentence`` is a keyword list or word salad of rubric terms, or None."""
    tokens = words(sentence)
    content = content_stems(sentence)
    if len(tokens) < KEYWORD_MIN_WORDS or not content:
        return None
    density = sum(token in vocabulary for token in content) / len(content)
    function_share = function_word_share(tokens)
    if density >= BARE_LIST_DENSITY and function_share < BARE_LIST_FUNCTION_SHARE:
        return (
            f"{len(tokens)} words, rubric keyword density {density:.0%} (>= {BARE_LIST_DENSITY:.0%}), "
            f"function words {function_share:.0%}"
        )
    if has_verb(tokens):
        return None
    terse = density >= KEYWORD_DENSITY and function_share < KEYWORD_FUNCTION_SHARE
    salad = len(tokens) >= SALAD_MIN_WORDS and density >= SALAD_DENSITY and function_share < SALAD_FUNCTION_SHARE
    if terse or salad:
        return (
            f"{len(tokens)} words without a verb, rubric keyword density {density:.0%} (>= {KEYWORD_DENSITY:.0%}), "
            f"function words {function_share:.0%}"
        )
    return None


def screen_gaming(screened: ScreenedText, vocabulary: frozenset[str] | set[str], *, narrative: bool = True) -> None:
    """Flag (in ``screened.findings``) and drop (from ``screened.clean``) what games the scoring.

    ``narrative``: the text is the submitter's own account (a text item or a testimonial), which
    must be on topic; a work sample (a file, a page, a README) may be about anything (a manual
    written for a technical-writing rubric is about the product), so it is not checked for topic."""
    where = f"{screened.item_id}{' ' + screened.locator if screened.locator else ''}"
    original = "\n".join(sentence for _, sentence in screened.sentences)  # one sentence a line
    if not original.strip():
        return
    seen: set[str] = set()
    duplicated_words = 0
    salad: list[tuple[str, str]] = []
    kept: list[tuple[int, str]] = []
    for number, sentence in screened.sentences:
        size = len(words(sentence))
        key = _normalised(sentence)
        if size >= DUPLICATE_MIN_WORDS and key in seen:
            duplicated_words += size
            continue
        seen.add(key)
        reason = keyword_list_reason(sentence, vocabulary)
        if reason:
            salad.append((sentence, reason))
            continue
        kept.append((number, sentence))
    screened.sentences = kept
    paragraphs: dict[int, list[str]] = {}
    for number, sentence in kept:
        paragraphs.setdefault(number, []).append(sentence)
    screened.clean = "\n\n".join(" ".join(group) for group in paragraphs.values())
    if salad:
        sentence, reason = salad[0]
        screened.findings.append(
            Finding(FLAG_KEYWORD_LIST, screened.item_id, f"{where}: keyword list: {reason}", shorten(sentence))
        )
    repetition = _repetition_reason(original, duplicated_words)
    if repetition:
        screened.findings.append(
            Finding(FLAG_REPETITION, screened.item_id, f"{where}: repetition: {repetition}", shorten(original))
        )
    boilerplate = _boilerplate_reason(original, vocabulary)
    if boilerplate:
        screened.findings.append(
            Finding(FLAG_BOILERPLATE, screened.item_id, f"{where}: boilerplate: {boilerplate}", shorten(original))
        )
    off_topic = _off_topic_reason(original, vocabulary) if narrative else None
    if off_topic:
        screened.findings.append(
            Finding(FLAG_OFF_TOPIC, screened.item_id, f"{where}: off-topic: {off_topic}", shorten(original))
        )


def _repetition_reason(text: str, duplicated_words: int) -> str | None:
    tokens = words(text)
    if duplicated_words >= DUPLICATED_WORDS_FLAG:
        return f"{duplicated_words} words in repeated sentences (>= {DUPLICATED_WORDS_FLAG})"
    if len(tokens) >= REPEAT_MIN_WORDS:
        share = repeated_ngram_share(all_stems(text))
        if share >= REPEATED_SHARE:
            return f"{share:.0%} of word 5-grams repeated (>= {REPEATED_SHARE:.0%})"
    if len(text) >= COMPRESSION_MIN_CHARS:
        ratio = compression_ratio(text)
        if ratio <= COMPRESSION_MAX:
            return f"zlib compression ratio {ratio:.2f} (<= {COMPRESSION_MAX:.2f})"
    if len(tokens) >= DIVERSITY_MIN_WORDS:
        diversity = lexical_diversity([stem(token) for token in tokens])
        if diversity <= DIVERSITY_MAX:
            return f"lexical diversity {diversity:.2f} (<= {DIVERSITY_MAX:.2f})"
    return None


def _boilerplate_reason(text: str, vocabulary: frozenset[str] | set[str]) -> str | None:
    if len(words(text)) < BOILERPLATE_MIN_WORDS:
        return None
    specifics = specific_tokens(text, vocabulary)
    if len(specifics) > BOILERPLATE_MAX_SPECIFICS:
        return None
    counted = [s for s in sentences(text) if len(words(s)) >= 3]
    generic = [s for s in counted if _GENERIC.search(s) and not specific_tokens(s, vocabulary)]
    if len(generic) >= BOILERPLATE_MIN_SENTENCES and len(generic) / len(counted) >= BOILERPLATE_SHARE:
        return (
            f"{len(generic)} of {len(counted)} sentences are stock claims (>= {BOILERPLATE_SHARE:.0%}), "
            f"{len(specifics)} specific detail(s) (<= {BOILERPLATE_MAX_SPECIFICS})"
        )
    return None


def looks_like_a_work_sample(text: str, vocabulary: frozenset[str] | set[str]) -> bool:
    """Dense with specifics (>= 4 per 100 words: part numbers, measurements, names): a work sample
    in another domain (a manual for a writing rubric), which topic checks leave alone."""
    count = len(words(text))
    return bool(count) and 100 * len(specific_tokens(text, vocabulary)) / count >= WORK_SAMPLE_SPECIFICS


def _off_topic_reason(text: str, vocabulary: frozenset[str] | set[str]) -> str | None:
    if len(words(text)) < OFF_TOPIC_MIN_WORDS or looks_like_a_work_sample(text, vocabulary):
        return None
    distinct = set(content_stems(text))
    if not distinct:
        return None
    matched = distinct & set(vocabulary)
    share = len(matched) / len(distinct)
    if share < OFF_TOPIC_SHARE and len(matched) < OFF_TOPIC_MAX_TERMS:
        return (
            f"{len(matched)} of {len(distinct)} distinct content words are the rubric's "
            f"({share:.0%} < {OFF_TOPIC_SHARE:.0%})"
        )
    return None
