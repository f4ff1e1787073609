"""Choosing the assessor from configuration."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from service.assessment.engine.crosscheck import CrossCheckedJudge
from service.assessment.engine.factory import assessor_from_config, assessor_from_settings
from service.assessment.engine.llm import LLMJudge
from service.assessment.engine.offline import OfflineAssessor
from service.core.config import Settings


def test_the_default_is_the_offline_assessor():
    assert isinstance(assessor_from_settings(Settings()), OfflineAssessor)


def test_llm_settings_build_a_judge_with_the_secret_unwrapped():
    settings = Settings(
        assessor="llm",
        llm_base_url="http://127.0.0.1:11434/v1",
        llm_model="llama3.1",
        llm_api_key="sk-test",
        llm_samples=5,
        llm_timeout_seconds=30,
    )
    checked = assessor_from_settings(settings)
    assert isinstance(checked, CrossCheckedJudge) and isinstance(checked.reference, OfflineAssessor)
    judge = checked.judge
    assert isinstance(judge, LLMJudge)
    assert (judge.url, judge.model, judge.samples, judge.timeout_seconds) == (
        "http://127.0.0.1:11434/v1/chat/completions",
        "llama3.1",
        5,
        30,
    )
    assert judge._api_key == "sk-test" and "sk-test" not in repr(judge)


def test_settings_refuse_an_llm_assessor_without_endpoint_or_model():
    with pytest.raises(ValidationError):
        Settings(assessor="llm", llm_model="m")


def test_plain_values_are_checked():
    with pytest.raises(ValueError):
        assessor_from_config("llm", llm_model="m")
    with pytest.raises(ValueError):
        assessor_from_config("oracle")
    assert assessor_from_config("llm", llm_base_url="https://api.openai.com/v1", llm_model="gpt-4o-mini").kind == "llm"
