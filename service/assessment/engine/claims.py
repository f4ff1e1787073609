"""Claims checked against the evidence: a narrative that says the work has continuous integration
or automated tests, submitted with a repository, is checked against what the repository holds.

When a bundle has at least one repository that could be read, the submitter's own texts (text
items, files, testimonials; not fetched pages or the README) are searched for a CI claim ("GitHub
Actions", "continuous integration", "CI pipeline", ...) and a test claim ("unit tests", "pytest",
"Playwright", ...). A claim that no repository backs (no CI configuration file, no test file; see
:mod:`.repository`) raises ``claim_not_supported`` with the phrase and what was looked for.
"""

from __future__ import annotations

import re

from service.assessment.engine.reading import Reading
from service.assessment.engine.result import FLAG_CLAIM_NOT_SUPPORTED, Finding
from service.assessment.engine.text import shorten

CI_CLAIM = re.compile(
    r"\b(?:continuous\s+integration|ci\s*/\s*cd|ci\s+(?:pipeline|workflow|job|build|run)s?|github\s+actions|"
    r"gitlab\s+ci|circleci|travis(?:\s+ci)?|jenkins|buildkite|azure\s+pipelines|bitbucket\s+pipelines|"
    r"(?:run|runs|ran)\s+(?:automatically\s+)?on\s+every\s+(?:push|commit|pull\s+request|merge\s+request))\b",
    re.IGNORECASE,
)
TEST_CLAIM = re.compile(
    r"\b(?:unit\s+tests?|test\s+suites?|end[- ]to[- ]end\s+tests?|e2e\s+tests?|integration\s+tests?|"
    r"automated\s+tests?|pytest|jest|vitest|playwright|cypress|mocha|testthat|junit|rspec)\b",
    re.IGNORECASE,
)
_NARRATIVE_KINDS = ("text", "file", "testimonial")


def check_claims(reading: Reading) -> None:
    """Add a ``claim_not_supported`` finding for each claim the bundle's repositories do not back."""
    repositories = [repo.signals for repo in reading.repositories if repo.signals is not None]
    if not repositories:
        return
    repository_items = {repo.item_id for repo in reading.repositories}
    narrative = [
        screened
        for screened in reading.texts
        if screened.item_id not in repository_items and reading.kinds.get(screened.item_id) in _NARRATIVE_KINDS
    ]
    checks = (
        (CI_CLAIM, any(signals.ci_files for signals in repositories), "a CI configuration (.github/workflows, ...)"),
        (TEST_CLAIM, any(signals.test_files for signals in repositories), "test files"),
    )
    for pattern, backed, wanted in checks:
        if backed:
            continue
        for screened in narrative:
            match = pattern.search(screened.clean)
            if match:
                reading.findings.append(
                    Finding(
                        FLAG_CLAIM_NOT_SUPPORTED,
                        screened.item_id,
                        f"{screened.item_id}: claims {match.group(0)!r} but no repository in the bundle has {wanted}",
                        shorten(screened.clean[max(0, match.start() - 80) : match.end() + 80]),
                    )
                )
                break
