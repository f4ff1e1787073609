"""``credentialSubject.endorser`` is defined in SkillCred's own context (``https://w3id.org/skillcred/v1``)
by adding terms only: every document signed under the context as it was before expands, and so
verifies, exactly as before; the new term is needed (safe mode refuses it without) and signed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from service.endorsements.credential import InvalidEndorsement, build_issuer_signed_endorsement, read_endorsement
from service.vc import jsonld
from service.vc import openbadges as ob
from service.vc.errors import JsonLdSafeModeError
from service.vc.skillcred import SKILLCRED_V1, SKILLCRED_V1_FILE, SKILLCRED_VOCAB
from tests.vc.test_skillcred import credential as assessed_credential

BEFORE = json.loads((Path(__file__).parent / "fixtures" / "skillcred-v1-before-endorser.jsonld").read_text())
"""The context as published before the endorser terms were added (git history, 2026-11)."""
OLD_LOADER = jsonld.DocumentLoader(extra={SKILLCRED_V1: BEFORE})
ISSUER = ob.IssuerProfile(id="did:web:skillcred.example:issuers:acme", name="Acme Academy", url="https://acme.example")


def endorsement(name: str = "Harvard University Registrar") -> dict:
    return build_issuer_signed_endorsement(
        endorsement_id="https://skillcred.example/endorsements/1",
        issuer=ISSUER,
        endorser_name=name,
        endorser_email="registrar@attacker.example",
        subject_id="https://skillcred.example/credentials/1",
        achievement_name="Python testing",
        comment="Great work.",
        valid_from=datetime(2026, 12, 5, tzinfo=UTC),
        status_entry=None,
        salt="00" * 16,
    )


def _terms(context: dict) -> dict:
    return context["@context"]


def test_the_context_only_adds_terms():
    now = _terms(json.loads(SKILLCRED_V1_FILE.read_text()))
    before = _terms(BEFORE)
    assert {key: now[key] for key in before} == before
    assert sorted(set(now) - set(before)) == ["SkillCredEndorser", "endorser"]


def test_a_credential_signed_under_the_earlier_context_canonicalises_byte_for_byte_as_before():
    document = assessed_credential("did:web:skillcred.example:issuers:acme")

    assert jsonld.canonize(document) == jsonld.canonize(document, OLD_LOADER)


def test_the_endorser_expands_to_skillcred_iris_and_the_issuer_keeps_its_own_name():
    nquads = jsonld.canonize(endorsement())
    assert f"<{SKILLCRED_VOCAB}endorser>" in nquads and f"<{SKILLCRED_VOCAB}SkillCredEndorser>" in nquads
    assert f"<{SKILLCRED_VOCAB}confirmation>" in nquads
    assert "<https://purl.imsglobal.org/spec/vc/ob/vocab.html#otherIdentifier>" in nquads
    assert '"Harvard University Registrar"' in nquads
    facts = read_endorsement(endorsement())
    assert facts.endorser_name == "Harvard University Registrar" and facts.on_behalf
    assert facts.endorser_id == ISSUER.id


def test_without_the_endorser_terms_safe_mode_refuses_the_endorsement():
    with pytest.raises(JsonLdSafeModeError):
        jsonld.canonize(endorsement(), OLD_LOADER)


def test_the_builder_refuses_the_issuers_own_name_as_the_endorsers():
    with pytest.raises(InvalidEndorsement, match="the issuer that signs for them"):
        endorsement(name="acme ACADEMY")
