"""The LLM judge: rubric assessment by any OpenAI-compatible chat-completions endpoint.

OpenAI, vLLM, Ollama or a llama.cpp server: configured by base URL, model and key. The judge
screens the evidence first (:mod:`.injection`), sends the prompt of :mod:`.llm_prompt` ``samples``
times (independent requests), and combines the answers:

- per criterion the **median level by rank** (the lower median for an even count) and the
  **spread** (levels between the lowest and highest answer); a spread of 2+ levels flags
  ``sample_disagreement``;
- every quote must be a verbatim substring of the evidence as sent (whitespace and quote marks
  normalised); a fabricated quote, or a level above the lowest with no quote, flags
  ``quote_not_found`` and voids that criterion's judgement (confidence 0: a reviewer decides);
- ``injection_suspected`` in any answer flags ``prompt_injection``; pre-screening flags are kept;
- confidence = share of valid answers at the median level x share of requested answers that were
  valid (0 for a void judgement).

Transport: a plain httpx client (no redirects, no environment proxies), a per-request timeout, a
total deadline, and retries with exponential backoff on 429 and 5xx (``Retry-After`` respected,
capped). When no usable answer arrives (endpoint down, timeouts, nonsense, schema-invalid JSON)
the result is an Assessment at the lowest levels with confidence 0 and ``assessor_failed``: it goes
to a human, and the caller never sees an exception.
"""

from __future__ import annotations

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
from service.assessment.engine.reading import Reading, read_bundle
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

LLM_JUDGE_VERSION = "1.0.0"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DISAGREEMENT_SPREAD = 2


class JudgeError(Exception):
    """One request produced no usable answer (the message says why; never contains the key)."""


@dataclass(frozen=True)
class _Answer:
    criteria: dict[str, dict[str, Any]]


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


class LLMJudge:
    """Rubric assessment by a chat-completions model (see the module docstring).

    ``base_url``: e.g. ``https://api.openai.com/v1`` or ``http://127.0.0.1:11434/v1``; ``model``: the
    model id; ``api_key``: sent as a bearer token when given; ``samples``: independent answers to
    combine; ``timeout_seconds``: per request; ``total_timeout_seconds``: the whole assessment
    (default 3 x samples x timeout); ``max_retries``: per request, on 429/5xx/transport errors;
    ``max_backoff_seconds``: cap on any wait, ``Retry-After`` included; ``temperature``: sent as is.
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
        self.total_timeout_seconds = total_timeout_seconds or 3 * samples * timeout_seconds
        self.max_retries = max_retries
        self.max_backoff_seconds = max_backoff_seconds
        self.temperature = temperature

    def __repr__(self) -> str:  # never show the key
        return f"LLMJudge(url={self.url!r}, model={self.model!r}, samples={self.samples})"

    @property
    def endpoint_host(self) -> str:
        return urlsplit(self.url).hostname or ""

    def _record(self, valid: int, failures: list[str]) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "version": self.version,
            "model": self.model,
            "endpoint_host": self.endpoint_host,
            "prompt_version": PROMPT_VERSION,
            "samples": self.samples,
            "samples_valid": valid,
            "failures": failures,
        }

    def assess(self, bundle: EvidenceBundle, rubric: Rubric) -> Assessment:
        """Judge ``bundle`` against ``rubric``; failures become an ``assessor_failed`` assessment."""
        reading = read_bundle(bundle, rubric)
        messages, sent = build_messages(rubric, reading)
        schema = response_schema(rubric)
        deadline = time.monotonic() + self.total_timeout_seconds
        answers: list[_Answer] = []
        failures: list[str] = []
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        with httpx.Client(follow_redirects=False, trust_env=False, headers=headers) as client:
            for _ in range(self.samples):
                if time.monotonic() >= deadline:
                    failures.append("total timeout reached")
                    break
                try:
                    answers.append(self._sample(client, messages, schema, deadline))
                except JudgeError as err:
                    failures.append(str(err))
        flags = set(reading.flags)
        if not answers:
            return self._failed(rubric, reading, failures)
        results = tuple(self._combine(criterion, answers, sent, flags) for criterion in rubric.criteria)
        if any(a.criteria[c.id]["injection_suspected"] for a in answers for c in rubric.criteria):
            flags.add(FLAG_PROMPT_INJECTION)
        levels = {result.criterion_id: result.level for result in results}
        return Assessment(
            criteria=results,
            total=round(rubric.total(levels), 4),
            passed=rubric.passes(levels),
            flags=tuple(sorted(flags)),
            assessor=self._record(len(answers), failures),
            findings=tuple(reading.findings),
            notes=tuple(reading.notes + failures),
            artefacts=reading.artefacts(),
        )

    def _failed(self, rubric: Rubric, reading: Reading, failures: list[str]) -> Assessment:
        results = tuple(
            CriterionResult(c.id, c.levels[0].id, c.levels[0].points, 0.0, "the LLM judge gave no usable answer")
            for c in rubric.criteria
        )
        levels = {r.criterion_id: r.level for r in results}
        flags = tuple(sorted(set(reading.flags) | {FLAG_ASSESSOR_FAILED}))
        return Assessment(
            criteria=results,
            total=round(rubric.total(levels), 4),
            passed=False,
            flags=flags,
            assessor=self._record(0, failures),
            findings=tuple(reading.findings),
            notes=tuple(reading.notes + failures),
        )

    # -- one sample ----------------------------------------------------------------------------

    def _sample(
        self, client: httpx.Client, messages: list[dict[str, str]], schema: dict[str, Any], deadline: float
    ) -> _Answer:
        body = {
            "model": self.model,
            "messages": messages,
            "temperature": self.temperature,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "rubric_assessment", "strict": True, "schema": schema},
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
        return _Answer(parsed["criteria"])

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
        ranks = sorted(criterion.rank(answer.criteria[criterion.id]["level"]) for answer in answers)
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
            for quote in answer.criteria[criterion.id]["evidence_quotes"]:
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
        median_answer = next(a for a in answers if criterion.rank(a.criteria[criterion.id]["level"]) == median)
        rationale = median_answer.criteria[criterion.id]["rationale"][:2000]
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
