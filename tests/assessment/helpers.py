"""Helpers for the assessment tests: a rubric, a scripted assessor, and a cast of accounts."""

from __future__ import annotations

import copy
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from service.api.deps import get_assessor
from service.assessment import jobs
from service.assessment.engine.bundle import EvidenceBundle
from service.assessment.engine.result import Assessment as AssessorResult
from service.assessment.engine.result import CriterionResult, EvidencePointer
from service.assessment.engine.rubric import Rubric
from service.assessment.models import Assessment, AssessmentEvent
from service.audit.models import AuditEvent
from service.credentials.models import Credential
from service.evidence.models import EvidenceBundleRecord
from service.jobs.context import JobServices
from service.status.models import StatusEntry
from tests.api_client import Api

RUBRIC: dict[str, Any] = {
    "id": "python-testing",
    "version": "1",
    "name": "Python testing rubric",
    "criteria": [
        {
            "id": "tests",
            "name": "Automated tests",
            "description": "The project has meaningful automated tests.",
            "weight": 2,
            "required": True,
            "key_ideas": ["pytest", "unit test", "assert"],
            "levels": [
                {"id": "none", "name": "None", "description": "No tests.", "points": 0},
                {"id": "some", "name": "Some", "description": "A few tests.", "points": 1},
                {"id": "thorough", "name": "Thorough", "description": "Tests cover the behaviour.", "points": 2},
            ],
        },
        {
            "id": "ci",
            "name": "Continuous integration",
            "description": "Tests run automatically on every change.",
            "weight": 1,
            "key_ideas": ["continuous integration", "workflow"],
            "levels": [
                {"id": "absent", "name": "Absent", "description": "No CI.", "points": 0},
                {"id": "present", "name": "Present", "description": "CI runs the tests.", "points": 1},
            ],
        },
    ],
    "pass_rule": {"min_total": 3, "min_confidence": 0.6},
    "policy": "auto",
}
PASSING = {"tests": "thorough", "ci": "present"}  # total 5
BORDERLINE = {"tests": "some", "ci": "present"}  # total 3: passes
FAILING = {"tests": "none", "ci": "absent"}  # total 0: fails (and "tests" is required)


def rubric(policy: str = "auto", **changes: Any) -> dict[str, Any]:
    """The test rubric with another policy (and any top-level changes)."""
    data = copy.deepcopy(RUBRIC)
    data["policy"] = policy
    data.update(changes)
    return data


@dataclass
class ScriptedAssessor:
    """An assessor that answers what the test tells it (levels, confidence, flags)."""

    levels: dict[str, str] = field(default_factory=lambda: dict(PASSING))
    confidence: float = 0.9
    flags: tuple[str, ...] = ()
    kind: str = "scripted"
    version: str = "0.1"
    calls: list[EvidenceBundle] = field(default_factory=list)

    def assess(self, bundle: EvidenceBundle, rubric: Rubric) -> AssessorResult:
        self.calls.append(bundle)
        first = bundle.items[0].id if bundle.items else "none"
        criteria = tuple(
            CriterionResult(
                criterion_id=c.id,
                level=self.levels[c.id],
                score=c.level(self.levels[c.id]).points,
                confidence=self.confidence,
                rationale=f"{c.name}: scripted as {self.levels[c.id]}",
                evidence=(EvidencePointer(item_id=first, locator="README.md"),),
                spread=0,
            )
            for c in rubric.criteria
        )
        return AssessorResult(
            criteria=criteria,
            total=rubric.total(self.levels),
            passed=rubric.passes(self.levels),
            flags=self.flags,
            assessor={"kind": self.kind, "version": self.version},
        )


_names = itertools.count(1)


