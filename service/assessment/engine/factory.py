"""Pick the configured assessor from plain values (the package never imports the service's Settings).

assessor_from_settings(settings)   # any object with the attributes below, e.g. service.core.config.Settings
assessor_from_config("llm", llm_base_url=..., llm_model=..., llm_api_key=...)
"""

from __future__ import annotations

from typing import Any

from service.assessment.engine.crosscheck import CrossCheckedJudge
from service.assessment.engine.llm import LLMJudge
from service.assessment.engine.offline import OfflineAssessor
from service.assessment.engine.result import Assessor


def assessor_from_config(
    assessor: str = "offline",
    *,
    llm_base_url: str | None = None,
    llm_model: str | None = None,
    llm_api_key: str | None = None,
    llm_samples: int = 3,
    llm_timeout_seconds: float = 60.0,
) -> Assessor:
    """``OfflineAssessor()`` for ``"offline"``; for ``"llm"`` an :class:`LLMJudge` (which needs a
    base URL and a model) checked by the offline assessor (:class:`CrossCheckedJudge`: more than a
    level apart on a criterion goes to a reviewer). Raises ValueError for anything else."""
    if assessor == "offline":
        return OfflineAssessor()
    if assessor == "llm":
        if not llm_base_url or not llm_model:
            raise ValueError("the llm assessor needs llm_base_url and llm_model")
        judge = LLMJudge(
            llm_base_url, llm_model, llm_api_key or None, samples=llm_samples, timeout_seconds=llm_timeout_seconds
        )
        return CrossCheckedJudge(judge, OfflineAssessor())
    raise ValueError(f"unknown assessor {assessor!r} (expected 'offline' or 'llm')")


def assessor_from_settings(settings: Any) -> Assessor:
    """The assessor named by ``settings.assessor`` (``SKILLCRED_ASSESSOR``), configured from its
    ``llm_*`` attributes; a pydantic ``SecretStr`` key is unwrapped here and nowhere else."""
    key = getattr(settings, "llm_api_key", None)
    if key is not None and hasattr(key, "get_secret_value"):
        key = key.get_secret_value()
    return assessor_from_config(
        getattr(settings, "assessor", "offline"),
        llm_base_url=getattr(settings, "llm_base_url", None),
        llm_model=getattr(settings, "llm_model", None),
        llm_api_key=key,
        llm_samples=getattr(settings, "llm_samples", 3),
        llm_timeout_seconds=getattr(settings, "llm_timeout_seconds", 60.0),
    )
