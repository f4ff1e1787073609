"""GET /v1/assessment-quality: reviewer decisions are data. Real assessments (a scripted assessor)
are decided by reviewers through the API, and the figures per rubric and assessor are checked
exactly: counts, decision agreement (all reviewed, and the sampled ones apart), level agreement,
Cohen's kappa, periods and the verdict. Then who may read them, and the pure functions (kappa,
verdict thresholds, periods) on hand-made cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from service.assessment import quality
from service.assessment.quality import ReviewedCase
from service.platforms import scopes
from tests.assessment.helpers import (
    BORDERLINE,
    FAILING,
    PASSING,
    Cast,
    ScriptedAssessor,
    create_achievement_with_rubric,
    rubric,
)
from tests.credentials.helpers import assert_error
from tests.platforms.clients import client_token

sampling_every_one = pytest.mark.parametrize("rubric_json", [rubric("auto_with_sampling", sampling_rate=1.0)])
"""Every confident, unflagged assessment of the cast's achievement is drawn for review."""

TESTS_DOWN = {"criterion_id": "tests", "level": "none", "reason": "The tests assert nothing."}
TESTS_SOME = {"criterion_id": "tests", "level": "some", "reason": "Two real tests."}
TESTS_UP = {"criterion_id": "tests", "level": "thorough", "reason": "The suite covers every module."}
CI_PRESENT = {"criterion_id": "ci", "level": "present", "reason": "The workflow runs pytest."}


@dataclass
class Scenario:
    first: list[dict[str, Any]]
    """The cast's achievement (rubric python-testing 1, assessor scripted 0.1)."""
    second_achievement: dict[str, Any]
    appealed: dict[str, Any]
    """The second achievement's (rubric python-testing 2, policy auto, assessor scripted 0.2)."""


def judged(cast: Cast, assessor: ScriptedAssessor, levels: dict[str, str], **kwargs: Any) -> dict[str, Any]:
    """An assessment by a new earner (an earner holds one active credential per achievement)
    that the assessor judged at ``levels``; its earner's headers under ``"earner"``."""
    assessor.levels = dict(levels)
    assessor.flags = kwargs.pop("flags", ())
    earner = cast.api.create_account("earner")
    decided = cast.submit(cast.bundle(as_=earner, **kwargs)["id"], as_=earner)
    return {**decided, "earner": earner}


@pytest.fixture
def scenario(cast: Cast, assessor: ScriptedAssessor, api, app) -> Scenario:
    """Four assessments of the first rubric decided by reviewers, one still waiting, and an
    automatic rejection of the second rubric appealed and approved."""
    a = judged(cast, assessor, PASSING)  # sampled, would issue: approved as is
    b = judged(cast, assessor, PASSING)  # sampled, would issue: rejected, tests lowered
    c = judged(cast, assessor, FAILING)  # sampled, would reject: levels raised, approved
    d = judged(cast, assessor, BORDERLINE, flags=("prompt_injection",))  # flagged, passes: rejected
    judged(cast, assessor, PASSING)  # sampled, nobody decided yet: not counted
    assert [x["state"] for x in (a, b, c, d)] == ["pending_review"] * 4
    cast.act(a["id"], "approve", {})
    cast.act(b["id"], "reject", {"reason": "No real tests.", "overrides": [TESTS_DOWN]})
    cast.act(c["id"], "approve", {"overrides": [TESTS_SOME, CI_PRESENT]})
    cast.act(d["id"], "reject", {"reason": "Instructions to the grader."})

    second = create_achievement_with_rubric(api, app, cast.issuer["id"], rubric("auto", version="2"))
    assessor.version = "0.2"
    e = judged(cast, assessor, FAILING, achievement_id=second["id"])
    assert e["state"] == "rejected" and e["decision"] == "reject"
    cast.act(e["id"], "appeal", {"reason": "The tests are in tests/."}, as_=e["earner"])
    cast.act(e["id"], "approve", {"overrides": [TESTS_UP, CI_PRESENT]}, as_=cast.second_reviewer)
    return Scenario(first=[a, b, c, d], second_achievement=second, appealed=e)


def read(cast: Cast, headers: dict[str, str], expect: int = 200, **params: Any) -> dict[str, Any]:
    response = cast.client.get("/v1/assessment-quality", headers=headers, params=params)
    assert response.status_code == expect, response.text
    return response.json()


