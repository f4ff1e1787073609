"""The REST contract (issue 9 item 7): openapi.yaml says exactly what the service does.

schemathesis runs in process against the ASGI app (``create_app``) on a fresh SQLite database,
signed in as an admin, an issuer admin and an earner in turn, with every default check: no 5xx,
documented status codes, content types, headers and response bodies, schema-valid requests
accepted and schema-invalid ones refused, ``Allow`` on 405, ignored auth, use after free, missing
required headers. It runs the examples, fuzzing and stateful phases (sequences along the links it
infers between operations), and in the longer run the coverage phase too.

A rule JSON Schema cannot express (a password zxcvbn finds guessable, a token that must exist, an
issuer id that must name an issuer...) answers with its own error ``code``, documented in the
operation. ``DOCUMENTED_REFUSALS`` lists each, and only those exact (operation, status, code)
answers to schema-valid requests pass the positive-data check; the list is itself checked against
openapi.yaml.

Bounded for ``make test`` (about 30 s a role on one core): 3 examples per operation and phase,
derandomised with a fixed seed so a run is reproducible. The longer run, with the coverage phase
(every length bound, enum value and boundary of every operation, some minutes):
``SKILLCRED_CONTRACT_EXAMPLES=25 .venv/bin/python -m pytest tests/api/test_contract.py -n 2``.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from fastapi.testclient import TestClient
from schemathesis import engine
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events
from schemathesis.specs.openapi.checks import positive_data_acceptance

from service.api.app import create_app
from service.cli.bootstrap import ensure_admin
from service.core.config import Settings
from service.evidence.intake import EvidenceFetchers
from service.evidence.repositories import RepositoryFetcher
from service.evidence.routes import evidence_fetchers
from service.net.fetch import SafeFetcher
from service.verification.service import Verifier
from tests import figures
from tests.api_client import Api
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, PUBLIC_URL, TEST_KEK

OPENAPI = Path(__file__).resolve().parents[2] / "openapi.yaml"
LONG_RUN = "SKILLCRED_CONTRACT_EXAMPLES" in os.environ
EXAMPLES = int(os.environ.get("SKILLCRED_CONTRACT_EXAMPLES", "3"))
SEED = 20261205
ROLES = ("admin", "issuer_admin", "earner")

#: Schema-valid requests the service refuses by a rule JSON Schema cannot express: (method, path)
#: -> the (status, error code) answers that are that rule. Each must be documented in the
#: operation (the status among its responses, the code in its description).
DOCUMENTED_REFUSALS: dict[tuple[str, str], set[tuple[int, str]]] = {
    # OAuth 2.0: the consent page refuses a client or redirect URI it does not know (an error page,
    # RFC 6749 section 4.1.2.1), and the consent form's request must carry its MAC
    ("GET", "/oauth/authorize"): {
        (400, "invalid_client"),
        (400, "invalid_request"),
        (400, "unsupported_response_type"),
    },
    ("POST", "/oauth/authorize"): {(400, "invalid_request")},
    # a client's metadata is checked as RFC 7591 section 3.2.2 says (redirect URIs for the code grant)
    ("POST", "/oauth/register"): {(400, "invalid_client_metadata"), (400, "invalid_redirect_uri")},
    # an issuer's client must name known scopes, grants a confidential client may use, good URIs
    ("POST", "/v1/issuers/{issuer_id}/clients"): {
        (400, "invalid_scope"),
        (400, "invalid_client_metadata"),
        (400, "invalid_redirect_uri"),
    },
    # the Open Badges API verifies what it stores, and an issuer's profile id is its DID
    ("POST", "/ims/ob/v3p0/credentials"): {(400, "invalid_data")},
    ("PUT", "/ims/ob/v3p0/profile"): {(400, "invalid_data")},
    # zxcvbn's guessability estimate and the common-password list
    ("POST", "/v1/auth/register"): {(422, "weak_password")},
    # ...and the issuer an issuer admin or reviewer names must exist
    ("POST", "/v1/accounts"): {(422, "weak_password"), (400, "issuer_required")},
    # a one-time token is valid only if it was issued, and only once
    ("POST", "/v1/auth/verify-email"): {(400, "invalid_verification_token")},
    # an achievement's parts name each other, a rubric has rules of its own, ESCO skills must exist
    **{
        operation: {
            (422, "invalid_achievement"),
            (422, "invalid_rubric"),
            (422, "rubric_conflict"),
            (422, "unknown_esco_skill"),
        }
        for operation in (
            ("POST", "/v1/issuers/{issuer_id}/achievements"),
            ("PUT", "/v1/achievements/{achievement_id}"),
        )
    },
    # a credential's results must name the achievement's result descriptions; valid_until is in the future
    ("POST", "/v1/credentials"): {(422, "invalid_credential_request")},
    ("POST", "/v1/credentials/{credential_id}/renew"): {(422, "invalid_credential_request")},
    # a name read as people read it (NFKC, case-folded) is not a DID or URL; dates in order; the
    # endorser is not the earner
    ("POST", "/v1/credentials/{credential_id}/endorsements/requests"): {
        (422, "invalid_endorser_name"),
        (422, "dates_out_of_order"),
        (422, "self_endorsement"),
    },
    # a bulk file must parse as CSV or JSON lines and every row name a real achievement...
    ("POST", "/v1/bulk/credentials"): {(422, "invalid_file"), (422, "invalid_rows")},
    # a webhook URL must be https to a public address (a string schema cannot say so), and an
    # admin names the issuer whose events it receives
    ("POST", "/v1/webhooks"): {(422, "bad_webhook_url"), (422, "issuer_required")},
    # a one-time token must be the one mailed; a signature must verify
    ("POST", "/v1/endorsements/requests/{request_id}/confirm"): {(422, "invalid_token")},
    ("POST", "/v1/credentials/{credential_id}/endorsements/signed"): {
        (422, code)
        for code in (
            "invalid_control_proof",
            "invalid_endorsement",
            "endorser_mismatch",
            "subject_mismatch",
            "endorsement_not_verified",
        )
    },
    # a compromise is reported as of now or earlier, never a moment in the future
    ("POST", "/v1/issuers/{issuer_id}/keys/{key_id}/compromise"): {(422, "invalid_compromise_report")},
}


#: The body limit is in bytes, which no JSON Schema keyword bounds (a string's maxLength counts
#: characters, and a JSON escape takes up to twelve bytes for one): every operation with a body
#: documents the 413 (``service.api.errors``), and a schema-valid body over the limit gets it.
BODY_LIMIT_REFUSAL = (413, "payload_too_large")
OB_BODY_LIMIT_REFUSAL = (413, "invalid_data")
"""The same refusal as an Open Badges API ``Imsx_StatusInfo`` (its vocabulary has no word for 413)."""
REFUSALS = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]


@schemathesis.check
def documented_refusals_or_positive_data_acceptance(ctx: Any, response: Any, case: Any) -> bool | None:
    """``positive_data_acceptance``, except for the answers ``DOCUMENTED_REFUSALS`` lists for
    this operation (a schema-valid request refused by a rule the schema cannot express), and
    ``BODY_LIMIT_REFUSAL`` for a body over the limit."""
    refusals = DOCUMENTED_REFUSALS.get((case.method.upper(), case.operation.path), set())
    if case.body is not None:
        ob_api = case.operation.path.startswith("/ims/ob/v3p0")
        refusals = refusals | {OB_BODY_LIMIT_REFUSAL if ob_api else BODY_LIMIT_REFUSAL}
    if refusals:
        try:
            body = response.json()
            code = body.get("error")
            if code is None and "imsx_codeMinor" in body:  # the Open Badges API's Imsx_StatusInfo
                code = body["imsx_codeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"]
        except (ValueError, AttributeError, KeyError, IndexError):
            # an HTML error page names its code in a data-oauth-error attribute
            found = re.search(r'data-oauth-error="([^"]*)"', response.text or "")
            code = found.group(1) if found else None
        if (response.status_code, code) in refusals:
            return None
    return positive_data_acceptance(ctx, response, case)


@dataclass
class ContractRun:
    """What a schemathesis run found: how many cases it sent, each distinct failure and error."""

    cases: int = 0
    failures: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        found = sorted(self.failures) + self.errors
        return f"{self.cases} cases, {len(self.failures)} failures, {len(self.errors)} errors\n\n" + "\n\n".join(found)


def run_contract(
    app: Any, headers: dict[str, str], *, spec: dict[str, Any] | None = None, only: tuple[str, str] | None = None
) -> ContractRun:
    """Every phase of schemathesis against ``app`` with ``headers`` and every default check (the
    positive-data one with ``DOCUMENTED_REFUSALS``), on ``app``'s own OpenAPI document or
    ``spec``, for every operation or ``only`` one (method, path)."""
    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "headers": headers,
            "workers": 1,
            # the coverage phase builds strings of every length bound from the URL and email
            # patterns, minutes of work: only in the longer run
            "phases": {"coverage": {"enabled": LONG_RUN}},
            "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none"},
            "checks": {
                # replaced, for every operation, by documented_refusals_or_positive_data_acceptance
                "positive_data_acceptance": {"enabled": False},
                # schemathesis's refusals, and 413: a body over the size limit is refused too
                "negative_data_rejection": {"expected-statuses": REFUSALS},
            },
            "suppress-health-check": ["all"],
        }
    )
    if spec is None:
        schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    else:
        schema = schemathesis.openapi.from_dict(spec, config=config)
        schema.app = app
    if only is not None:
        schema = schema.include(method=only[0], path=only[1])
    run = ContractRun()
    for event in engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished) and event.is_test_scenario:
            run.cases += len(event.recorder.cases)
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.failure_info is not None:
                        failure, sample = check.failure_info.failure, check.failure_info.code_sample
                        run.failures.add(f"{event.recorder.label}: {failure.title}\n{failure.message}\n{sample}")
        elif isinstance(event, events.NonFatalError | events.FatalError):
            run.errors.append(f"{getattr(event, 'label', 'run')}: {event.info.format()}")
    return run


def _no_network(*args: Any, **kwargs: Any) -> Any:
    raise OSError("the contract run reaches no network")


def _offline_fetchers(settings: Settings) -> EvidenceFetchers:
    """Evidence fetchers whose resolver finds no host: a URL or repository item fails as
    unreachable (422 ``url_unreachable``...), as on a machine without a network."""
    return EvidenceFetchers(
        urls=SafeFetcher(timeout=1, resolver=_no_network),
        repositories=RepositoryFetcher(
            timeout=1, max_bytes=settings.evidence_max_repository_bytes, resolver=_no_network
        ),
    )


@pytest.fixture
def deployment(tmp_path: Path, sqlite_template: Path) -> Iterator[tuple[Any, Api]]:
    """The app on a fresh SQLite database, offline (no did:web, status list or evidence fetch),
    without rate limits (a 429 would hide what the request itself would have got)."""
    database = tmp_path / "skillcred.db"
    database.write_bytes(sqlite_template.read_bytes())
    settings = Settings(
        env="test",
        database_url=f"sqlite:///{database}",
        kek=TEST_KEK,
        public_url=PUBLIC_URL,
        dev_kek_file=tmp_path / "dev-kek",
        bootstrap_admin_email=ADMIN_EMAIL,
        bootstrap_admin_password=ADMIN_PASSWORD,
        blob_dir=tmp_path / "blobs",
        rate_limits=False,
        status_list_background_resign=False,
    )
    app = create_app(settings)
    app.state.verifier = Verifier()
    app.dependency_overrides[evidence_fetchers] = lambda: _offline_fetchers(settings)
    ensure_admin(app.state.engine, settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield app, Api(client)
    app.state.engine.dispose()


@pytest.fixture(params=ROLES)
def signed_in(request: pytest.FixtureRequest, deployment: tuple[Any, Api]) -> tuple[Any, dict[str, str]]:
    """The app with an issuer, an achievement and a credential issued to a verified earner, and
    the headers that sign in as the role: the admin, that issuer's admin, or that earner."""
    app, api = deployment
    issuer = api.create_issuer("Contract Issuer")
    achievement = api.create_achievement(issuer["id"])
    earner = "contract-earner@example.com"
    headers = {
        "admin": api.admin,
        "issuer_admin": api.create_account("issuer_admin", issuer["id"]),
        "earner": api.register_earner(earner, "a-long-enough-earner-password"),
    }
    api.issue(achievement["id"], {"email": earner})
    return app, headers[request.param]


