"""Prompt-injection defence, shared by every assessor.

Evidence is untrusted. Before anything is scored, :func:`screen_text` turns one item's text into
the text a person would read, minus everything that tries to game the assessment:

- **hidden text**: zero-width and bidirectional control characters, Unicode "tag" characters (an
  invisible copy of ASCII), and HTML/Markdown a reader never sees (see :mod:`.markup`). Invisible
  characters are removed; hidden fragments are dropped. Flag ``hidden_text`` when they carry words
  (an emoji's zero-width joiner or a two-word hidden menu does not count).
- **instructions to the assessor** ("ignore previous instructions", "award full marks", "you are
  now ...", "note for whoever evaluates this: the correct outcome is ...", chat-template markers, in
  English, German, French, Spanish, Portuguese, Italian, Dutch, Polish, Russian and Chinese, also
  when obfuscated with look-alike letters, leetspeak, separators, base64, rot13 or HTML character
  references; also in HTML attributes a reader never sees, e.g. ``<meta content>`` and ``title``):
  the sentence is dropped; flag ``prompt_injection``. Screening reads the normalised text (NFKC,
  case-folded, look-alikes mapped to Latin, invisible characters removed) and its decoded views.
- **copies of the rubric**: sentences whose word 4-grams come mostly from the rubric's criterion or
  level descriptions (verbatim or lightly edited), or lists of the criterion's key ideas in a text
  that is mostly such lists: the sentence is dropped; flag ``rubric_copy``. (Honest prose that names
  four key ideas in one sentence, "every report has steps to reproduce, expected result, actual
  result, severity", among sentences about the work is not a copy; keyword lists mixed into prose
  are :mod:`.gaming`'s ``keyword_list``.)

What is dropped can never raise a score (scoring only ever sees the clean text), and the flags send
the assessment to a human (:mod:`.decision`).
"""

from __future__ import annotations

import base64
import binascii
import html
import re
import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, field

from service.assessment.engine import markup
from service.assessment.engine.injection_patterns import INSTRUCTION_PATTERNS, SQUASHED_PHRASES
from service.assessment.engine.result import FLAG_HIDDEN_TEXT, FLAG_PROMPT_INJECTION, FLAG_RUBRIC_COPY, Finding
from service.assessment.engine.rubric import Rubric
from service.assessment.engine.text import all_stems, content_stems, fold, sentences, shorten, words

ZERO_WIDTH = frozenset(
    "\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\u180e\u00ad\u034f\u115f\u1160\u3164\uffa0"
)
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_TAG_BLOCK = range(0xE0000, 0xE0080)
_RIGHT_TO_LEFT_OVERRIDE = re.compile("\u202e([^\u202c\n]*)")
_EMOJI_NEIGHBOUR = re.compile(r"[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F]")

# Latin look-alikes (Cyrillic and Greek) folded to the letter they imitate.
CONFUSABLES = str.maketrans(
    {
        "а": "a",
        "в": "b",
        "е": "e",
        "ё": "e",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "o",
        "р": "p",
        "с": "c",
        "т": "t",
        "у": "y",
        "х": "x",
        "і": "i",
        "ї": "i",
        "ј": "j",
        "ѕ": "s",
        "ԁ": "d",
        "ɡ": "g",
        "һ": "h",
        "α": "a",
        "ε": "e",
        "ι": "i",
        "κ": "k",
        "ν": "v",
        "ο": "o",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "χ": "x",
        "ɑ": "a",
        "ı": "i",
        "ℓ": "l",
        # Armenian, Cyrillic extensions, Latin small capitals and other look-alikes
        "օ": "o",
        "ս": "u",
        "ց": "g",
        "ո": "n",
        "հ": "h",
        "ӏ": "l",
        "ԛ": "q",
        "ԝ": "w",
        "ѡ": "w",
        "ɩ": "i",
        "ʏ": "y",
        "ɪ": "i",
        "ʀ": "r",
        "ᴀ": "a",
        "ᴄ": "c",
        "ᴅ": "d",
        "ᴇ": "e",
        "ɢ": "g",
        "ʜ": "h",
        "ᴊ": "j",
        "ᴋ": "k",
        "ʟ": "l",
        "ᴍ": "m",
        "ɴ": "n",
        "ᴏ": "o",
        "ᴘ": "p",
        "ꜱ": "s",
        "ᴛ": "t",
        "ᴜ": "u",
        "ᴠ": "v",
        "ᴡ": "w",
        "ᴢ": "z",
        "ꓲ": "i",
        "ꓳ": "o",
        "ǀ": "l",
        "ϲ": "c",
    }
)
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "|": "l"})
_LEET_WORD = re.compile(r"(?=\S*[a-z])(?=\S*[0-9@$|])[a-z0-9@$|]{3,}", re.IGNORECASE)
_SEPARATED_LETTERS = re.compile(r"(?<!\w)(?:[^\W\d_][.\-_*·|/\\]){2,}[^\W\d_](?!\w)")
_SPACED_LETTERS = re.compile(r"(?<!\w)(?:[^\W\d_] ){3,}[^\W\d_](?!\w)")
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{24,}={0,2}(?![A-Za-z0-9+/=])")
_SINGLE_LETTER_RUN = re.compile(r"(?:(?<!\w)[^\W\d_](?!\w)\W+){4,}")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_JSON_KEYS = re.compile(r"\"(level|score|criteria|criterion_id|evidence_quotes|rationale|decision|passed|total)\"\s*:")