@sampling_every_one
def test_the_figures_set_what_the_assessor_proposed_against_what_reviewers_decided(cast, scenario):
    report = read(cast, cast.issuer_admin)
    assert (report["issuer_id"], report["bucket"], report["min_reviewed"]) == (cast.issuer["id"], "month", 20)
    first, second = report["groups"]
    assert first["rubric"] == {"id": "python-testing", "version": "1", "name": "Python testing rubric"}
    assert first["assessor"] == {"kind": "scripted", "version": "0.1"}
    assert first["achievement_ids"] == [cast.achievement["id"]]
    figures = {
        "reviewed": 4,
        "approved": 2,
        "rejected": 2,
        "overridden": 2,
        "sampled": 3,
        # proposed/decided: issue/issue, issue/reject, reject/issue, issue/reject (the flagged one
        # passes on the assessor's levels); kappa (0.25 - 0.5) / (1 - 0.5)
        "decisions": {
            "compared": 4,
            "agreed": 1,
            "agreement": 0.25,
            "kappa": -0.5,
            "issued_but_rejected": 2,
            "rejected_but_approved": 1,
        },
        # the three drawn at random; kappa (1/3 - 5/9) / (1 - 5/9)
        "sampled_decisions": {
            "compared": 3,
            "agreed": 1,
            "agreement": 0.3333,
            "kappa": -0.5,
            "issued_but_rejected": 1,
            "rejected_but_approved": 1,
        },
        # 8 criterion judgements; different: tests thorough->none (2), tests none->some (1),
        # ci absent->present (1)
        "levels": {"compared": 8, "exact": 5, "exact_agreement": 0.625, "mean_abs_difference": 0.5, "kappa": None},
    }
    assert first["figures"] == figures
    assert first["criteria"] == [
        # thorough/thorough, thorough/none, none/some, some/some: kappa (0.5 - 5/16) / (1 - 5/16)
        {
            "criterion_id": "tests",
            "levels": {"compared": 4, "exact": 2, "exact_agreement": 0.5, "mean_abs_difference": 0.75, "kappa": 0.2727},
        },
        # the reviewers said present every time: no agreement beyond chance
        {
            "criterion_id": "ci",
            "levels": {"compared": 4, "exact": 3, "exact_agreement": 0.75, "mean_abs_difference": 0.25, "kappa": 0.0},
        },
    ]
    assessed = datetime.fromisoformat(scenario.first[0]["assessed_at"])
    month = assessed.date().replace(day=1)
    [period] = first["periods"]
    assert period == {
        "start": month.isoformat(),
        "end": quality.bucket_end(month, "month").isoformat(),
        "figures": figures,
    }
    assert first["verdict"] == {
        "status": "insufficient_data",
        "text": "Not enough reviewed assessments to judge: 4 of the 20 needed (n < 20). "
        "Keep reviewing before you rely on automatic issue.",
    }

    assert (second["rubric"]["version"], second["assessor"]) == ("2", {"kind": "scripted", "version": "0.2"})
    assert second["achievement_ids"] == [scenario.second_achievement["id"]]
    # the automatic rejection, appealed and approved with both levels raised
    assert second["figures"]["decisions"] == {
        "compared": 1,
        "agreed": 0,
        "agreement": 0.0,
        "kappa": 0.0,
        "issued_but_rejected": 0,
        "rejected_but_approved": 1,
    }
    assert (second["figures"]["reviewed"], second["figures"]["approved"], second["figures"]["sampled"]) == (1, 1, 0)
    assert second["figures"]["levels"] == {
        "compared": 2,
        "exact": 0,
        "exact_agreement": 0.0,
        "mean_abs_difference": 1.5,
        "kappa": None,
    }


@sampling_every_one
def test_filters_narrow_the_figures_to_an_achievement_a_rubric_and_a_period(cast, scenario):
    only_second = read(cast, cast.issuer_admin, achievement_id=scenario.second_achievement["id"])
    assert [g["rubric"]["version"] for g in only_second["groups"]] == ["2"]
    assert [g["rubric"]["version"] for g in read(cast, cast.issuer_admin, rubric_id="python-testing")["groups"]] == [
        "1",
        "2",
    ]
    assert read(cast, cast.issuer_admin, rubric_id="another-rubric")["groups"] == []

    assessed = datetime.fromisoformat(scenario.first[0]["assessed_at"])
    after = (assessed + timedelta(days=1)).isoformat()
    assert read(cast, cast.issuer_admin, since=after)["groups"] == []
    assert len(read(cast, cast.issuer_admin, until=after)["groups"]) == 2

    weekly = read(cast, cast.issuer_admin, bucket="week")["groups"][0]["periods"]
    monday = assessed.date() - timedelta(days=assessed.weekday())
    assert [(p["start"], p["end"]) for p in weekly] == [(monday.isoformat(), (monday + timedelta(days=7)).isoformat())]

    assert read(cast, cast.issuer_admin, since=after, until=after)["groups"] == []  # an empty period
    assert_error(
        cast.client.get("/v1/assessment-quality", headers=cast.issuer_admin, params={"bucket": "day"}),
        422,
        "validation_error",
    )