@pytest.mark.slow
def test_every_operation_keeps_the_contract(signed_in: tuple[Any, dict[str, str]]) -> None:
    """Every phase of schemathesis against every operation, as one role: no failure, no error."""
    app, headers = signed_in
    run = run_contract(app, headers)
    print(run.summary())
    figures.record("inputs fuzzed", run.cases)
    assert run.cases > 0
    assert not run.failures and not run.errors, run.summary()


def test_documented_refusals_are_in_the_contract() -> None:
    """Each refusal the positive-data check lets pass is in openapi.yaml: its status among the
    operation's responses and its code in the operation's description."""
    spec = yaml.safe_load(OPENAPI.read_text())
    for (method, path), refusals in DOCUMENTED_REFUSALS.items():
        operation = spec["paths"][path][method.lower()]
        for status, code in refusals:
            assert str(status) in operation["responses"], f"{method} {path} does not document {status}"
            assert f"`{code}`" in operation["description"], f"{method} {path} does not name `{code}`"


@pytest.mark.slow
def test_the_contract_run_can_fail(deployment: tuple[Any, Api]) -> None:
    """The run catches a contract that says less than the service does: with a document claiming
    that any text is an issuer's URL, it reports schema-valid requests the service refused; with
    the true document, none."""
    app, api = deployment
    lying = copy.deepcopy(app.openapi())
    lying["components"]["schemas"]["IssuerCreate"]["properties"]["url"] = {"type": "string", "maxLength": 2048}
    caught = run_contract(app, api.admin, spec=lying, only=("POST", "/v1/issuers"))
    assert any("Schema-valid request rejected" in failure for failure in caught.failures), caught.summary()
    truthful = run_contract(app, api.admin, only=("POST", "/v1/issuers"))
    assert truthful.cases > 0 and not truthful.failures and not truthful.errors, truthful.summary()
