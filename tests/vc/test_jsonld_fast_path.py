"""The JSON-LD fast path is an optimisation, never a second opinion: on every document it takes,
its canonical N-Quads are byte for byte the full (pyld) path's; on everything else it declines
and the full path decides (and raises its own errors).

Differential tests over the standards vectors and examples, credentials built the way SkillCred
builds them from random inputs, mutations of a signed credential, and hand-written edge cases.
The whole suite is a differential test as well: ``tests/conftest.py`` turns on
``check_against_full_path``, so every credential any test signs or verifies is compared.

    SKILLCRED_DIFFERENTIAL_EXAMPLES=5000 .venv/bin/python -m pytest -q tests/vc/test_jsonld_fast_path.py
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from service.vc import data_integrity
from service.vc import jsonld_fast_path as fast_path
from service.vc.errors import VCError
from service.vc.jsonld import DEFAULT_LOADER, DocumentLoader, canonize, loaders_for, to_quads
from service.vc.openbadges import (
    Achievement,
    Alignment,
    Evidence,
    IssuerProfile,
    Result,
    ResultDescription,
    RubricCriterionLevel,
    build_achievement_credential,
    hashed_email_identity,
)
from service.vc.rdfc10 import canonicalize_components, canonicalize_quads
from service.vc.skillcred import AssessmentStatement
from tests import figures
from tests.standards import OB3_IMPL_GUIDE, SHARED, load_json
from tests.vc import fuzz_strategies as fs

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
V2 = "https://www.w3.org/ns/credentials/v2"
OB3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OUTCOMES: Counter[str] = Counter()


def differential_settings(default_examples: int) -> settings:
    """Bounded and reproducible in ``make test``; SKILLCRED_DIFFERENTIAL_EXAMPLES for long runs."""
    return fs.bounded_settings(default_examples, "SKILLCRED_DIFFERENTIAL_EXAMPLES")


@pytest.fixture(scope="module", autouse=True)
def _record_figures() -> Iterator[None]:
    yield
    figures.record("inputs fuzzed", sum(OUTCOMES.values()))


def compare(document: Any, loader: DocumentLoader = DEFAULT_LOADER, *, utf16_order: bool = False) -> str:
    """``"fast"`` when the fast path took ``document`` and matched the full path byte for byte,
    ``"declined"`` when it left the document to the full path. Fails on any difference, and when
    the fast path accepts what the full path refuses."""
    try:
        full: str | None = canonicalize_quads(to_quads(document, loader), utf16_order=utf16_order).nquads
        refusal = None
    except VCError as error:
        full, refusal = None, error
    try:
        terms = fast_path.to_quad_terms(document, loader.context_tree())
    except fast_path.Unsupported:
        OUTCOMES["declined"] += 1
        return "declined"
    fast = canonicalize_components(terms, utf16_order=utf16_order).nquads
    assert refusal is None, f"the fast path took a document the full path refuses ({refusal}):\n{document}"
    assert fast == full, f"fast path:\n{fast}\nfull path:\n{full}\ndocument: {json.dumps(document)}"
    OUTCOMES["fast"] += 1
    return "fast"


def unsecured(document: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "proof"}


def proof_configurations(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What each proof of ``document`` signs besides the document: its options, no value, with
    the document's context (vc-di-eddsa 3.3.x "Proof Configuration")."""
    proofs = document.get("proof") or []
    configs = []
    for proof in proofs if isinstance(proofs, list) else [proofs]:
        if isinstance(proof, dict):
            config = {key: value for key, value in proof.items() if key != "proofValue"}
            config["@context"] = document.get("@context")
            configs.append(config)
    return configs


# --- the standards' own documents ----------------------------------------------------------------


def _json_ld_files() -> list[Path]:
    roots = [SHARED / "vectors", SHARED / "examples", FIXTURES / "issued-before-issue-10"]
    files = []
    for root in roots:
        for path in sorted(root.rglob("*.json*")):
            try:
                document = load_json(path)
            except (UnicodeDecodeError, json.JSONDecodeError):
                continue
            if isinstance(document, dict) and "@context" in document:
                files.append(path)
    return files


JSON_LD_FILES = _json_ld_files()


def test_the_standards_corpus_is_there():
    assert len(JSON_LD_FILES) >= 15, JSON_LD_FILES