@dataclass
class Cast:
    """An issuer with an achievement that has a rubric, and the people around it."""

    api: Api
    issuer: dict[str, Any]
    achievement: dict[str, Any]
    earner: dict[str, str]
    earner_email: str
    other_earner: dict[str, str]
    reviewer: dict[str, str]
    second_reviewer: dict[str, str]
    issuer_admin: dict[str, str]
    outsider_reviewer: dict[str, str]
    app: Any = None

    @property
    def client(self) -> TestClient:
        return self.api.client

    def bundle(
        self,
        *,
        as_: dict[str, str] | None = None,
        text: str = "I wrote tests with pytest.",
        achievement_id: str | None = None,
    ) -> dict[str, Any]:
        """A new bundle of the earner's with one text item."""
        headers = as_ or self.earner
        response = self.client.post(
            "/v1/evidence/bundles", headers=headers, json={"achievement_id": achievement_id or self.achievement["id"]}
        )
        assert response.status_code == 201, response.text
        bundle = response.json()
        if text:
            self.add_text(bundle["id"], text, as_=headers)
        return bundle

    def add_text(self, bundle_id: str, text: str, *, as_: dict[str, str] | None = None) -> dict[str, Any]:
        response = self.client.post(
            f"/v1/evidence/bundles/{bundle_id}/items",
            headers=as_ or self.earner,
            json={"kind": "text", "text": text, "name": "Write-up"},
        )
        assert response.status_code == 201, response.text
        return response.json()

    def submit(
        self,
        bundle_id: str,
        *,
        renews: str | None = None,
        as_: dict[str, str] | None = None,
        expect: int = 202,
        wait: bool = True,
    ) -> dict[str, Any]:
        """Submit the bundle; unless told not to ``wait``, the assessment once decided."""
        body: dict[str, Any] = {"bundle_id": bundle_id}
        if renews is not None:
            body["renews"] = renews
        response = self.client.post("/v1/assessments", json=body, headers=as_ or self.earner)
        assert response.status_code == expect, response.text
        if expect != 202 or not wait:
            return response.json()
        assert response.headers["Location"] == f"/v1/assessments/{response.json()['id']}"
        return self.decided(response.json()["id"], as_=as_)

    def decided(self, assessment_id: str, *, as_: dict[str, str] | None = None) -> dict[str, Any]:
        """The assessment once its job has decided it (see :func:`wait_decided`)."""
        return wait_decided(self.app, self.client, assessment_id, as_ or self.earner)

    def submitted(self, **kwargs: Any) -> dict[str, Any]:
        """A new bundle, submitted."""
        return self.submit(self.bundle()["id"], **kwargs)

    def act(
        self,
        assessment_id: str,
        action: str,
        body: dict[str, Any],
        *,
        as_: dict[str, str] | None = None,
        expect: int = 200,
    ) -> dict[str, Any]:
        response = self.client.post(
            f"/v1/assessments/{assessment_id}/{action}", json=body, headers=as_ or self.reviewer
        )
        assert response.status_code == expect, response.text
        return response.json()

    def get(self, assessment_id: str, *, as_: dict[str, str] | None = None, expect: int = 200) -> dict[str, Any]:
        response = self.client.get(f"/v1/assessments/{assessment_id}", headers=as_ or self.earner)
        assert response.status_code == expect, response.text
        return response.json()


def make_cast(api: Api, app: Any, rubric_json: dict[str, Any] | None) -> Cast:
    issuer = api.create_issuer("Acme Academy")
    other_issuer = api.create_issuer("Other Academy")
    achievement = create_achievement_with_rubric(api, app, issuer["id"], rubric_json)
    n = next(_names)
    earner_email, password = f"earner{n}@example.org", "a-long-enough-password"
    response = api.client.post(
        "/v1/accounts", headers=api.admin, json={"email": earner_email, "password": password, "role": "earner"}
    )
    assert response.status_code == 201, response.text
    return Cast(
        api=api,
        issuer=issuer,
        achievement=achievement,
        earner=api.login(earner_email, password),
        earner_email=earner_email,
        other_earner=api.create_account("earner"),
        reviewer=api.create_account("reviewer", issuer["id"]),
        second_reviewer=api.create_account("reviewer", issuer["id"]),
        issuer_admin=api.create_account("issuer_admin", issuer["id"]),
        outsider_reviewer=api.create_account("reviewer", other_issuer["id"]),
        app=app,
    )


