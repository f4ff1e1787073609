"""Measure an assessor against a labelled evaluation set (``tests/assessment_eval/``).

A set is a directory with ``manifest.yaml``::

    rubrics: {name: rubrics/name.json, ...}     # rubric JSON (schemas/rubric.schema.json)
    samples: [samples/name.yaml, ...]           # each: {rubric: name, samples: [...]}

A sample is one submission, labelled by a person:

- ``id`` (unique in the set), ``label``: ``strong`` | ``borderline`` | ``weak`` (honest evidence of
  that strength) or ``adversarial`` (an attempt to game the assessment); ``family`` (adversarial
  only): which gaming technique (:data:`FAMILIES`);
- ``expect``: the decision a good assessor makes: ``auto_issue``, ``review``, ``reject`` or
  ``not_auto_issue`` (review or reject, both fine);
- ``levels`` (honest only): the expected level id of every criterion of the rubric;
- ``items``: the evidence, in order. ``{file: NAME, text: ..., kind: text|file|testimonial}`` is a
  file called NAME with that content (media type and kind sniffed from the bytes and the name as
  ``skillcred assess`` does, ``kind`` overrides); ``{repo: {files: {PATH: content}, commits: N,
  days: D, authors: A, subjects: [...], name: NAME}}`` is a git repository built with a fixed
  history (the first commit adds the files, later ones append to CHANGELOG.md; the same bytes and
  commit ids on every run).

:func:`run_set` assesses every sample (repositories are built in a temporary directory, the
assessment alone is timed), :func:`report` computes the figures per rubric and overall, and
:func:`calibration` bins per-criterion confidence against level accuracy. Pure: no database, no web
framework, no network.
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from service.assessment.engine.bundle import EvidenceBundle, EvidenceItem
from service.assessment.engine.decision import decide
from service.assessment.engine.local import file_item, repository_item
from service.assessment.engine.result import Assessor
from service.assessment.engine.rubric import Rubric, RubricError, load_rubric

LABELS = ("strong", "borderline", "weak", "adversarial")
HONEST_LABELS = ("strong", "borderline", "weak")
EXPECTATIONS = ("auto_issue", "review", "reject", "not_auto_issue")
FAMILIES = {
    "keyword_list": "keyword lists and word salad: the rubric's terms without sentences",
    "repetition": "repetition and padding: the same words again and again",
    "rubric_copy": "text copied from the rubric's criteria and level descriptions",
    "boilerplate": "boilerplate that would fit any submission",
    "off_topic": "real text about something else",
    "bare_claim": "fluent self-description claiming the skill, with no artefact",
    "injection_comment": "instructions in HTML or Markdown comments",
    "injection_invisible": "instructions hidden with zero-width or bidi characters",
    "injection_homoglyph": "instructions spelt with look-alike letters",
    "injection_encoded": "instructions encoded in base64 or rot13",
    "injection_language": "instructions in another language",
    "injection_grader_note": "a note addressed to the grader, alone or after real work",
    "injection_metadata": "instructions in a file's metadata or name",
    "injection_repository": "instructions in a repository README or commit message",
}
EPOCH = 1_767_607_200  # 2026-01-05 10:00 UTC: repository histories start here (reproducible commit ids)
CALIBRATION_BINS = 10


class EvaluationSetError(ValueError):
    """The set cannot be used; ``errors`` lists every problem found."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("Invalid evaluation set: " + "; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class EvalSample:
    """One labelled submission (see the module docstring)."""

    id: str
    rubric: str
    label: str
    expect: str
    items: tuple[Mapping[str, Any], ...]
    levels: Mapping[str, str] = field(default_factory=dict)
    family: str | None = None

    @property
    def honest(self) -> bool:
        return self.label != "adversarial"


@dataclass(frozen=True)
class EvaluationSet:
    root: Path
    rubrics: Mapping[str, Rubric]
    samples: tuple[EvalSample, ...]


def _read_yaml(path: Path, errors: list[str]) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        errors.append(f"{path}: cannot read ({err.strerror or err})")
    except yaml.YAMLError as err:
        errors.append(f"{path}: not YAML ({err})")
    return None


