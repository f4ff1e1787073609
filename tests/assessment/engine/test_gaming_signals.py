"""Evidence that is not prose or work gets no credit for its words (issue 14): keyword lists, word
salad, repetition, rubric copies, boilerplate and off-topic text each raise a named flag that states
the measured signal, and are never issued automatically; depth measures distinct, specific content,
not length; text-only claims go to a reviewer; claims are checked against the repository. Each
attack has an honest counterpart that is not flagged. Run with and without the embedding model."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from service.assessment.engine.bundle import EvidenceBundle, EvidenceItem
from service.assessment.engine.decision import decide, explain
from service.assessment.engine.local import repository_item
from service.assessment.engine.offline import OfflineAssessor
from service.assessment.engine.result import (
    FLAG_BOILERPLATE,
    FLAG_CLAIM_NOT_SUPPORTED,
    FLAG_KEYWORD_LIST,
    FLAG_OFF_TOPIC,
    FLAG_REPETITION,
    FLAG_RUBRIC_COPY,
    GAMING_FLAGS,
    Assessment,
)
from service.assessment.engine.rubric import Rubric, load_rubric
from tests.assessment.engine.labelled import SAMPLES, make_repository, rubric, sample_bundle, samples


def _level(rank: int, description: str) -> dict:
    ids = ("none", "developing", "proficient", "advanced")
    return {"id": ids[rank], "name": ids[rank].title(), "description": description, "points": rank}


# A rubric like the one of the issue's attack: four criteria of 3 points, four key ideas each, policy auto.
A11Y = load_rubric(
    {
        "id": "a11y",
        "version": "1",
        "name": "Accessible web pages",
        "description": "Builds web pages that everyone can use.",
        "policy": "auto",
        "pass_rule": {"min_total": 7, "min_confidence": 0.6},
        "criteria": [
            {
                "id": "semantics",
                "name": "Semantic HTML",
                "weight": 1,
                "description": "Marks up pages with semantic HTML so that assistive technology understands them.",
                "key_ideas": ["semantic html", "accessibility", "landmarks", "headings"],
                "levels": [
                    _level(0, "No semantic markup."),
                    _level(1, "Some semantic elements."),
                    _level(2, "Landmarks and headings used correctly."),
                    _level(3, "Structure verified with a screen reader."),
                ],
            },
            {
                "id": "keyboard",
                "name": "Keyboard access",
                "weight": 1,
                "description": "Every control can be reached and used from the keyboard.",
                "key_ideas": ["keyboard navigation", "focus order", "visible focus", "skip link"],
                "levels": [
                    _level(0, "Mouse only."),
                    _level(1, "Some controls reachable."),
                    _level(2, "All controls reachable in a logical order."),
                    _level(3, "Focus management for dialogs and dynamic content."),
                ],
            },
            {
                "id": "media",
                "name": "Text alternatives",
                "weight": 1,
                "description": "Images and media have text alternatives.",
                "key_ideas": ["alt text", "captions", "transcripts", "decorative images"],
                "levels": [
                    _level(0, "No alternatives."),
                    _level(1, "Some images described."),
                    _level(2, "Meaningful alternatives for all content images."),
                    _level(3, "Captions and transcripts for media."),
                ],
            },
            {
                "id": "contrast",
                "name": "Colour and contrast",
                "weight": 1,
                "description": "Text has enough contrast and colour is never the only cue.",
                "key_ideas": ["colour contrast", "wcag", "contrast ratio", "colour alone"],
                "levels": [
                    _level(0, "Not considered."),
                    _level(1, "Checked by eye."),
                    _level(2, "Measured against WCAG AA."),
                    _level(3, "Design tokens enforce the ratios."),
                ],
            },
        ],
    }
)
LENIENT = dataclasses.replace(A11Y, min_confidence=0.0)
WEBDEV = dataclasses.replace(rubric("webdev"), min_confidence=0.0)
STRONG = (SAMPLES / "honest/webdev/strong-bakery-case-study.md").read_text()  # passes WEBDEV at 12 of 12

HONEST = """Case study: accessible booking pages for Harbour Yoga (2025).

I rebuilt the four booking pages of harbouryoga.example with a header, nav, main and footer landmark each
and one h1 per page, so NVDA users can jump straight to the timetable. I tested every flow with NVDA 2024.1
on Firefox and VoiceOver on iOS 17 and fixed three problems: the class filter was a div with a click
handler, the dialog did not trap focus, and the success message was never announced.

