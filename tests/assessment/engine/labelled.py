"""The labelled evidence set (``samples/manifest.yaml``): loading samples as evidence bundles, and
building small git repositories with a deterministic history (also used by bench/assessment.py)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from service.assessment.engine.bundle import EvidenceBundle, EvidenceItem
from service.assessment.engine.evaluation import make_repository as build_repository
from service.assessment.engine.local import file_item, repository_item
from service.assessment.engine.rubric import Rubric, load_rubric

SAMPLES = Path(__file__).parent / "samples"


@dataclass(frozen=True)
class Sample:
    id: str
    rubric: str
    label: str
    strength: str | None
    technique: str | None
    base: str | None
    items: tuple[dict[str, Any], ...]


@cache
def manifest() -> dict[str, Any]:
    return yaml.safe_load((SAMPLES / "manifest.yaml").read_text(encoding="utf-8"))


@cache
def rubric(name: str) -> Rubric:
    return load_rubric(json.loads((SAMPLES / manifest()["rubrics"][name]).read_text(encoding="utf-8")))


def samples() -> list[Sample]:
    return [
        Sample(
            id=s["id"],
            rubric=s["rubric"],
            label=s["label"],
            strength=s.get("strength"),
            technique=s.get("technique"),
            base=s.get("base"),
            items=tuple(s["items"]),
        )
        for s in manifest()["samples"]
    ]


def make_repository(
    target: Path,
    files: Path | None,
    *,
    commits: int,
    days: float,
    authors: int = 1,
    subjects: list[str] | None = None,
    extra_files: dict[str, str] | None = None,
) -> Path:
    """A git repository at ``target``: the files of the folder ``files`` (and ``extra_files``) in
    the first commit, then the history of :func:`service.assessment.engine.evaluation.make_repository`
    (fixed dates and identities: the same repository every time)."""
    target.mkdir(parents=True, exist_ok=True)
    if files is not None:
        shutil.copytree(files, target, dirs_exist_ok=True)
    return build_repository(
        target, extra_files or {}, commits=commits, days=days, authors=authors, subjects=tuple(subjects or ())
    )


def sample_bundle(sample: Sample, workdir: Path) -> EvidenceBundle:
    """The evidence bundle of ``sample``; repositories are built under ``workdir``."""
    items: list[EvidenceItem] = []
    for number, spec in enumerate(sample.items):
        if "repo" in spec:
            key = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]
            target = workdir / f"{Path(spec['repo']).name}-{key}"
            if not (target / ".git").exists():
                make_repository(
                    target,
                    SAMPLES / spec["repo"],
                    commits=spec["commits"],
                    days=spec["days"],
                    authors=spec.get("authors", 1),
                    subjects=spec.get("subjects"),
                )
            items.append(repository_item(target, f"item-{number}"))
        else:
            item = file_item(SAMPLES / spec["path"], f"item-{number}")
            if spec.get("kind"):
                item = dataclasses.replace(item, kind=spec["kind"])
            items.append(item)
    return EvidenceBundle(items=tuple(items))