@pytest.mark.parametrize("path", JSON_LD_FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_each_standards_document_and_its_proof_configurations_canonicalise_alike(path):
    document = load_json(path)
    for loader in loaders_for(document):
        for utf16_order in (False, True):
            compare(unsecured(document), loader, utf16_order=utf16_order)
            for config in proof_configurations(document):
                compare(config, loader, utf16_order=utf16_order)


def test_the_fast_path_takes_the_credentials_of_the_standards():
    """Not an empty promise: the OB 3.0 implementation guide's credential, its proof, and the
    W3C eddsa-rdfc-2022 vector take the fast path."""
    guide = load_json(OB3_IMPL_GUIDE / "unsigned-credential.json")
    vector = SHARED / "vectors" / "vc-di-eddsa" / "TestVectors" / "eddsa-rdfc-2022"
    assert compare(guide) == "fast"
    taken = [compare(unsecured(load_json(p))) for p in sorted(vector.glob("*.json"))]
    assert "fast" in taken


# --- credentials as SkillCred builds them -------------------------------------------------------

_ASTRAL = st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF, exclude_categories=("Cs",))


def _texts(max_size: int = 40) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(min_size=1, max_size=max_size),
        st.text(alphabet=_ASTRAL, min_size=1, max_size=4),
        st.sampled_from(["Ünïcødé naïve café", "日本語の説明", 'quotes " and \\ backslash', "tab\tand\nnewline"]),
        st.integers(1, 3).map(lambda n: "long text " * (300 * n)),
    )


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


_urls = st.integers(0, 10**6).map(lambda n: f"https://example.org/things/{n}")
_alignments = st.lists(
    st.builds(
        Alignment,
        target_name=_texts(),
        target_url=_urls,
        target_code=_optional(_texts(10)),
        target_framework=_optional(_texts(10)),
        target_type=_optional(st.sampled_from(["CFItem", "ceasn:Competency", "ext:ESCO"])),
        target_description=_optional(_texts()),
    ),
    max_size=3,
)


@st.composite
def skillcred_credentials(draw: st.DrawFn) -> dict[str, Any]:
    """An OB 3.0 credential from ``build_achievement_credential`` with random contents."""
    levels = draw(
        st.lists(st.sampled_from(["novice", "competent", "proficient", "expert"]), min_size=1, max_size=4, unique=True)
    )
    description = ResultDescription(
        id="https://example.org/results/1",
        name=draw(_texts()),
        result_type="RubricCriterionLevel",
        allowed_values=(),
        required_level=f"https://example.org/levels/{levels[0]}",
        rubric_criterion_levels=tuple(
            RubricCriterionLevel(
                id=f"https://example.org/levels/{level}",
                name=level,
                description=draw(_optional(_texts())),
                points=draw(_optional(st.integers(0, 10).map(str))),
                alignments=tuple(draw(_alignments)),
            )
            for level in levels
        ),
        alignments=tuple(draw(_alignments)),
    )
    achievement = Achievement(
        id="https://example.org/achievements/" + str(draw(st.integers(0, 999))),
        name=draw(_texts()),
        description=draw(_texts()),
        criteria_narrative=draw(_optional(_texts())),
        criteria_id="https://example.org/criteria/1",
        image=draw(_optional(st.just("https://example.org/badge.png"))),
        alignments=tuple(draw(_alignments)),
        result_descriptions=(description,),
        tags=tuple(draw(st.lists(_texts(12), max_size=3))),
        achievement_type=draw(_optional(st.sampled_from(["Competency", "Badge", "ext:Skill"]))),
        version=draw(_optional(st.just("1.0"))),
    )
    evidence = draw(
        st.lists(
            st.builds(
                Evidence,
                id=_optional(_urls),
                name=_optional(_texts()),
                description=_optional(_texts()),
                narrative=_optional(_texts()),
                genre=_optional(_texts(10)),
                audience=_optional(_texts(10)),
            ),
            max_size=3,
        )
    )
    results = [
        Result(
            result_description=description.id,
            achieved_level=f"https://example.org/levels/{draw(st.sampled_from(levels))}",
        )
    ] * draw(st.integers(0, 1))
    assessment = draw(
        _optional(
            st.builds(
                AssessmentStatement,
                assessor_kind=st.sampled_from(["offline", "llm"]),
                assessor_version=st.just("1.2"),
                human_reviewed=st.booleans(),
                decision=st.sampled_from(["auto_issue", "approved"]),
                rubric_id=st.just("python-testing"),
                rubric_version=st.just("3"),
                rubric_hash=st.just("sha256:" + "ab" * 32),
                assessed_at=st.just("2026-12-01T10:00:00Z"),
                rubric_name=_optional(_texts()),
            )
        )
    )
    credential = build_achievement_credential(
        credential_id="urn:uuid:" + str(draw(st.uuids())),
        issuer=IssuerProfile(
            id="did:web:example.org:issuers:" + str(draw(st.integers(0, 99))),
            name=draw(_texts()),
            url=draw(_optional(st.just("https://example.org"))),
            email=draw(_optional(st.just("badges@example.org"))),
            description=draw(_optional(_texts())),
        ),
        achievement=achievement,
        recipient_did=draw(_optional(st.just("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"))),
        recipient_identity=hashed_email_identity(draw(st.emails()), salt="pepper"),
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        valid_until=draw(_optional(st.just(datetime(2030, 1, 1, tzinfo=UTC)))),
        description=draw(_optional(_texts())),
        evidence=evidence,
        results=results,
        credential_status=draw(
            _optional(
                st.just(
                    {
                        "id": "https://example.org/status/1#94567",
                        "type": "BitstringStatusListEntry",
                        "statusPurpose": "revocation",
                        "statusListIndex": "94567",
                        "statusListCredential": "https://example.org/status/1",
                    }
                )
            )
        ),
        assessment=assessment,
    )
    return credential


