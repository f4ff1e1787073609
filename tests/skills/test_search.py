"""Label search: case-, accent- and punctuation-insensitive word-prefix matching, ranked exact >
prefix > token, preferred label before alternative labels, stable ties, a limit."""

from __future__ import annotations

import pytest

from service.skills.esco import Skill
from service.skills.search import SkillIndex, normalize


def skill(n: int, label: str, *alternatives: str) -> Skill:
    return Skill(
        uri=f"http://data.europa.eu/esco/skill/{n:08d}-0000-4000-8000-000000000000",
        code=f"{n:08d}-0000-4000-8000-000000000000",
        label=label,
        alt_labels=alternatives,
        type=None,
        description="",
    )


SKILLS = [
    skill(1, "use spreadsheets software", "use spreadsheet programs", "Excel"),
    skill(2, "spreadsheets", "tabular data"),
    skill(3, "design spreadsheets"),
    skill(4, "manage budgets", "use spreadsheets for budgets"),
    skill(5, "Développement logiciel", "software development"),
    skill(6, "C++", "C plus plus"),
    skill(7, "C#"),
    skill(8, "spreadsheet modelling"),
    skill(9, "budget spreadsheets"),
    skill(10, "spreadsheets"),  # the same label as 2: ties go by URI
]


@pytest.fixture(scope="module")
def index() -> SkillIndex:
    return SkillIndex(SKILLS)


def labels(found):
    return [s.label for s in found]


def uris(found):
    return [s.uri[-36:-28] for s in found]


def test_normalize_folds_case_accents_and_punctuation_but_keeps_plus_and_hash():
    assert normalize("  Développement_Logiciel (v2)! ") == "developpement logiciel v2"
    assert normalize("C++ / C#") == "c++ c#"
    assert normalize("...") == ""


def test_exact_then_prefix_then_words_and_labels_before_alternative_labels(index):
    assert labels(index.search("spreadsheets", 20)) == [
        "spreadsheets",
        "spreadsheets",  # 1. the preferred label is the query
        "budget spreadsheets",
        "design spreadsheets",
        "use spreadsheets software",  # 5. words in the label
        "manage budgets",  # 6. the words only in an alternative label
    ]
    assert labels(index.search("tabular data", 20)) == ["spreadsheets"]  # 2. an alternative label is it
    assert labels(index.search("use spreadsheet", 20)) == [
        "use spreadsheets software",  # 3. the preferred label begins with the query
        "manage budgets",  # 4. an alternative label ("use spreadsheets for budgets") begins with it
    ]


def test_ties_go_to_the_shorter_label_then_alphabetical_then_uri(index):
    found = index.search("spread", 20)
    assert labels(found) == [
        "spreadsheets",
        "spreadsheets",
        "spreadsheet modelling",  # label prefixes
        "budget spreadsheets",
        "design spreadsheets",
        "use spreadsheets software",
        "manage budgets",
    ]
    assert uris(found)[:2] == ["00000002", "00000010"]


def test_words_match_as_word_prefixes_in_any_order(index):
    assert labels(index.search("soft use", 20)) == ["use spreadsheets software"]
    assert labels(index.search("budg spread", 20)) == ["budget spreadsheets", "manage budgets"]
    assert index.search("readsheets", 20) == []  # inside a word is not a match


def test_case_accents_and_symbols_are_ignored_or_kept_as_they_should_be(index):
    assert labels(index.search("DEVELOPPEMENT", 5)) == ["Développement logiciel"]
    assert labels(index.search("développement logiciel", 5)) == ["Développement logiciel"]
    assert labels(index.search("software development", 5)) == ["Développement logiciel"]
    assert labels(index.search("c++", 5)) == ["C++"]
    assert labels(index.search("C#", 5)) == ["C#"]


def test_the_limit_and_empty_queries(index):
    assert len(index.search("spreadsheets", 2)) == 2
    assert index.search("spreadsheets", 0) == []
    assert index.search("", 5) == [] and index.search("  !? ", 5) == []
    assert index.search("zebra", 5) == []


def test_the_same_query_always_gives_the_same_answer(index):
    assert [index.search("spreadsheet", 20) for _ in range(3)] == [index.search("spreadsheet", 20)] * 3
    assert SkillIndex(reversed(SKILLS)).search("spreadsheet", 20) == index.search("spreadsheet", 20)