@sampling_every_one
def test_issuer_admins_read_their_own_issuers_admins_any_and_reviewers_and_earners_none(cast, scenario, api, app):
    own = read(cast, cast.issuer_admin)
    assert read(cast, cast.api.admin, issuer_id=cast.issuer["id"]) == own
    assert read(cast, cast.issuer_admin, issuer_id=cast.issuer["id"]) == own
    assert [g["rubric"]["version"] for g in read(cast, cast.api.admin)["groups"]] == ["1", "2"]  # every issuer

    platform = client_token(app, cast.issuer["id"], scopes.ASSESSMENTS_READ)
    assert read(cast, platform.headers) == own

    elsewhere = api.create_issuer("Elsewhere Academy")
    their_admin = api.create_account("issuer_admin", elsewhere["id"])
    assert read(cast, their_admin) == {**own, "issuer_id": elsewhere["id"], "groups": []}
    assert_error(
        cast.client.get("/v1/assessment-quality", headers=their_admin, params={"issuer_id": cast.issuer["id"]}),
        404,
        "not_found",
    )
    assert read(cast, cast.api.admin, issuer_id=elsewhere["id"])["groups"] == []

    for headers in (cast.earner, cast.reviewer):
        assert_error(cast.client.get("/v1/assessment-quality", headers=headers), 403, "forbidden")


# --- the pure functions -------------------------------------------------------------------------

START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)  # a Monday


def case(n: int, proposed: str = "issue", human: str = "issue", **changes: Any) -> ReviewedCase:
    fields: dict[str, Any] = {
        "assessment_id": f"a{n:03d}",
        "achievement_id": "ach",
        "rubric_id": "r",
        "rubric_version": "1",
        "rubric_name": "R",
        "assessor_kind": "offline",
        "assessor_version": "1",
        "assessed_at": START,
        "proposed": proposed,
        "human": human,
        "sampled": False,
        "overridden": False,
        "levels": (("c", 1, 1, "mid", "mid"),),
    }
    fields.update(changes)
    return ReviewedCase(**fields)


def test_cohens_kappa_is_agreement_beyond_chance_and_undefined_without_variety():
    """The textbook table: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no: observed 0.7, chance 0.5."""
    pairs = [("y", "y")] * 20 + [("y", "n")] * 5 + [("n", "y")] * 10 + [("n", "n")] * 15
    assert quality.cohens_kappa(pairs) == pytest.approx(0.4)
    assert quality.cohens_kappa([("y", "y"), ("n", "n")]) == pytest.approx(1.0)
    assert quality.cohens_kappa([("y", "y")] * 3) is None  # both always said yes
    assert quality.cohens_kappa([]) is None


def test_there_is_no_verdict_below_twenty_reviewed_assessments():
    [group] = quality.groups([case(n) for n in range(19)], "month")
    assert group.verdict.status == "insufficient_data"
    assert "19 of the 20 needed" in group.verdict.text


def test_automatic_issue_looks_safe_only_with_high_agreement_and_almost_no_wrong_issue():
    # 49 of 50 agree, the miss a rejection a reviewer overturned; 10 drawn at random, all agreeing
    agreeing = [case(n, sampled=n < 10) for n in range(49)]
    [safe] = quality.groups([*agreeing, case(49, "reject", "issue")], "month")
    assert safe.verdict.status == "agrees"
    assert safe.verdict.text == (
        "The assessor's decisions matched reviewers in 98% of 50 cases (kappa 0.00). "
        "Its levels matched exactly in 100% of 50 criterion judgements, 0.00 levels apart on average. "
        "It would have issued no credential a reviewer rejected. "
        "Of these, 10 were drawn at random from automatic decisions (the fairest test): 100% matched. "
        "Automatic issue looks safe for this rubric and assessor."
    )
    # 19 of 20 agree (95%), but the miss is a credential issued that a reviewer rejected: 5% > 2%
    [unsafe] = quality.groups([*(case(n) for n in range(19)), case(19, "issue", "reject")], "month")
    assert unsafe.verdict.status == "disagrees"
    assert "It would have issued 1 credential reviewers rejected." in unsafe.verdict.text
    assert unsafe.verdict.text.endswith("automatic issue does not look safe yet.")


def test_periods_are_iso_weeks_or_calendar_months_by_when_the_assessor_judged():
    assert quality.bucket_start(datetime(2025, 1, 12, 23, 59, tzinfo=UTC), "week") == date(2025, 1, 6)
    assert quality.bucket_end(date(2024, 12, 1), "month") == date(2025, 1, 1)
    cases = [
        case(1, assessed_at=START),
        case(2, assessed_at=START + timedelta(days=7)),
        case(3, "issue", "reject", assessed_at=START + timedelta(days=30)),
    ]
    [weekly] = quality.groups(cases, "week")
    assert [(p.start, p.figures.reviewed) for p in weekly.periods] == [
        (date(2025, 1, 6), 1),
        (date(2025, 1, 13), 1),
        (date(2025, 2, 3), 1),
    ]
    [monthly] = quality.groups(cases, "month")
    assert [(p.start, p.end, p.figures.decisions.agreed) for p in monthly.periods] == [
        (date(2025, 1, 1), date(2025, 2, 1), 2),
        (date(2025, 2, 1), date(2025, 3, 1), 0),
    ]


def test_each_rubric_version_and_assessor_version_is_its_own_group():
    cases = [case(1), case(2, assessor_version="2"), case(3, rubric_version="2")]
    keys = [(g.rubric_version, g.assessor_version) for g in quality.groups(cases, "month")]
    assert keys == [("1", "1"), ("1", "2"), ("2", "1")]