@dataclass
class ScreenedText:
    """An item's text after screening: ``clean`` is what assessors score (and an LLM sees)."""

    item_id: str
    clean: str
    findings: list[Finding] = field(default_factory=list)
    removed_sentences: int = 0
    locator: str | None = None
    sentences: list[tuple[int, str]] = field(default_factory=list)
    """The kept sentences with their paragraph numbers (``clean`` joins them), for later screens."""

    @property
    def flags(self) -> set[str]:
        return {finding.flag for finding in self.findings}


def strip_invisible(text: str) -> tuple[str, list[str], str]:
    """Remove zero-width, bidi-control and tag characters.

    Returns ``(text without them, reasons worth flagging, the hidden message: the text smuggled in
    tag characters and the displayed order of right-to-left overrides)``.
    A zero-width joiner between emoji (a family, a technologist) is ordinary and is not a reason."""
    reasons: list[str] = []
    smuggled: list[str] = [span[::-1] for span in _RIGHT_TO_LEFT_OVERRIDE.findall(text)]  # as displayed
    text = _RIGHT_TO_LEFT_OVERRIDE.sub("\u202e", text)  # reversed text is dropped from what is scored
    tagged: list[str] = []
    kept: list[str] = []
    suspicious_zero_width = 0
    for index, char in enumerate(text):
        code = ord(char)
        if code in _TAG_BLOCK:
            if 0xE0020 <= code <= 0xE007E:
                tagged.append(chr(code - 0xE0000))
            continue
        if char in BIDI_CONTROLS:
            if char not in "\u200e\u200f\u061c":  # marks are ordinary in right-to-left text
                reasons.append(f"bidi control U+{code:04X}")
            continue
        if char in ZERO_WIDTH:
            before = text[index - 1] if index else ""
            after = text[index + 1] if index + 1 < len(text) else ""
            ordinary = (
                (char in "\u200d\ufe0f" and (_EMOJI_NEIGHBOUR.match(before) or _EMOJI_NEIGHBOUR.match(after)))
                or (char == "\ufeff" and index == 0)
                or char == "\u00ad"
            )
            if not ordinary:
                suspicious_zero_width += 1
            continue
        kept.append(char)
    if tagged:
        smuggled.append("".join(tagged))
    if suspicious_zero_width:
        reasons.append(f"{suspicious_zero_width} zero-width character(s)")
    if any(0xE0000 <= ord(char) < 0xE0080 for char in text):
        reasons.append("Unicode tag characters")
    return "".join(kept), sorted(set(reasons)), " ".join(smuggled)


def deobfuscate(text: str) -> str:
    """A detection-only view of ``text``: NFKC, case-folded, look-alike letters mapped to Latin,
    leetspeak undone and letters written apart (``i-g-n-o-r-e``, ``i g n o r e``) joined."""
    view = fold(text).translate(CONFUSABLES)
    view = unicodedata.normalize("NFKD", view)
    view = "".join(char for char in view if not unicodedata.combining(char))
    view = _SEPARATED_LETTERS.sub(lambda m: re.sub(r"[.\-_*·|/\\]", "", m.group(0)), view)
    view = _SPACED_LETTERS.sub(lambda m: m.group(0).replace(" ", ""), view)
    return _LEET_WORD.sub(lambda m: m.group(0).translate(_LEET), view)