The filter is now a fieldset of radio buttons; the dialog returns focus to the button that opened it;
the message lives in an aria-live region. I added a skip link and a visible 3px focus outline.

Photos of the studio got short alt text written with the owner; the six decorative wave images have
empty alt. The two instructor videos now have captions and a transcript below them.

Axe reported 14 contrast failures; I darkened the teal to #00696f, which gives 5.2:1 on white, and the
form errors are now marked with an icon and text instead of red alone."""


def item(text: str, *, kind: str = "file", item_id: str = "t", media_type: str = "text/plain") -> EvidenceItem:
    data = text.encode()
    return EvidenceItem(
        id=item_id,
        kind=kind,  # type: ignore[arg-type]
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        media_type=media_type,
        text=text,
    )


@pytest.fixture(scope="module", params=[True, False], ids=["embeddings", "no-embeddings"])
def assessor(request) -> OfflineAssessor:
    return OfflineAssessor(use_embeddings=request.param)


def judged(assessor: OfflineAssessor, *items: EvidenceItem, of: Rubric = A11Y) -> Assessment:
    return assessor.assess(EvidenceBundle(items=items), of)


def never_auto_issued(assessment: Assessment, of: Rubric = LENIENT) -> None:
    for policy in ("auto", "auto_with_sampling"):
        lenient = dataclasses.replace(of, policy=policy, min_confidence=0.0)
        assert decide(assessment, lenient, sample=0.99) != "auto_issue", policy


def reasons(assessment: Assessment, flag: str) -> list[str]:
    return [finding.reason for finding in assessment.findings if finding.flag == flag]


def test_an_honest_case_study_is_unflagged_and_as_a_file_is_issued_automatically(assessor):
    assert judged(assessor, item(HONEST)).flags == ()
    assessment = judged(assessor, item(STRONG), of=WEBDEV)
    assert assessment.flags == () and decide(assessment, WEBDEV) == "auto_issue"


# -- the issue's first attack: the rubric's key terms, no sentence, repeated six times --------------

KEY_TERMS = [
    "Semantic HTML, accessibility, ARIA roles, assistive technology, landmarks",
    "Keyboard navigation, focus order, tab order, focus management",
    "Alt text, captions, transcripts, text alternatives, media",
    "Colour contrast, WCAG AA, contrast ratio, design tokens",
]


def test_the_rubrics_key_terms_listed_six_times_are_flagged_get_no_depth_and_are_never_issued(assessor):
    """Before: 12 of 12, "depth 1.00", auto-issued. Now: keyword list and repetition, no credit."""
    assessment = judged(assessor, item("\n".join(KEY_TERMS * 6)))
    assert {FLAG_KEYWORD_LIST, FLAG_REPETITION} <= set(assessment.flags)
    assert "rubric keyword density" in reasons(assessment, FLAG_KEYWORD_LIST)[0]
    assert all(result.signals["depth"] == 0.0 for result in assessment.criteria)
    assert assessment.total == 0.0
    never_auto_issued(assessment)


def test_word_salad_of_rubric_terms_without_a_verb_is_a_keyword_list(assessor):
    salad = (
        "semantic html landmarks headings keyboard navigation focus order visible focus skip link alt text "
        "captions transcripts colour contrast wcag contrast ratio decorative images screen reader"
    )
    assessment = judged(assessor, item(salad))
    assert FLAG_KEYWORD_LIST in assessment.flags or FLAG_RUBRIC_COPY in assessment.flags
    never_auto_issued(assessment)


def test_a_short_list_of_tools_inside_honest_prose_is_not_a_keyword_list(assessor):
    text = HONEST + "\n\nTools: NVDA, VoiceOver, axe DevTools, Lighthouse, Figma."
    assert judged(assessor, item(text)).flags == ()


# -- repetition and padding ----------------------------------------------------------------------


def test_a_paragraph_written_out_five_times_is_flagged_with_the_repeated_share(assessor):
    paragraph = (
        "I added landmarks and headings to the pages of the booking site so that screen reader users can move "
        "around quickly, and I checked the keyboard focus order on every form of the site."
    )
    assessment = judged(assessor, item("\n\n".join([paragraph] * 5)))
    assert FLAG_REPETITION in assessment.flags
    assert "repeated" in reasons(assessment, FLAG_REPETITION)[0]
    never_auto_issued(assessment)


def test_padding_with_the_same_few_words_is_flagged_by_its_low_lexical_diversity(assessor):
    padding = " ".join(["accessible pages are good and accessible pages are great for users"] * 12)
    assessment = judged(assessor, item(HONEST + "\n\n" + padding))
    assert FLAG_REPETITION in assessment.flags
    never_auto_issued(assessment)


def test_the_same_case_study_pasted_twice_is_padding_and_adds_nothing_to_the_score(assessor):
    once = judged(assessor, item(STRONG), of=WEBDEV)
    padded = judged(assessor, item(STRONG + "\n\n" + STRONG), of=WEBDEV)
    assert FLAG_REPETITION in padded.flags and "repeated sentences" in reasons(padded, FLAG_REPETITION)[0]
    assert padded.total <= once.total
    assert [c.signals["depth"] for c in padded.criteria] == [c.signals["depth"] for c in once.criteria]
    never_auto_issued(padded, WEBDEV)


# -- copies of the rubric ------------------------------------------------------------------------


def test_a_reordered_near_copy_of_a_criterion_is_a_rubric_copy(assessor):
    text = (
        "So that assistive technology understands them, I mark up pages with semantic HTML. "
        "Every control can be reached from the keyboard and used. "
        "Images and media in my pages have text alternatives. "
        "Text has enough contrast, and colour is never the only cue."
    )
    assessment = judged(assessor, item(text))
    assert FLAG_RUBRIC_COPY in assessment.flags
    never_auto_issued(assessment)


# -- boilerplate ---------------------------------------------------------------------------------

BOILERPLATE = (
    "I am a passionate and results-driven professional with a proven track record. "
    "I always follow best practices and pay great attention to detail. "
    "My clients are always satisfied with the high-quality solutions I deliver. "
    "I am highly motivated, a fast learner and a true team player. "
    "I go above and beyond to exceed expectations on every project."
)


def test_generic_claims_that_would_fit_any_submission_are_boilerplate(assessor):
    assessment = judged(assessor, item(BOILERPLATE))
    assert FLAG_BOILERPLATE in assessment.flags
    assert "stock claims" in reasons(assessment, FLAG_BOILERPLATE)[0]
    never_auto_issued(assessment)


def test_an_honest_modest_profile_with_specifics_is_not_boilerplate(assessor):
    text = (
        "I am passionate about accessible design. Last spring I audited the site of Lisbon's Casa do Livro with "
        "axe and NVDA and fixed 23 issues. I always test forms with the keyboard before I hand them over."
    )
    assert FLAG_BOILERPLATE not in judged(assessor, item(text)).flags


# -- off-topic text ------------------------------------------------------------------------------

RECIPE = (
    "Grandmother's apple cake. Peel and slice six tart apples and toss them with lemon juice, cinnamon and a "
    "spoon of brown sugar. Cream two hundred grams of butter with the sugar until pale, beat in four eggs one "
    "at a time, then fold in the flour, baking powder and a pinch of salt. Spread half the batter in a buttered "
    "tin, layer the apples, cover with the rest and bake for fifty minutes until a skewer comes out clean. "
    "Let it cool in the tin, dust with icing sugar and serve with whipped cream on a rainy Sunday afternoon."
)


def test_an_off_topic_text_is_flagged_with_its_relevance(assessor):
    assessment = judged(assessor, item(RECIPE, kind="text"))
    assert FLAG_OFF_TOPIC in assessment.flags
    assert any("rubric" in reason or "criterion" in reason for reason in reasons(assessment, FLAG_OFF_TOPIC))
    never_auto_issued(assessment)


def test_on_topic_evidence_written_plainly_is_not_off_topic(assessor):
    text = (
        "My first accessible page was a menu for a café. I used real headings instead of bold text, wrote alt "
        "text for the photos of the cakes, and checked that every link could be reached with the Tab key. "
        "The owner's father uses a screen reader and told me he could finally order online by himself, and "
        "the contrast checker said the brown text on cream was fine after I made it darker."
    )
    assert FLAG_OFF_TOPIC not in judged(assessor, item(text, kind="text")).flags


# -- depth: distinct, specific content -----------------------------------------------------------


def test_depth_counts_distinct_specific_content_not_length(assessor):
    claim = "I make accessible pages with semantic HTML, landmarks and headings, and I care about accessibility."
    said_often = next(
        c for c in judged(assessor, item(" ".join([claim] * 8))).criteria if c.criterion_id == "semantics"
    )
    worked = next(c for c in judged(assessor, item(HONEST)).criteria if c.criterion_id == "semantics")
    assert said_often.signals["depth"] < 0.2 < worked.signals["depth"]
    assert worked.signals["specifics"] >= 3
    assert "distinct words beyond the rubric" in worked.rationale


# -- the issue's second attack: two fluent sentences of self-description -------------------------

FLUENT_CLAIM = (
    "I have written many accessible semantic HTML pages for clients over the years, and I always check them "
    "with a screen reader and the keyboard. Accessibility is central to my work."
)


def test_two_fluent_sentences_of_self_description_are_never_issued_automatically(assessor):
    assessment = judged(assessor, item(FLUENT_CLAIM, kind="text"))
    never_auto_issued(assessment)


def test_text_only_evidence_goes_to_review_even_when_it_passes(assessor):
    assessment = judged(assessor, item(STRONG, kind="text"), of=WEBDEV)
    assert assessment.flags == () and assessment.passed and assessment.artefacts == ()
    outcome = explain(assessment, WEBDEV)
    assert outcome.decision == "review" and outcome.reasons[0].startswith("no artefact cited")


def test_the_same_text_as_a_testimonial_is_an_artefact(assessor):
    assessment = judged(assessor, item(STRONG, kind="testimonial"), of=WEBDEV)
    assert assessment.artefacts == ("t",) and decide(assessment, WEBDEV) == "auto_issue"


def test_an_artefact_the_judgement_does_not_cite_does_not_unlock_auto_issue(assessor):
    notes = item("Shopping list: eggs, flour, butter, apples, cinnamon.", item_id="notes")
    assessment = judged(assessor, item(STRONG, kind="text", item_id="claim"), notes, of=WEBDEV)
    assert assessment.artefacts == ("notes",) and assessment.passed
    assert decide(assessment, WEBDEV) == "review"


# -- claims checked against the repository -------------------------------------------------------

CI_CLAIM = (
    "My Trailhead app has unit tests with Vitest and a GitHub Actions pipeline that runs them on every push, "
    "so nothing reaches production untested."
)


def test_a_ci_and_tests_claim_that_the_repository_does_not_back_is_flagged(assessor, tmp_path):
    repository = make_repository(tmp_path / "bare", None, commits=3, days=2, extra_files={"index.html": "<h1>x</h1>"})
    assessment = judged(assessor, item(CI_CLAIM, kind="text"), repository_item(repository, "repo"), of=rubric("webdev"))
    found = reasons(assessment, FLAG_CLAIM_NOT_SUPPORTED)
    assert any("CI configuration" in reason for reason in found) and any("test files" in reason for reason in found)
    never_auto_issued(assessment, rubric("webdev"))


def test_the_same_claim_backed_by_the_repository_is_not_flagged(assessor, tmp_path):
    repository = make_repository(tmp_path / "trailhead", SAMPLES / "repos/trailhead", commits=20, days=40)
    assessment = judged(assessor, item(CI_CLAIM, kind="text"), repository_item(repository, "repo"), of=rubric("webdev"))
    assert FLAG_CLAIM_NOT_SUPPORTED not in assessment.flags


# -- the labelled set ----------------------------------------------------------------------------


def test_no_honest_sample_of_the_labelled_set_raises_a_gaming_flag(assessor, tmp_path):
    flagged = {}
    for sample in samples():
        if sample.label != "honest":
            continue
        assessment = assessor.assess(sample_bundle(sample, tmp_path), rubric(sample.rubric))
        raised = set(assessment.flags) & (GAMING_FLAGS | {FLAG_CLAIM_NOT_SUPPORTED})
        if raised:
            flagged[sample.id] = sorted(raised)
    assert flagged == {}


def test_a_fetched_page_unrelated_to_the_claim_and_the_rubric_is_flagged_with_its_similarity():
    page = dataclasses.replace(item(RECIPE, kind="url", item_id="page"), url="https://example.org/portfolio")
    assessment = OfflineAssessor().assess(EvidenceBundle(items=(item(CI_CLAIM, kind="text"), page)), WEBDEV)
    found = reasons(assessment, FLAG_CLAIM_NOT_SUPPORTED)
    assert found and "fetched page does not relate" in found[0]
    never_auto_issued(assessment, WEBDEV)


def test_a_fetched_page_that_shows_the_claimed_work_is_not_flagged():
    page = dataclasses.replace(item(STRONG, kind="url", item_id="page"), url="https://example.org/bakery")
    assessment = OfflineAssessor().assess(EvidenceBundle(items=(item(CI_CLAIM, kind="text"), page)), WEBDEV)
    assert FLAG_CLAIM_NOT_SUPPORTED not in assessment.flags
