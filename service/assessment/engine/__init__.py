"""The assessment engine: rubrics, evidence bundles and the assessors that judge one against the other.

Like :mod:`service.vc`, this package knows no web framework and no database: the assessment domain
(:mod:`service.assessment`) and the ``skillcred assess`` command feed it an :class:`EvidenceBundle`
and a :class:`Rubric` and get an :class:`Assessment` back.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# The public surface, imported lazily so that ``import service.assessment.engine.rubric`` stays light.
_EXPORTS = {
    "Assessment": "result",
    "Assessor": "result",
    "CriterionResult": "result",
    "EvidencePointer": "result",
    "Finding": "result",
    "EvidenceBundle": "bundle",
    "EvidenceItem": "bundle",
    "Rubric": "rubric",
    "RubricError": "rubric",
    "load_rubric": "rubric",
    "OfflineAssessor": "offline",
    "LLMJudge": "llm",
    "decide": "decision",
    "explain": "decision",
    "DecisionOutcome": "decision",
    "assessor_from_settings": "factory",
    "assessor_from_config": "factory",
    "bundle_from_paths": "local",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f"service.assessment.engine.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'service.assessment.engine' has no attribute {name!r}")