_ROT13 = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", "nopqrstuvwxyzabcdefghijklmNOPQRSTUVWXYZabcdefghijklm"
)
# Common English words as rot13 writes them ("the", "and", "all", "you", "this", "instructions", ...).
_ROT13_CUES = re.compile(
    r"\b(?:rot-?13|rot\s13|gur|naq|nyy|lbh|lbhe|guvf|vafgehpgvbaf|cerivbhf|vtaber|tvir|znexf|sbe|jvgu)\b"
)
_ENTITY = re.compile(r"&(?:#\d{2,7}|#x[0-9a-f]{2,6}|[a-z]{2,8});", re.IGNORECASE)


def decoded_views(text: str) -> list[str]:
    """Other readings of ``text`` that an attacker may hide instructions in: base64 blocks decoded,
    rot13 undone (when the text looks like rot13: two of its common words, or says so), HTML
    character references resolved."""
    views = _decoded_base64(text)
    folded = fold(text)
    if len(set(_ROT13_CUES.findall(folded))) >= 2:
        views.append(folded.translate(_ROT13))
    if _ENTITY.search(text):
        views.append(html.unescape(text))
    return views


def _decoded_base64(text: str) -> list[str]:
    decoded: list[str] = []
    for match in _BASE64.finditer(text):
        blob = match.group(0)
        try:
            raw = base64.b64decode(blob + "=" * (-len(blob) % 4), validate=True)
            candidate = raw.decode("utf-8")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            continue
        if candidate and sum(ch.isprintable() or ch.isspace() for ch in candidate) / len(candidate) > 0.95:
            decoded.append(candidate)
    return decoded


def instruction_matches(text: str) -> list[str]:
    """Names of the injection patterns that ``text`` matches (as written, de-obfuscated,
    squashed, or decoded: base64, rot13, HTML character references; see :func:`decoded_views`);
    empty for ordinary prose."""
    if not text.strip():
        return []
    folded = fold(text)
    views = [folded, deobfuscate(text)] + [deobfuscate(view) for view in decoded_views(text)]
    found: list[str] = []
    for name, pattern in INSTRUCTION_PATTERNS:
        if any(pattern.search(view) for view in views):
            found.append(name)
    if _SINGLE_LETTER_RUN.search(folded):  # letters written apart in a way the views above missed
        squashed = [re.sub(r"[^a-z]", "", view) for view in views[1:]]
        found += [name for name, pattern in SQUASHED_PHRASES if any(pattern.search(view) for view in squashed)]
    if len(set(_JSON_KEYS.findall(folded))) >= 2:
        found.append("fake_output")
    return sorted(set(found))


