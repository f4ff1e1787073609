"""The LLM judge: rubric assessment by any OpenAI-compatible chat-completions endpoint.

OpenAI, vLLM, Ollama or a llama.cpp server: configured by base URL, model and key. The judge
screens the evidence first (:mod:`.injection`), then judges **one criterion per request**: for each
criterion, ``samples`` independent requests with the prompt of :mod:`.llm_prompt` (the rubric's
context and that criterion only; a schema allowing only that criterion's levels), so an assessment
makes at most criteria x samples requests (sent sample by sample, every criterion in turn, so a
deadline reached late still leaves every criterion its first answers). The answers are combined
per criterion:

- the **median level by rank** (the lower median for an even count) and the
  **spread** (levels between the lowest and highest answer); a spread of 2+ levels flags
  ``sample_disagreement``;
- every quote must be a verbatim substring of the evidence as sent (whitespace and quote marks
  normalised); a fabricated quote, or a level above the lowest with no quote, flags
  ``quote_not_found`` and voids that criterion's judgement (confidence 0: a reviewer decides);
- ``injection_suspected`` in any answer flags ``prompt_injection``; pre-screening flags are kept;
- confidence = share of valid answers at the median level x share of that criterion's requested
  answers that were valid (0 for a void judgement).

Transport: a plain httpx client (no redirects, no environment proxies), a per-request timeout, a
total deadline covering every request of the assessment, and retries with exponential backoff on
429 and 5xx (``Retry-After`` respected, capped). A criterion for which no usable answer arrives
(endpoint down, timeouts, nonsense, schema-invalid JSON) is at its lowest level with confidence 0
and the assessment is flagged ``assessor_failed``: it goes to a human, and the caller never sees an
exception.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from jsonschema import Draft202012Validator

from service.assessment.engine.bundle import EvidenceBundle
from service.assessment.engine.llm_prompt import PROMPT_VERSION, build_messages, response_schema
from service.assessment.engine.reading import read_bundle
from service.assessment.engine.result import (
    FLAG_ASSESSOR_FAILED,
    FLAG_PROMPT_INJECTION,
    FLAG_QUOTE_NOT_FOUND,
    FLAG_SAMPLE_DISAGREEMENT,
    Assessment,
    CriterionResult,
    EvidencePointer,
)
from service.assessment.engine.rubric import Criterion, Rubric

LLM_JUDGE_VERSION = "2.0.0"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DISAGREEMENT_SPREAD = 2


class JudgeError(Exception):
    """One request produced no usable answer (the message says why; never contains the key)."""


@dataclass(frozen=True)
class _Answer:
    """One valid answer on one criterion: ``level``, ``evidence_quotes``, ``rationale``,
    ``injection_suspected`` (as the response schema has them)."""

    level: str
    evidence_quotes: list[str]
    rationale: str
    injection_suspected: bool


def chat_completions_url(base_url: str) -> str:
    """``.../v1/chat/completions`` from a base URL given with or without ``/v1`` (or in full)."""
    base = base_url.rstrip("/")
    if base.endswith("/chat/completions"):
        return base
    if base.endswith("/v1"):
        return base + "/chat/completions"
    return base + "/v1/chat/completions"


def _normalise(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return " ".join(text.split())


def default_deadline_seconds(samples: int, timeout_seconds: float) -> float:
    """The judge's whole-assessment deadline unless one is given: 3 x samples x the per-request
    timeout (every request of every criterion must start before it; one already sent may still
    take up to its own timeout)."""
    return 3 * samples * timeout_seconds


class LLMJudge:
    """Rubric assessment by a chat-completions model (see the module docstring).

    ``base_url``: e.g. ``https://api.openai.com/v1`` or ``http://127.0.0.1:11434/v1``; ``model``: the
    model id; ``api_key``: sent as a bearer token when given; ``samples``: independent answers to
    combine per criterion; ``timeout_seconds``: per request; ``total_timeout_seconds``: the whole
    assessment, every request of every criterion (default 3 x samples x timeout); ``max_retries``:
    per request, on 429/5xx/transport errors; ``max_backoff_seconds``: cap on any wait,
    ``Retry-After`` included; ``temperature``: sent as is.
    """

    kind = "llm"
    version = LLM_JUDGE_VERSION

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        *,
        samples: int = 3,
        timeout_seconds: float = 60.0,
        total_timeout_seconds: float | None = None,
        max_retries: int = 3,
        max_backoff_seconds: float = 8.0,
        temperature: float = 0.7,
    ) -> None:
        if samples < 1:
            raise ValueError("samples must be at least 1")
        if urlsplit(base_url).scheme not in ("http", "https") or not urlsplit(base_url).hostname:
            raise ValueError("base_url must be an http(s) URL")
        self.url = chat_completions_url(base_url)
        self.model = model
        self._api_key = api_key
        self.samples = samples
        self.timeout_seconds = timeout_seconds
        self.total_timeout_seconds = total_timeout_seconds or default_deadline_seconds(samples, timeout_seconds)
        self.max_retries = max_retries
        self.max_backoff_seconds = max_backoff_seconds
        self.temperature = temperature

    def __repr__(self) -> str:  # never show the key
        return f"LLMJudge(url={self.url!r}, model={self.model!r}, samples={self.samples})"

    @property
    def endpoint_host(self) -> str:
        return urlsplit(self.url).hostname or ""

    def _record(self, requests: int, valid: dict[str, int], failures: list[str]) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "version": self.version,
            "model": self.model,
            "endpoint_host": self.endpoint_host,
            "prompt_version": PROMPT_VERSION,
            "samples": self.samples,
            "samples_valid": min(valid.values(), default=0),
            "answers_valid": valid,
            "requests": requests,
            "failures": failures,
        }

    def assess(self, bundle: EvidenceBundle, rubric: Rubric) -> Assessment:
        """Judge ``bundle`` against ``rubric``, one criterion per request; a criterion without any
        usable answer is at its lowest level with confidence 0 and flags ``assessor_failed``."""
        reading = read_bundle(bundle, rubric)
        prompts = {c.id: build_messages(rubric, c, reading) for c in rubric.criteria}
        schemas = {c.id: response_schema(c) for c in rubric.criteria}
        deadline = time.monotonic() + self.total_timeout_seconds
        answers: dict[str, list[_Answer]] = {c.id: [] for c in rubric.criteria}
        failures: list[str] = []
        requests = 0
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        with httpx.Client(follow_redirects=False, trust_env=False, headers=headers) as client:
            # Sample by sample, every criterion in turn: at most criteria x samples requests.
            for _, criterion in itertools.product(range(self.samples), rubric.criteria):
                if time.monotonic() >= deadline:
                    failures.append("total timeout reached")
                    break
                requests += 1
                messages = prompts[criterion.id][0]
                try:
                    answers[criterion.id].append(self._sample(client, messages, schemas[criterion.id], deadline))
                except JudgeError as err:
                    failures.append(f"{criterion.id}: {err}")
        flags = set(reading.flags)
        results = tuple(
            self._combine(c, answers[c.id], prompts[c.id][1], flags) if answers[c.id] else _unanswered(c)
            for c in rubric.criteria
        )
        failed = not all(answers.values())
        if failed:
            flags.add(FLAG_ASSESSOR_FAILED)
        if any(a.injection_suspected for given in answers.values() for a in given):
            flags.add(FLAG_PROMPT_INJECTION)
        levels = {result.criterion_id: result.level for result in results}
        return Assessment(
            criteria=results,
            total=round(rubric.total(levels), 4),
            passed=rubric.passes(levels) and not failed,
            flags=tuple(sorted(flags)),
            assessor=self._record(requests, {c: len(given) for c, given in answers.items()}, failures),
            findings=tuple(reading.findings),
            notes=tuple(reading.notes + failures),
            artefacts=reading.artefacts(),
        )

    # -- one request: one criterion, one sample ------------------------------------------------

    def _sample(
        self, client: httpx.Client, messages: list[dict[str, str]], schema: dict[str, Any], deadline: float
    ) -> _Answer:
        body = {
            "model": self.model,
            "messages": messages,
            "temperature": self.temperature,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "criterion_assessment", "strict": True, "schema": schema},
            },
        }
        payload = self._post(client, body, deadline)
        try:
            content = payload["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError) as err:
            raise JudgeError("answer is not a chat completion") from err
        if not isinstance(content, str):
            raise JudgeError("answer has no text content")
        content = re.sub(r"^\s*```(?:json)?\s*|\s*```\s*$", "", content)
        try:
            parsed = json.loads(content)
        except ValueError as err:
            raise JudgeError("answer is not JSON") from err
        errors = sorted(Draft202012Validator(schema).iter_errors(parsed), key=lambda e: list(e.absolute_path))
        if errors:
            where = "/".join(str(p) for p in errors[0].absolute_path) or "(root)"
            raise JudgeError(f"answer does not follow the schema: {where}: {errors[0].message[:120]}")
        return _Answer(parsed["level"], parsed["evidence_quotes"], parsed["rationale"], parsed["injection_suspected"])

    def _post(self, client: httpx.Client, body: dict[str, Any], deadline: float) -> Any:
        attempt = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise JudgeError("total timeout reached")
            wait: float | None = None
            try:
                response = client.post(self.url, json=body, timeout=min(self.timeout_seconds, remaining))
            except httpx.TimeoutException:
                problem = "request timed out"
            except httpx.HTTPError as err:
                problem = f"endpoint unreachable ({type(err).__name__})"
            else:
                if response.status_code == 200:
                    try:
                        return response.json()
                    except ValueError as err:
                        raise JudgeError("answer is not JSON") from err
                problem = f"endpoint answered HTTP {response.status_code}"
                if response.status_code not in RETRY_STATUSES:
                    raise JudgeError(problem)
                wait = _retry_after(response.headers.get("Retry-After"))
            if attempt >= self.max_retries:
                raise JudgeError(f"{problem} (after {attempt + 1} attempts)")
            backoff = min(self.max_backoff_seconds, wait if wait is not None else 0.5 * 2**attempt)
            if time.monotonic() + backoff >= deadline:
                raise JudgeError(f"{problem}; no time left to retry")
            time.sleep(backoff)
            attempt += 1

    # -- combining samples ---------------------------------------------------------------------

    def _combine(
        self, criterion: Criterion, answers: list[_Answer], sent: list[tuple[str, str]], flags: set[str]
    ) -> CriterionResult:
        ranks = sorted(criterion.rank(answer.level) for answer in answers)
        median = ranks[(len(ranks) - 1) // 2]
        spread = ranks[-1] - ranks[0]
        if spread >= DISAGREEMENT_SPREAD:
            flags.add(FLAG_SAMPLE_DISAGREEMENT)
        level = criterion.levels[median]
        agreement = ranks.count(median) / len(ranks)
        pointers: list[EvidencePointer] = []
        missing = 0
        normalised = [(item_id, _normalise(text)) for item_id, text in sent]
        for answer in answers:
            for quote in answer.evidence_quotes:
                wanted = _normalise(quote)
                if not wanted:
                    continue
                source = next((item_id for item_id, text in normalised if wanted in text), None)
                if source is None:
                    missing += 1
                elif len(pointers) < 5 and EvidencePointer(source, quote) not in pointers:
                    pointers.append(EvidencePointer(source, quote))
        # A level above the lowest stands only on verbatim quotes of the evidence: a fabricated
        # quote, or none at all, voids the criterion's judgement (confidence 0, a reviewer decides).
        void = bool(missing) or (median > 0 and not pointers)
        if void:
            flags.add(FLAG_QUOTE_NOT_FOUND)
        confidence = 0.0 if void else agreement * (len(answers) / self.samples)
        median_answer = next(a for a in answers if criterion.rank(a.level) == median)
        rationale = median_answer.rationale[:2000]
        if void:
            rationale = f"void: {missing} quote(s) not found verbatim in the evidence. " + rationale
        return CriterionResult(
            criterion.id,
            level.id,
            level.points,
            round(confidence, 3),
            rationale,
            tuple(pointers),
            spread=spread,
            signals={"levels": [criterion.levels[r].id for r in ranks], "quotes_not_found": missing},
        )


def _unanswered(criterion: Criterion) -> CriterionResult:
    """A criterion no sample answered usably: its lowest level, confidence 0 (a reviewer decides)."""
    lowest = criterion.levels[0]
    return CriterionResult(criterion.id, lowest.id, lowest.points, 0.0, "the LLM judge gave no usable answer")


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None
