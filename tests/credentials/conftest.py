"""Fixtures for the credential tests: an issuer, an achievement with result descriptions."""

from __future__ import annotations

from typing import Any

import pytest

RESULT_DESCRIPTIONS = [
    {"name": "Grade", "result_type": "LetterGrade", "allowed_values": ["A", "B", "C"]},
    {
        "name": "Test design",
        "result_type": "RubricCriterion",
        "rubric_criterion_levels": [{"name": "Novice"}, {"name": "Proficient"}, {"name": "Expert"}],
    },
]


@pytest.fixture
def issuer(api) -> dict[str, Any]:
    return api.create_issuer("Acme Academy")


@pytest.fixture
def achievement(api, issuer) -> dict[str, Any]:
    return api.create_achievement(issuer["id"], name="Python testing", result_descriptions=RESULT_DESCRIPTIONS)