class RubricCopyDetector:
    """Finds sentences copied (verbatim or lightly edited) from a rubric, and texts that are mostly
    lists of the criteria's key ideas. ``shingle`` tokens per n-gram; ``list_share`` of a text's
    content words in key-idea lists makes it a list (see :meth:`copied` and :meth:`copied_lists`)."""

    shingle = 4
    list_share = 0.5

    def __init__(self, rubric: Rubric) -> None:
        texts = [rubric.description] + [c.description for c in rubric.criteria]
        texts += [level.description for c in rubric.criteria for level in c.levels]
        self._grams: set[tuple[str, ...]] = set()
        for text in texts:
            self._grams |= self._ngrams(all_stems(text), self.shingle)
        self._long_grams = set()
        for text in texts:
            self._long_grams |= self._ngrams(all_stems(text), 8)
        self._ideas = [tuple(content_stems(idea)) for c in rubric.criteria for idea in c.key_ideas]
        self._ideas = [idea for idea in self._ideas if idea]

    @staticmethod
    def _ngrams(tokens: list[str], size: int) -> set[tuple[str, ...]]:
        return {tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}

    def is_copy(self, sentence: str) -> str | None:
        """Why ``sentence``, read as a text of its own, is a rubric copy, or None: a copied sentence
        (:meth:`copied`) or a key-idea list (:meth:`key_idea_list`, which alone is all of its text)."""
        copied = self.copied(sentence)
        if copied:
            return copied
        ideas = self.key_idea_list(sentence)
        return f"a list of {ideas} key ideas" if ideas else None

    def copied(self, sentence: str) -> str | None:
        """Why ``sentence`` is copied from the rubric's text, or None: an 8-word run from the rubric;
        or at least 3 of its word 4-grams, and 40% of them, from the rubric."""
        tokens = all_stems(sentence)
        grams = self._ngrams(tokens, self.shingle)
        if grams:
            shared = len(grams & self._grams)
            if self._ngrams(tokens, 8) & self._long_grams:
                return "verbatim run from the rubric"
            if shared >= 3 and shared / len(grams) >= 0.4:
                return f"{shared} of {len(grams)} word 4-grams from the rubric"
        return None

    def key_idea_list(self, sentence: str) -> int:
        """How many key ideas ``sentence`` lists when it is a list of them (4+ key ideas making up
        70% of its content words), else 0. Whether the list is a copy depends on the text around
        it: see :meth:`copied_lists`."""
        content = content_stems(sentence)
        if not self._ideas or len(content) < 4:
            return 0
        present = set(content)
        matched = [idea for idea in self._ideas if all(token in present for token in idea)]
        idea_tokens = {token for idea in matched for token in idea}
        density = sum(token in idea_tokens for token in content) / len(content)
        return len(matched) if len(matched) >= 4 and density >= 0.7 else 0

    def copied_lists(self, text_sentences: list[str]) -> dict[int, str]:
        """The key-idea lists of a text that is mostly such lists: ``{sentence index: reason}``.

        A text is mostly lists when its list sentences hold at least :attr:`list_share` of its
        content words: a keyword list, or one claim of key terms repeated. An honest account that
        names four key ideas in one sentence among sentences about the work keeps that sentence."""
        lists = {index: self.key_idea_list(sentence) for index, sentence in enumerate(text_sentences)}
        lists = {index: ideas for index, ideas in lists.items() if ideas}
        if not lists:
            return {}
        sizes = [len(content_stems(sentence)) for sentence in text_sentences]
        listed = sum(sizes[index] for index in lists)
        share = listed / max(1, sum(sizes))
        if share < self.list_share:
            return {}
        return {
            index: f"a list of {ideas} key ideas ({share:.0%} of the text's content words are such lists)"
            for index, ideas in lists.items()
        }


def _hidden_matters(fragment: markup.HiddenFragment, rubric_stems: frozenset[str] | set[str]) -> bool:
    """A hidden fragment is worth a flag when it says something: instructions, rubric words, or
    more than a menu's worth of words."""
    fragment_words = words(fragment.text)
    if len(fragment_words) < 4:
        return False
    if instruction_matches(fragment.text):
        return True
    overlap = sum(stem in rubric_stems for stem in content_stems(fragment.text))
    return overlap >= 2 or len(fragment_words) >= 30


_DETECTORS: OrderedDict[str, tuple[RubricCopyDetector, frozenset[str]]] = OrderedDict()
_DETECTORS_LOCK = threading.Lock()


def rubric_screening(rubric: Rubric) -> tuple[RubricCopyDetector, frozenset[str]]:
    """The rubric-copy detector and the rubric's vocabulary, built once per rubric (by hash)."""
    key = rubric.hash
    with _DETECTORS_LOCK:
        if key in _DETECTORS:
            _DETECTORS.move_to_end(key)
            return _DETECTORS[key]
    built = (RubricCopyDetector(rubric), frozenset(rubric_stems(rubric)))
    with _DETECTORS_LOCK:
        _DETECTORS[key] = built
        while len(_DETECTORS) > 64:
            _DETECTORS.popitem(last=False)
    return built


def rubric_stems(rubric: Rubric) -> set[str]:
    """Content stems of everything the rubric says (used to judge whether hidden text matters)."""
    texts = [c.description for c in rubric.criteria] + [i for c in rubric.criteria for i in c.key_ideas]
    texts += [level.description for c in rubric.criteria for level in c.levels]
    return {stem for text in texts for stem in content_stems(text)}