@differential_settings(150)
@given(credential=skillcred_credentials())
def test_credentials_built_by_skillcred_canonicalise_alike_and_take_the_fast_path(credential):
    assert compare(credential) == "fast"


def test_a_credential_with_embedded_endorsements_and_their_proofs_takes_the_fast_path(issuer_signer, other_signer):
    """An embedded endorsement carries its own proofs: ``proof`` is a graph container, so each
    proof is a named graph of its own (two here: a proof set)."""
    endorsement = data_integrity.sign(load_json(OB3_IMPL_GUIDE / "unsigned-credential.json"), issuer_signer)
    endorsement = data_integrity.sign(endorsement, other_signer)
    credential = load_json(OB3_IMPL_GUIDE / "unsigned-credential.json")
    credential["credentialSubject"]["achievement"]["endorsement"] = [endorsement, endorsement]
    assert compare(credential) == "fast"
    in_named_graphs = [line for line in canonize(credential).splitlines() if re.search(r" _:c14n\d+ \.$", line)]
    assert in_named_graphs  # the proofs' quads, each in its graph
    assert compare(data_integrity.sign(credential, issuer_signer)) == "fast"


# --- mutations of a signed credential -----------------------------------------------------------


@pytest.fixture(scope="module")
def signed(issuer_signer) -> dict[str, Any]:
    return data_integrity.sign(load_json(OB3_IMPL_GUIDE / "unsigned-credential.json"), issuer_signer)


@pytest.fixture(scope="module")
def foreign_proofs(other_signer) -> list[dict[str, Any]]:
    return [data_integrity.create_proof(load_json(OB3_IMPL_GUIDE / "unsigned-credential.json"), other_signer)]


@differential_settings(200)
@given(data=st.data())
def test_mutations_of_a_signed_credential_canonicalise_alike(data, signed, foreign_proofs):
    mutation = data.draw(
        st.one_of(
            fs.meaning_changing(signed, foreign_proofs, [signed]),
            fs.meaning_keeping(signed),
            fs.meaning_unknown(signed, foreign_proofs),
        )
    )
    document = mutation.document
    assume(isinstance(document, dict))
    compare(unsecured(document))
    for config in proof_configurations(document):
        compare(config)


# --- edge cases, one rule each ------------------------------------------------------------------


def _credential(**subject: Any) -> dict[str, Any]:
    return {
        "@context": [V2, OB3],
        "id": "urn:uuid:6a9d8a4e-6e4b-4f7e-9d3c-2f5f1f2e8a11",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "did:web:example.org", "type": ["Profile"], "name": "Example"},
        "validFrom": "2026-01-01T00:00:00Z",
        "name": "A badge",
        "credentialSubject": {"type": ["AchievementSubject"], **subject},
    }


def _v2(**subject: Any) -> dict[str, Any]:
    """A VCDM 2.0 credential whose subject's terms fall to the ``@vocab`` of the W3C
    undefined-terms context (``https://www.w3.org/ns/credentials/undefined-term#``)."""
    return {
        "@context": [V2, "https://www.w3.org/ns/credentials/undefined-terms/v2"],
        "type": ["VerifiableCredential"],
        "issuer": "did:web:example.org",
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": subject,
    }


