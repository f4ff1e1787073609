"""``skillcred assess``, run as a subprocess the way integrations and audits run it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.assessment.engine.labelled import SAMPLES, make_repository

RUBRIC = SAMPLES / "rubrics/webdev.json"
REPO_ROOT = Path(__file__).resolve().parents[3]


def assess(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli.main", "assess", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
    )


@pytest.fixture(scope="module")
def repository(tmp_path_factory) -> Path:
    return make_repository(
        tmp_path_factory.mktemp("cli") / "trailhead", SAMPLES / "repos/trailhead", commits=30, days=60
    )


def test_json_output_follows_the_contract_for_a_repository_and_a_markdown_file(repository):
    notes = SAMPLES / "honest/webdev/strong-repo-notes.md"
    completed = assess("--rubric", RUBRIC, repository, notes, "--json")
    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)
    assert document["decision"] in ("auto_issue", "review", "reject")
    assert isinstance(document["total"], (int, float)) and document["total"] >= 7
    assert [c["id"] for c in document["criteria"]] == ["semantics", "responsive", "javascript", "testing"]
    for criterion in document["criteria"]:
        assert {"id", "level", "score", "confidence"} <= set(criterion)
        assert 0 <= criterion["confidence"] <= 1
    assert document["flags"] == []
    assert set(document["evidence"]) == {str(repository), str(notes)}
    assert document["rubric"]["hash"].startswith("sha256:") and document["assessor"]["kind"] == "offline"


def test_the_same_evidence_gives_the_same_json(repository):
    first = assess("--rubric", RUBRIC, repository, "--json")
    assert first.stdout == assess("--rubric", RUBRIC, repository, "--json").stdout


def test_an_adversarial_file_is_flagged_and_sent_to_review():
    completed = assess("--rubric", RUBRIC, SAMPLES / "adversarial/webdev/strong-with-postscript.md", "--json")
    document = json.loads(completed.stdout)
    assert completed.returncode == 0 and document["decision"] == "review"
    assert "prompt_injection" in document["flags"]
    assert document["findings"][0]["flag"] == "prompt_injection"


def test_weak_evidence_is_rejected():
    completed = assess("--rubric", RUBRIC, SAMPLES / "honest/webdev/weak-claims.md", "--json")
    assert json.loads(completed.stdout)["decision"] == "reject"


def test_the_readable_summary(repository):
    completed = assess("--rubric", RUBRIC, repository)
    assert completed.returncode == 0
    assert completed.stdout.startswith("Front-end web development (webdev-frontend v1)\nDecision: ")
    assert "testing" in completed.stdout and "confidence" in completed.stdout


def test_an_invalid_rubric_exits_2_with_a_message_and_no_traceback(tmp_path):
    bad = tmp_path / "rubric.json"
    bad.write_text(
        json.dumps(
            {
                "id": "x",
                "version": "1",
                "name": "x",
                "policy": "sometimes",
                "pass_rule": {"min_total": 1},
                "criteria": [],
            }
        )
    )
    completed = assess("--rubric", bad, SAMPLES / "honest/webdev/weak-claims.md")
    assert completed.returncode == 2 and completed.stdout == ""
    assert "invalid rubric" in completed.stderr and "policy" in completed.stderr
    assert "Traceback" not in completed.stderr


@pytest.mark.parametrize("content", ["not json", "[1, 2]"])
def test_a_rubric_that_is_not_a_json_object_exits_2(tmp_path, content):
    bad = tmp_path / "rubric.json"
    bad.write_text(content)
    completed = assess("--rubric", bad, SAMPLES / "honest/webdev/weak-claims.md")
    assert completed.returncode == 2 and "Traceback" not in completed.stderr


def test_missing_evidence_or_rubric_exits_2(tmp_path):
    completed = assess("--rubric", RUBRIC, tmp_path / "missing.md")
    assert completed.returncode == 2 and "no such file" in completed.stderr and "Traceback" not in completed.stderr
    completed = assess("--rubric", tmp_path / "missing.json", SAMPLES / "honest/webdev/weak-claims.md")
    assert completed.returncode == 2 and "cannot read" in completed.stderr


def test_a_directory_that_is_not_a_repository_exits_2(tmp_path):
    completed = assess("--rubric", RUBRIC, tmp_path)
    assert completed.returncode == 2 and "not a git repository" in completed.stderr