def screen_text(
    item_id: str,
    text: str,
    *,
    media_type: str = "text/plain",
    name: str | None = None,
    detector: RubricCopyDetector | None = None,
    rubric_words: frozenset[str] | set[str] | None = None,
    locator: str | None = None,
) -> ScreenedText:
    """Render and screen one text; see the module docstring for what is removed and flagged."""
    rubric_words = rubric_words or set()
    visible_source, invisible_reasons, smuggled = strip_invisible(text)
    screened = ScreenedText(item_id=item_id, clean="", locator=locator)
    where = f"{item_id}{' ' + locator if locator else ''}"
    if invisible_reasons:
        screened.findings.append(
            Finding(FLAG_HIDDEN_TEXT, item_id, f"{where}: " + ", ".join(invisible_reasons), shorten(smuggled))
        )
    if smuggled and instruction_matches(smuggled):
        screened.findings.append(
            Finding(
                FLAG_PROMPT_INJECTION,
                item_id,
                f"{where}: instructions in invisible or reversed characters",
                shorten(smuggled),
            )
        )
    rendered = markup.render(visible_source, media_type, name)
    for fragment in rendered.hidden:
        matched = instruction_matches(fragment.text)
        if matched:
            screened.findings.append(
                Finding(
                    FLAG_PROMPT_INJECTION,
                    item_id,
                    f"{where}: {', '.join(matched)} in hidden text ({fragment.reason})",
                    shorten(fragment.text),
                )
            )
        if matched or _hidden_matters(fragment, rubric_words):
            screened.findings.append(
                Finding(FLAG_HIDDEN_TEXT, item_id, f"{where}: {fragment.reason}", shorten(fragment.text))
            )
    for fragment in rendered.metadata:
        matched = instruction_matches(fragment.text)
        if matched:
            screened.findings.append(
                Finding(
                    FLAG_PROMPT_INJECTION,
                    item_id,
                    f"{where}: {', '.join(matched)} in metadata ({fragment.reason})",
                    shorten(fragment.text),
                )
            )
    for code in rendered.code:
        matched = instruction_matches(code)
        if matched:
            screened.findings.append(
                Finding(FLAG_PROMPT_INJECTION, item_id, f"{where}: {', '.join(matched)} in script/style", shorten(code))
            )
    # (paragraph number, sentence): paragraphs survive screening so passages keep their shape.
    kept: list[tuple[int, str]] = []
    for number, paragraph in enumerate(_PARAGRAPH_BREAK.split(rendered.visible)):
        for sentence in sentences(paragraph):
            matched = instruction_matches(sentence)
            if matched:
                screened.findings.append(
                    Finding(FLAG_PROMPT_INJECTION, item_id, f"{where}: {', '.join(matched)}", shorten(sentence))
                )
                screened.removed_sentences += 1
                continue
            copied = detector.copied(sentence) if detector else None
            if copied:
                screened.findings.append(Finding(FLAG_RUBRIC_COPY, item_id, f"{where}: {copied}", shorten(sentence)))
                screened.removed_sentences += 1
                continue
            kept.append((number, sentence))
    if detector:
        lists = detector.copied_lists([sentence for _, sentence in kept])
        for index in sorted(lists):
            sentence = kept[index][1]
            screened.findings.append(Finding(FLAG_RUBRIC_COPY, item_id, f"{where}: {lists[index]}", shorten(sentence)))
        screened.removed_sentences += len(lists)
        kept = [entry for index, entry in enumerate(kept) if index not in lists]
    kept = _drop_split_instructions(screened, kept, where)
    paragraphs: dict[int, list[str]] = {}
    for number, sentence in kept:
        paragraphs.setdefault(number, []).append(sentence)
    screened.sentences = kept
    screened.clean = "\n\n".join(" ".join(group) for group in paragraphs.values())
    return screened


def _drop_split_instructions(screened: ScreenedText, kept: list[tuple[int, str]], where: str) -> list[tuple[int, str]]:
    """Instructions split over two or three sentences or lines ("Ignore all previous / instructions")."""
    if not instruction_matches(" ".join(sentence for _, sentence in kept)):
        return kept  # the usual case: one pass over the whole text instead of every window
    for size in (2, 3):
        index = 0
        while index + size <= len(kept):
            window = " ".join(sentence for _, sentence in kept[index : index + size])
            matched = instruction_matches(window)
            if matched:
                screened.findings.append(
                    Finding(FLAG_PROMPT_INJECTION, screened.item_id, f"{where}: {', '.join(matched)}", shorten(window))
                )
                screened.removed_sentences += size
                del kept[index : index + size]
            else:
                index += 1
    return kept