TAKEN = {
    "a lone @id node keeps the type-scoped context": _credential(achievement={"id": "https://example.org/a/1"}),
    "an OB 3.0 result": _credential(
        achievement={
            "id": "https://example.org/a/1",
            "type": ["Achievement"],
            "name": "x",
            "criteria": {"narrative": "y"},
            "description": "z",
        },
        result=[{"type": ["Result"], "resultDescription": "https://example.org/r", "value": "3"}],
    ),
    "booleans and integers": _v2(extraBoolean=True, no=False, extraInteger=10**21 - 1, negative=-(10**21) + 1, zero=0),
    "terms only VCDM 2.0's @vocab defines": _v2(favouriteColour="green", nested={"deeper": {"deepest": 1}}),
    "blank node ids written in the document": _v2(
        id="_:subject", source={"id": "_:other", "name": "n"}, again={"id": "_:other"}
    ),
    "duplicate values collapse": _v2(
        tags=["a", "a", "b"], twice=[{"id": "https://example.org/x"}, {"id": "https://example.org/x"}]
    ),
    "null values and empty arrays": _v2(nothing=None, empty=[], listWithNull=[None, "kept"]),
    "a node with only a context": _v2(inner={"@context": V2}),
    "a compact IRI value": _credential(achievement={"id": "did:example:123", "type": ["Achievement"]}),
    "a nested context URL": {
        **_credential(),
        "credentialSubject": {"@context": OB3, "type": ["AchievementSubject"], "id": "did:example:1"},
    },
}

DECLINED = {
    "a float": _v2(score=0.5),
    "an integer of 10^21": _v2(big=10**21),
    "a term VCDM 1.1 does not define": {
        **_v2(),
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "undefined": "x",
    },
    "a language-tagged value": _credential(note={"@value": "bonjour", "@language": "fr"}),
    "a value object": _credential(note={"@value": "2026-01-01", "@type": "http://www.w3.org/2001/XMLSchema#date"}),
    "a list": _credential(ordered={"@list": ["a", "b"]}),
    "an inline context": {
        **_credential(),
        "@context": [V2, OB3, {"custom": "https://example.org/custom"}],
        "custom": "x",
    },
    "a relative @id": _credential(id="relative/path"),
    "a nested array": _credential(grid=[["a", "b"], ["c"]]),
    "an empty node": _credential(empty={}),
    "@graph": {**_credential(), "@graph": [{"id": "https://example.org/x"}]},
    "@included": {**_credential(), "@included": [{"id": "https://example.org/x", "type": "Profile"}]},
    "@reverse": {**_credential(), "@reverse": {"https://example.org/p": {"id": "https://example.org/x"}}},
    "a lone surrogate": _credential(name="\ud800"),
    "an IRI pyoxigraph refuses": _credential(id="https://exa mple.org/"),
    "a document that is not a map": [_credential()],
}


@pytest.mark.parametrize("document", TAKEN.values(), ids=TAKEN.keys())
def test_the_fast_path_takes_these_and_agrees(document):
    assert compare(document) == "fast"


@pytest.mark.parametrize("document", DECLINED.values(), ids=DECLINED.keys())
def test_the_fast_path_declines_these_and_the_full_path_decides(document):
    assert compare(document) == "declined"


def test_an_undefined_term_is_declined_and_the_full_path_refuses_it():
    document = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiableCredential"],
        "undefinedTerm": "x",
    }
    assert compare(document) == "declined"
    with pytest.raises(VCError) as refused:
        canonize(document)
    assert refused.value.code == "jsonld_undefined_term"


def test_canonize_counts_what_took_the_fast_path_and_why_the_rest_did_not():
    before = fast_path.stats()
    canonize(load_json(OB3_IMPL_GUIDE / "unsigned-credential.json"))
    canonize(DECLINED["a float"])
    after = fast_path.stats()
    assert after.get("fast", 0) == before.get("fast", 0) + 1
    assert after.get("number", 0) == before.get("number", 0) + 1