def _sample_errors(where: str, raw: Any, rubric: Rubric | None) -> list[str]:
    if not isinstance(raw, dict):
        return [f"{where}: a sample is a mapping"]
    errors = []
    if not isinstance(raw.get("id"), str) or not raw["id"]:
        errors.append(f"{where}: id missing")
    label, expect = raw.get("label"), raw.get("expect")
    if label not in LABELS:
        errors.append(f"{where}: label must be one of {', '.join(LABELS)}")
    if expect not in EXPECTATIONS:
        errors.append(f"{where}: expect must be one of {', '.join(EXPECTATIONS)}")
    if label == "adversarial":
        if raw.get("family") not in FAMILIES:
            errors.append(f"{where}: an adversarial sample needs a family ({', '.join(FAMILIES)})")
        if expect == "auto_issue":
            errors.append(f"{where}: an adversarial sample is never expected to be issued automatically")
    elif label in HONEST_LABELS:
        levels = raw.get("levels")
        if not isinstance(levels, dict):
            errors.append(f"{where}: an honest sample needs levels for every criterion")
        elif rubric is not None:
            ids = [c.id for c in rubric.criteria]
            if sorted(levels) != sorted(ids):
                errors.append(f"{where}: levels must name exactly the criteria {', '.join(ids)}")
            for criterion in rubric.criteria:
                if criterion.id in levels and levels[criterion.id] not in [lv.id for lv in criterion.levels]:
                    errors.append(f"{where}: {levels[criterion.id]!r} is not a level of {criterion.id}")
    items = raw.get("items")
    if not isinstance(items, list) or not items:
        errors.append(f"{where}: items missing")
    else:
        for number, item in enumerate(items):
            if not isinstance(item, dict) or not (
                ("file" in item and isinstance(item.get("text"), str)) or isinstance(item.get("repo"), dict)
            ):
                errors.append(f"{where}: item {number} must be {{file, text}} or {{repo: {{files: ...}}}}")
            elif "repo" in item and not isinstance(item["repo"].get("files"), dict):
                errors.append(f"{where}: item {number}: a repository needs files")
    return errors


def load_set(root: str | Path) -> EvaluationSet:
    """Read and check the set at ``root`` (a directory with ``manifest.yaml``).

    Raises :class:`EvaluationSetError` listing every problem (unknown labels, honest samples without
    a level for each criterion, levels the rubric does not have, duplicate ids, invalid rubrics)."""
    root = Path(root)
    errors: list[str] = []
    manifest = _read_yaml(root / "manifest.yaml", errors)
    if errors:
        raise EvaluationSetError(errors)
    if not isinstance(manifest, dict) or not isinstance(manifest.get("rubrics"), dict):
        raise EvaluationSetError([f"{root / 'manifest.yaml'}: needs rubrics: {{name: path}} and samples: [path]"])
    rubrics: dict[str, Rubric] = {}
    for name, relative in manifest["rubrics"].items():
        path = root / str(relative)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            rubrics[name] = load_rubric(data)
        except OSError as err:
            errors.append(f"rubric {name}: cannot read {path} ({err.strerror or err})")
        except ValueError as err:  # JSON errors and RubricError
            detail = "; ".join(err.errors) if isinstance(err, RubricError) else str(err)
            errors.append(f"rubric {name}: {detail}")
    samples: list[EvalSample] = []
    for relative in manifest.get("samples") or []:
        path = root / str(relative)
        document = _read_yaml(path, errors)
        if document is None:
            continue
        if not isinstance(document, dict) or not isinstance(document.get("samples"), list):
            errors.append(f"{relative}: needs rubric: NAME and samples: [...]")
            continue
        rubric_name = document.get("rubric")
        if not isinstance(rubric_name, str) or rubric_name not in manifest["rubrics"]:
            errors.append(f"{relative}: rubric {rubric_name!r} is not in the manifest")
            continue
        for number, raw in enumerate(document["samples"]):
            where = f"{relative}#{raw.get('id', number) if isinstance(raw, dict) else number}"
            problems = _sample_errors(where, raw, rubrics.get(rubric_name))
            if problems:
                errors += problems
                continue
            samples.append(
                EvalSample(
                    id=raw["id"],
                    rubric=rubric_name,
                    label=raw["label"],
                    expect=raw["expect"],
                    items=tuple(raw["items"]),
                    levels=dict(raw.get("levels") or {}),
                    family=raw.get("family"),
                )
            )
    seen: set[str] = set()
    for sample in samples:
        if sample.id in seen:
            errors.append(f"sample id {sample.id!r} is used twice")
        seen.add(sample.id)
    if not samples and not errors:
        errors.append("the set has no samples")
    if errors:
        raise EvaluationSetError(errors)
    return EvaluationSet(root=root, rubrics=rubrics, samples=tuple(samples))


