"""Achievements open and closed for applications, for the catalogue's tests (API and pages)."""

from __future__ import annotations

import copy
from typing import Any

from tests.api_client import Api
from tests.assessment.helpers import RUBRIC

PYTHON_SKILL = "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d"
KEY_IDEAS = [idea for criterion in RUBRIC["criteria"] for idea in criterion["key_ideas"]]
"""The offline assessor's hints: never shown to anyone outside the issuer."""


def open_achievement(api: Api, issuer_id: str, name: str = "Python testing", **extra: Any) -> dict[str, Any]:
    """An achievement open for applications: its current version has the test rubric."""
    body = {"rubric": copy.deepcopy(RUBRIC), "esco_skills": [PYTHON_SKILL], **extra}
    return api.create_achievement(issuer_id, name=name, **body)


def closed_achievement(api: Api, issuer_id: str, name: str = "Awarded by hand") -> dict[str, Any]:
    """An achievement without a rubric: issued directly, not open for applications."""
    return api.create_achievement(issuer_id, name=name)