def test_turned_off_canonize_takes_the_full_path_with_the_same_result(monkeypatch):
    document = load_json(OB3_IMPL_GUIDE / "unsigned-credential.json")
    fast = canonize(document)
    monkeypatch.setattr(fast_path, "enabled", False)
    before = fast_path.stats().get("fast", 0)
    assert canonize(document) == fast
    assert fast_path.stats().get("fast", 0) == before


def test_the_suite_checks_every_fast_path_result_against_the_full_path():
    assert fast_path.check_against_full_path is True


def test_a_difference_fails_loudly_rather_than_signing_other_bytes(monkeypatch):
    """The check the suite runs under would catch a fast path that wrote a different term."""
    original = fast_path._Walk.scalar

    def wrong(self, ctx, key, value):
        term = original(self, ctx, key, value)
        return term.replace("Example", "Exampel")

    monkeypatch.setattr(fast_path._Walk, "scalar", wrong)
    with pytest.raises(AssertionError, match="differs from the full path"):
        canonize(copy.deepcopy(_credential()))


def test_a_fault_in_the_fast_path_falls_back_in_service_and_fails_loudly_under_test(monkeypatch):
    document = load_json(OB3_IMPL_GUIDE / "unsigned-credential.json")
    expected = canonicalize_quads(to_quads(document)).nquads

    def broken(document, tree):
        raise KeyError("a bug")

    monkeypatch.setattr(fast_path, "to_quad_terms", broken)
    with pytest.raises(KeyError):
        canonize(document)  # the suite runs with check_against_full_path: a bug is never hidden
    monkeypatch.setattr(fast_path, "check_against_full_path", False)
    before = fast_path.stats().get("internal_error", 0)
    assert canonize(document) == expected  # in service: the full path answers
    assert fast_path.stats()["internal_error"] == before + 1


# --- node plans: what a node's shape decided is kept, what its values decide is not ------------


def _with(document: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    parent = changed
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    return changed


SAME_KEYS_OTHER_VALUES = {
    "an @id that is not a string": (("credentialSubject", "id"), 7),
    "an @id that is a list": (("credentialSubject", "id"), ["did:example:1"]),
    "a relative @id": (("credentialSubject", "id"), "relative/path"),
    "a blank node @id": (("credentialSubject", "id"), "_:someone"),
    "a compact IRI @id": (("credentialSubject", "id"), "did:example:other"),
    "another type": (("credentialSubject", "achievement", "type"), ["Achievement", "EndorsementSubject"]),
    "a type that is not a string": (("credentialSubject", "achievement", "type"), [{"id": "x"}]),
    "a relative type": (("credentialSubject", "achievement", "type"), ["Achievement", "relative"]),
    "a lone type string": (("credentialSubject", "achievement", "type"), "Achievement"),
    "a value that is a float": (("credentialSubject", "achievement", "name"), 0.5),
    "a value that is a node": (("credentialSubject", "achievement", "name"), {"id": "https://example.org/n"}),
    "an empty node": (("credentialSubject", "achievement", "criteria"), {}),
    "a nested array": (("credentialSubject", "achievement", "name"), [["a"]]),
}


@pytest.mark.parametrize("change", SAME_KEYS_OTHER_VALUES.values(), ids=SAME_KEYS_OTHER_VALUES.keys())
def test_a_planned_node_shape_with_other_values_still_agrees_or_declines(change):
    """The first document leaves a plan for each of its nodes; a document with the same keys and
    other values must still be walked value by value: it agrees with the full path or declines."""
    document = TAKEN["an OB 3.0 result"]
    assert compare(document) == "fast"
    assert compare(document) == "fast"  # now through the plans
    path, value = change
    compare(_with(document, path, value))  # fails on any difference or wrong acceptance


def test_node_plans_are_bounded(monkeypatch):
    monkeypatch.setattr(fast_path, "_node_plans_kept", fast_path._MAX_NODE_PLANS)
    document = _v2(unplannedKeyOnlyHere="x")
    assert compare(document) == "fast"  # walked without a plan, same result
    assert not any("unplannedKeyOnlyHere" in keys for ctx in _contexts() for _, keys, _ in ctx.node_plans)


def test_a_node_walked_twice_is_planned_once():
    document = _v2(plannedKeyOnlyHere="x")
    assert compare(document) == compare(document) == "fast"
    assert any("plannedKeyOnlyHere" in keys for ctx in _contexts() for _, keys, _ in ctx.node_plans)


def _contexts() -> list[Any]:
    tree = DEFAULT_LOADER.context_tree()
    return list(tree._known.values())