def _git(repository: Path, *args: str, env: Mapping[str, str] | None = None) -> None:
    base = {
        "PATH": os.environ.get("PATH", ""),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "HOME": str(repository),
    }
    subprocess.run(["git", "-C", str(repository), *args], check=True, capture_output=True, env={**base, **(env or {})})


def make_repository(
    target: Path,
    files: Mapping[str, str],
    *,
    commits: int = 1,
    days: float = 0,
    authors: int = 1,
    subjects: Sequence[str] = (),
) -> Path:
    """A git repository at ``target``: ``files`` in the first commit, then ``commits - 1`` commits
    appending to CHANGELOG.md, spread over ``days`` days and rotated over ``authors`` authors, with
    fixed dates and identities (the same commit ids every time). ``subjects`` are commit messages."""
    target.mkdir(parents=True, exist_ok=True)
    for relative, content in files.items():
        path = target / relative
        if not path.resolve().is_relative_to(target.resolve()):
            raise ValueError(f"{relative}: outside the repository")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    _git(target, "init", "-q", "-b", "main")
    for number in range(max(1, commits)):
        when = EPOCH + int(days * 86_400 * number / max(1, commits - 1))
        author = number % max(1, authors)
        identity = {"NAME": f"Author {author}", "EMAIL": f"author{author}@example.org"}
        env = {f"GIT_{who}_{key}": value for who in ("AUTHOR", "COMMITTER") for key, value in identity.items()}
        env.update({"GIT_AUTHOR_DATE": f"@{when} +0000", "GIT_COMMITTER_DATE": f"@{when} +0000"})
        if number:
            with (target / "CHANGELOG.md").open("a", encoding="utf-8") as changelog:
                changelog.write(f"- change {number}\n")
        subject = (
            subjects[number] if number < len(subjects) else ("Initial commit" if number == 0 else f"Change {number}")
        )
        _git(target, "add", "-A")
        _git(target, "commit", "-q", "--allow-empty", "-m", subject, env=env)
    return target


def build_bundle(sample: EvalSample, workdir: Path) -> EvidenceBundle:
    """The evidence bundle of ``sample``: files written and repositories built under ``workdir``."""
    items: list[EvidenceItem] = []
    for number, spec in enumerate(sample.items):
        key = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]
        if "repo" in spec:
            repo = spec["repo"]
            name = str(repo.get("name", "repository"))
            target = workdir / "repositories" / f"{name}-{key}"
            if not (target / ".git").exists():
                make_repository(
                    target,
                    repo["files"],
                    commits=int(repo.get("commits", 1)),
                    days=float(repo.get("days", 0)),
                    authors=int(repo.get("authors", 1)),
                    subjects=tuple(repo.get("subjects", ())),
                )
            items.append(repository_item(target, name if number == 0 else f"{name}-{number}"))
        else:
            folder = workdir / "files" / key
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / Path(str(spec["file"])).name
            path.write_text(spec["text"], encoding="utf-8")
            # the first prose file is the earner's account, later ones uploaded documents, as
            # `skillcred assess` (local.bundle_from_paths) and the service take them
            item = file_item(path, str(spec["file"]), narrative=not any(i.kind == "text" for i in items))
            if spec.get("kind"):
                item = replace(item, kind=spec["kind"])
            items.append(item)
    return EvidenceBundle(items=tuple(items))