def create_achievement_with_rubric(
    api: Api, app: Any, issuer_id: str, rubric_json: dict[str, Any] | None
) -> dict[str, Any]:
    """An achievement judged by ``rubric_json`` (None: an achievement without a rubric)."""
    if rubric_json is None:
        return api.create_achievement(issuer_id, name="Python testing")
    response = api.client.post(
        f"/v1/issuers/{issuer_id}/achievements",
        headers=api.admin,
        json={
            "name": "Python testing",
            "description": "Writes meaningful automated tests.",
            "criteria": {"narrative": "A repository with a tested project."},
            "rubric": rubric_json,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def row_counts(app: Any) -> dict[str, int]:
    """Rows that an assessment, a decision or an issuance writes."""
    with Session(app.state.engine) as session:
        return {
            model.__name__: session.exec(select(func.count()).select_from(model)).one()
            for model in (Assessment, AssessmentEvent, Credential, StatusEntry, AuditEvent)
        }


def bundle_row(app: Any, bundle_id: str) -> EvidenceBundleRecord:
    with Session(app.state.engine) as session:
        bundle = session.get(EvidenceBundleRecord, bundle_id)
        assert bundle is not None
        session.expunge(bundle)
        return bundle


def audit_actions(app: Any, object_id: str) -> list[str]:
    with Session(app.state.engine) as session:
        return [
            e.action
            for e in session.exec(select(AuditEvent).where(AuditEvent.object_id == object_id).order_by(AuditEvent.at))
        ]


UNDECIDED = ("queued", "running")
ASSESSED = ("submitted", "started", "assessed")
"""The events of an assessment its job has decided: queued, running, decided."""
RETRY_ATTEMPTS = 2
"""How many times the tests' assessment job runs before it gives up (``conftest``: no waiting)."""
DEADLINE_SECONDS = 30.0


def services_of_app(app: Any) -> JobServices:
    """The :class:`JobServices` a worker of ``app`` gets."""
    state = app.state
    return JobServices(state.engine, state.keystore, state.settings, state.mailer, state.clock)


def run_inline(app: Any, assessment_id: str) -> None:
    """Run ``assessment:run`` for ``assessment_id`` in this thread (a test app without a worker),
    with the assessor the app is scripted with (``get_assessor`` override), else the job's."""
    services = services_of_app(app)
    override = app.dependency_overrides.get(get_assessor)
    jobs.run_assessment(services, assessment_id, override() if override else jobs.assessor_for(services))


def wait_decided(
    app: Any, client: TestClient, assessment_id: str, headers: dict[str, str], deadline: float = DEADLINE_SECONDS
) -> dict[str, Any]:
    """Poll GET /v1/assessments/{id} until the assessment leaves ``queued``/``running`` (its job
    runs in the app's worker; without one, it is run here first). Fails after ``deadline`` s."""
    if app is not None and getattr(app.state, "worker", None) is None:
        run_inline(app, assessment_id)
    give_up = time.monotonic() + deadline
    while True:
        response = client.get(f"/v1/assessments/{assessment_id}", headers=headers)
        assert response.status_code == 200, response.text
        if response.json()["state"] not in UNDECIDED:
            return response.json()
        assert time.monotonic() < give_up, f"assessment {assessment_id} still {response.json()['state']}"
        time.sleep(0.05)


def platform_acting_for_new_earner(cast: Cast, external_id: str = "u-1") -> dict[str, str]:
    """The headers of a platform of the cast's issuer (evidence and assessment scopes) acting
    (``On-Behalf-Of``) for an earner it just provisioned."""
    from service.platforms import scopes
    from tests.platforms.clients import client_token

    granted = " ".join([scopes.EARNERS_PROVISION, scopes.EVIDENCE_WRITE, scopes.ASSESSMENTS_READ])
    platform = client_token(cast.app, cast.issuer["id"], granted)
    provisioned = cast.client.post(
        "/v1/platform/earners",
        headers=platform.headers,
        json={"external_id": external_id, "email": f"{external_id}-{next(_names)}@example.org"},
    )
    assert provisioned.status_code == 201, provisioned.text
    return {**platform.headers, "On-Behalf-Of": provisioned.json()["id"]}
