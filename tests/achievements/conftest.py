"""Fixtures for the achievement tests: issuers, accounts that act for them, row counts."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

_numbers = itertools.count(1)

MINIMAL = {
    "name": "Python testing",
    "description": "Writes meaningful automated tests.",
    "criteria": {"narrative": "A repository with a tested project."},
}


def full_body(**changes: Any) -> dict[str, Any]:
    """An achievement using every optional field."""
    body = {
        "name": "Prompt engineering",
        "description": "Designs, tests and documents prompts for production LLM features.",
        "criteria": {
            "narrative": "Three shipped prompt designs, assessed against the rubric.",
            "id": "https://issuer.example/criteria/prompt-engineering",
        },
        "image": "https://issuer.example/badges/prompt-engineering.png",
        "achievement_type": "Competency",
        "alignments": [
            {
                "target_name": "use prompt engineering techniques",
                "target_url": "http://data.europa.eu/esco/skill/1f0b3a3e-0000-4000-8000-000000000001",
                "target_code": "S5.6.1",
                "target_framework": "ESCO",
                "target_type": "ceasn:Competency",
                "target_description": "Design inputs that steer a language model.",
            }
        ],
        "result_descriptions": [
            {
                "name": "Prompt quality",
                "result_type": "RubricCriterion",
                "required_level": "Proficient",
                "rubric_criterion_levels": [
                    {"name": "Novice", "description": "Prompts work by luck.", "level": "1", "points": 1},
                    {"name": "Proficient", "description": "Prompts are tested.", "level": "2", "points": "2"},
                ],
            },
            {
                "id": "https://issuer.example/results/grade",
                "name": "Grade",
                "result_type": "LetterGrade",
                "allowed_values": ["C", "B", "A"],
                "required_value": "B",
            },
        ],
        "tags": ["prompting", "LLM"],
    }
    body.update(changes)
    return body


@pytest.fixture
def new_issuer(api) -> Callable[[], str]:
    """Makes an issuer through the API and returns its id."""

    def make() -> str:
        return api.create_issuer(f"Issuer {next(_numbers)}")["id"]

    return make


@pytest.fixture
def row_counts(app) -> Callable[[], dict[str, int]]:
    """How many achievements, versions and audit events the database holds."""

    def count() -> dict[str, int]:
        from sqlmodel import func, select

        from service.achievements.models import Achievement, AchievementVersion
        from service.audit.models import AuditEvent
        from service.core.db import unit_of_work

        with unit_of_work(app.state.engine) as session:
            return {
                model.__name__: session.exec(select(func.count()).select_from(model)).one()
                for model in (Achievement, AchievementVersion, AuditEvent)
            }

    return count


def rubric(**changes: Any) -> dict[str, Any]:
    """A valid rubric (schemas/rubric.schema.json): two weighted criteria, one required."""
    body: dict[str, Any] = {
        "id": "python-testing",
        "version": "1",
        "name": "Python testing rubric",
        "criteria": [
            {
                "id": "tests",
                "name": "Test design",
                "description": "Tests check behaviour, not lines.",
                "weight": 2,
                "required": True,
                "min_level": "solid",
                "key_ideas": ["pytest", "fixtures"],
                "levels": [
                    {"id": "none", "name": "None", "description": "No tests.", "points": 0},
                    {"id": "basic", "name": "Basic", "description": "A few happy paths.", "points": 1},
                    {"id": "solid", "name": "Solid", "description": "Edge cases and failures.", "points": 2.5},
                    {
                        "id": "expert",
                        "name": "Expert",
                        "description": "Property-based and mutation tested.",
                        "points": 4,
                    },
                ],
            },
            {
                "id": "ci",
                "description": "Tests run on every change.",
                "weight": 1,
                "levels": [
                    {"id": "no", "name": "No CI", "description": "Run by hand.", "points": 0},
                    {"id": "yes", "name": "CI", "description": "A CI workflow runs them.", "points": 1},
                ],
            },
        ],
        "pass_rule": {"min_total": 6},
        "policy": "review",
    }
    body.update(changes)
    return body