@dataclass(frozen=True)
class Outcome:
    """One sample's assessment as the figures need it. Ranks are level positions (0 = lowest)."""

    sample_id: str
    rubric: str
    label: str
    family: str | None
    expect: str
    decision: str
    total: float
    max_total: float
    ranks: Mapping[str, int]
    expected_ranks: Mapping[str, int]
    confidences: Mapping[str, float]
    flags: tuple[str, ...]
    seconds: float

    @property
    def share(self) -> float:
        """Total as a share of the rubric's highest total (comparable across rubrics)."""
        return self.total / self.max_total if self.max_total else 0.0

    @property
    def as_expected(self) -> bool:
        if self.expect == "not_auto_issue":
            return self.decision != "auto_issue"
        return self.decision == self.expect


def run_set(
    evaluation_set: EvaluationSet,
    assessor: Assessor,
    *,
    workdir: Path | None = None,
    progress: Callable[[EvalSample, Outcome], None] | None = None,
) -> list[Outcome]:
    """Assess every sample with ``assessor`` and decide under its rubric's policy, without sampling."""
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="skillcred-eval-") as tmp:
            return run_set(evaluation_set, assessor, workdir=Path(tmp), progress=progress)
    outcomes = []
    for sample in evaluation_set.samples:
        rubric = evaluation_set.rubrics[sample.rubric]
        bundle = build_bundle(sample, workdir)
        started = time.perf_counter()
        assessment = assessor.assess(bundle, rubric)
        seconds = time.perf_counter() - started
        outcome = Outcome(
            sample_id=sample.id,
            rubric=sample.rubric,
            label=sample.label,
            family=sample.family,
            expect=sample.expect,
            decision=decide(assessment, rubric),
            total=assessment.total,
            max_total=rubric.max_total,
            ranks={r.criterion_id: rubric.criterion(r.criterion_id).rank(r.level) for r in assessment.criteria},
            expected_ranks={cid: rubric.criterion(cid).rank(level) for cid, level in sample.levels.items()},
            confidences={r.criterion_id: r.confidence for r in assessment.criteria},
            flags=tuple(assessment.flags),
            seconds=seconds,
        )
        outcomes.append(outcome)
        if progress is not None:
            progress(sample, outcome)
    return outcomes


def auc(positives: Sequence[float], negatives: Sequence[float]) -> float | None:
    """Area under the ROC curve of scores separating ``positives`` from ``negatives``: the share of
    (positive, negative) pairs where the positive scores higher, ties counting half (Mann-Whitney U
    divided by the number of pairs). None when either side is empty."""
    if not positives or not negatives:
        return None
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def level_errors(outcomes: Iterable[Outcome]) -> list[int]:
    """``|assessed rank - labelled rank|`` for every criterion of every honest sample."""
    return [
        abs(outcome.ranks[cid] - expected)
        for outcome in outcomes
        for cid, expected in outcome.expected_ranks.items()
        if cid in outcome.ranks
    ]


def mean_absolute_error(errors: Sequence[float]) -> float | None:
    return sum(abs(e) for e in errors) / len(errors) if errors else None


def _rate(outcomes: Sequence[Outcome], decision: str) -> float | None:
    return sum(o.decision == decision for o in outcomes) / len(outcomes) if outcomes else None


@dataclass(frozen=True)
class Figures:
    """The published figures of one rubric (or all). Rates are shares 0..1; None when the set has no
    sample of that kind. ``auc_strong_weak`` ranks by the total score."""

    samples: int
    adversarial_auto_issue_rate: float | None
    strong_auto_issue_rate: float | None
    weak_auto_issue_rate: float | None
    review_rate: float | None
    auc_strong_weak: float | None
    level_mae: float | None
    as_expected_rate: float | None
    median_ms: float | None
    counts: Mapping[str, int]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def figures(outcomes: Sequence[Outcome]) -> Figures:
    """Figures over ``outcomes`` (see :class:`Figures`)."""

    def of(label: str) -> list[Outcome]:
        return [o for o in outcomes if o.label == label]

    return Figures(
        samples=len(outcomes),
        adversarial_auto_issue_rate=_rate(of("adversarial"), "auto_issue"),
        strong_auto_issue_rate=_rate(of("strong"), "auto_issue"),
        weak_auto_issue_rate=_rate(of("weak"), "auto_issue"),
        review_rate=_rate(outcomes, "review"),
        auc_strong_weak=auc([o.share for o in of("strong")], [o.share for o in of("weak")]),
        level_mae=mean_absolute_error(level_errors(outcomes)),
        as_expected_rate=sum(o.as_expected for o in outcomes) / len(outcomes) if outcomes else None,
        median_ms=statistics.median(o.seconds for o in outcomes) * 1000 if outcomes else None,
        counts={label: len(of(label)) for label in LABELS},
    )


def report(outcomes: Sequence[Outcome]) -> dict[str, Figures]:
    """Figures per rubric (in the order first seen) and ``overall``."""
    rubrics = list(dict.fromkeys(o.rubric for o in outcomes))
    result = {name: figures([o for o in outcomes if o.rubric == name]) for name in rubrics}
    result["overall"] = figures(outcomes)
    return result


@dataclass(frozen=True)
class CalibrationBin:
    """Criterion judgements of honest samples whose confidence is in ``[low, high)`` (the last bin
    includes 1.0): how many, their mean confidence, and the share at exactly the labelled level."""

    low: float
    high: float
    count: int
    mean_confidence: float | None
    accuracy: float | None


def calibration(outcomes: Iterable[Outcome], bins: int = CALIBRATION_BINS) -> list[CalibrationBin]:
    """Confidence against level accuracy, in ``bins`` equal-width bins over 0..1."""
    pairs = [
        (outcome.confidences[cid], outcome.ranks[cid] == expected)
        for outcome in outcomes
        for cid, expected in outcome.expected_ranks.items()
        if cid in outcome.ranks
    ]
    result = []
    for number in range(bins):
        low, high = number / bins, (number + 1) / bins
        inside = [(c, hit) for c, hit in pairs if low <= c < high or (number == bins - 1 and c == 1.0)]
        result.append(
            CalibrationBin(
                low=low,
                high=high,
                count=len(inside),
                mean_confidence=sum(c for c, _ in inside) / len(inside) if inside else None,
                accuracy=sum(hit for _, hit in inside) / len(inside) if inside else None,
            )
        )
    return result


def expected_calibration_error(bins: Sequence[CalibrationBin]) -> float | None:
    """Mean |accuracy - confidence| over the bins, weighted by their counts."""
    total = sum(b.count for b in bins)
    if not total:
        return None
    return sum(b.count * abs((b.accuracy or 0.0) - (b.mean_confidence or 0.0)) for b in bins) / total


def _cell(value: float | None, *, percent: bool = False, digits: int = 2) -> str:
    if value is None:
        return "-"
    return f"{value * 100:.0f}%" if percent else f"{value:.{digits}f}"


TABLE_HEADER = (
    "| rubric | samples (S/B/W/A) | adversarial auto-issued | strong auto-issued | weak auto-issued "
    "| review | AUC strong vs weak | level MAE | as labelled | median ms |"
)


def markdown_table(by_rubric: Mapping[str, Figures]) -> str:
    """The figures as a Markdown table, one row per rubric and ``overall`` last."""
    lines = [TABLE_HEADER, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, fig in by_rubric.items():
        counts = "/".join(str(fig.counts.get(label, 0)) for label in LABELS)
        row = [
            f"**{name}**" if name == "overall" else name,
            f"{fig.samples} ({counts})",
            _cell(fig.adversarial_auto_issue_rate, percent=True),
            _cell(fig.strong_auto_issue_rate, percent=True),
            _cell(fig.weak_auto_issue_rate, percent=True),
            _cell(fig.review_rate, percent=True),
            _cell(fig.auc_strong_weak, digits=3),
            _cell(fig.level_mae),
            _cell(fig.as_expected_rate, percent=True),
            _cell(fig.median_ms, digits=0),
        ]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)
