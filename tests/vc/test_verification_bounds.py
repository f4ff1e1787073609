"""The verifier bounds its work before doing it: an anonymous request cannot buy seconds of CPU.

The attack an outside tester found: a 7 KB credential with many proofs and a context URL repeated
many times cost 42 s of CPU, because every proof was re-canonicalized once per context variant.
Now the shape is checked first, each canonical form is computed once per verification, and one
budget covers the whole verification, embedded endorsements included.
"""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.vc import budget as budget_module
from service.vc import data_integrity, jsonld
from service.vc.budget import Budget, BudgetExceeded, VerificationLimits, json_shape
from service.vc.verify import verify

pytestmark = pytest.mark.attack


@pytest.fixture
def canonicalizations(monkeypatch) -> list[str]:
    """Records every canonicalization the data-integrity code asks for."""
    calls: list[str] = []
    real = data_integrity.canonize

    def counting(document, loader=None, **options):
        calls.append(str(document.get("type")))
        return real(document, loader, **options)

    monkeypatch.setattr(data_integrity, "canonize", counting)
    return calls


def checks(report) -> dict[str, tuple[str, str]]:
    return {c.id: (c.outcome, c.reason) for c in report.checks}


def with_forged_proofs(credential: dict, count: int) -> dict:
    """The credential with ``count`` copies of its proof, each with a different (bad) value."""
    proof = credential["proof"] if isinstance(credential["proof"], dict) else credential["proof"][0]
    forged = []
    for i in range(count):
        copy_ = dict(proof)
        copy_["created"] = f"2024-01-01T00:00:{i % 60:02d}Z"
        forged.append(copy_)
    return {**credential, "proof": forged}


def test_more_proofs_than_the_limit_fail_without_any_canonicalization(signed_credential, canonicalizations):
    report = verify(with_forged_proofs(signed_credential, 50))

    assert not report.verified
    outcome, reason = checks(report)["proof"]
    assert outcome == "failed" and "50 proofs; at most 4" in reason
    assert canonicalizations == []


def test_a_context_url_listed_twice_is_refused_before_any_json_ld_work(signed_credential, canonicalizations):
    repeated = copy.deepcopy(signed_credential)
    repeated["@context"] = [*repeated["@context"], repeated["@context"][1], repeated["@context"][1]]

    report = verify(repeated)

    assert not report.verified
    outcome, reason = checks(report)["context"]
    assert outcome == "failed" and "more than once" in reason
    assert canonicalizations == []


def test_the_document_is_canonicalized_once_for_all_proofs(signed_credential, canonicalizations):
    four = with_forged_proofs(signed_credential, 3)
    four["proof"].append(
        signed_credential["proof"] if isinstance(signed_credential["proof"], dict) else signed_credential["proof"][0]
    )

    report = verify(four)

    assert report.verified, report.to_dict()
    document_canonicalizations = [c for c in canonicalizations if "VerifiableCredential" in c]
    variants = len(list(jsonld.loaders_for(four)))
    assert len(document_canonicalizations) <= variants
    assert len(canonicalizations) <= variants * 5  # the document and four proof configurations, per variant


def test_a_repeated_context_offers_its_alternate_editions_once():
    url = next(url for url in jsonld.bundled_context_urls() if len(jsonld.context_variants(url)) > 1)
    once = list(jsonld.loaders_for({"@context": [url]}))
    thrice = list(jsonld.loaders_for({"@context": [url, url, url]}))

    assert len(thrice) == len(once) == len(jsonld.context_variants(url))
    assert once[1] is thrice[1]  # shared, so processed contexts stay cached


def test_running_out_of_cpu_fails_the_proof_with_the_reason(signed_credential):
    ticks = iter(range(0, 1000, 5))  # every reading of the CPU clock is 5 s later
    budget = Budget(VerificationLimits(cpu_seconds=1.0), cpu_clock=lambda: float(next(ticks)))

    results = data_integrity.verify_proofs(signed_credential, _did_key_resolver(), budget=budget)

    assert [r.code for r in results] == ["verification_budget_exceeded"]
    assert not results[0].verified


def test_the_canonicalization_count_is_capped(signed_credential):
    budget = Budget(VerificationLimits(max_canonicalizations=1))

    results = data_integrity.verify_proofs(signed_credential, _did_key_resolver(), budget=budget)

    assert results[0].code == "verification_budget_exceeded"


def test_a_budget_refuses_once_spent():
    budget = Budget(VerificationLimits(max_canonicalizations=2))
    budget.charge(canonicalizations=2)

    with pytest.raises(BudgetExceeded):
        budget.charge(canonicalizations=1)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"a": list(range(30))}, "more than 20 JSON values"),
        ({"a": {"b": {"c": {"d": {}}}}}, "deeper than 3 levels"),
    ],
)
def test_json_shape_names_the_first_limit_crossed(value, problem):
    assert problem in json_shape(value, max_values=20, max_depth=3)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=3),
    lambda children: st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=3), children, max_size=6),
    max_leaves=60,
)


@settings(max_examples=300, deadline=None)
@given(value=JSON_VALUES, max_values=st.integers(1, 40), max_depth=st.integers(1, 8))
def test_json_shape_says_what_the_depth_first_count_says(value, max_values, max_depth):
    """The level-by-level check only decides "within the limits"; the reason, when there is one,
    is the depth-first walk's (the first limit crossed in its order)."""
    reference = budget_module._first_limit_crossed(value, max_values, max_depth)
    assert budget_module._within_limits(value, max_values, max_depth) == (reference is None)
    assert json_shape(value, max_values, max_depth) == reference


def test_json_shape_does_not_gather_more_than_the_limit_from_shared_values():
    wide = list(range(10_000))
    shared = [wide] * 10_000  # 10^8 values by reference, a few kilobytes in memory
    assert "more than 2000 JSON values" in json_shape({"a": shared}, 2_000, 48)


def test_a_credential_nested_too_deep_is_refused_before_any_work(signed_credential, canonicalizations):
    deep: dict = {"type": "Evidence"}
    for _ in range(100):
        deep = {"type": "Evidence", "inner": deep}
    report = verify({**signed_credential, "evidence": [deep]})

    outcome, reason = checks(report)["format"]
    assert outcome == "failed" and "nests deeper than 48 levels" in reason
    assert canonicalizations == []


def test_too_many_embedded_endorsements_are_not_checked_at_all(signed_credential, canonicalizations):
    endorsement = {"type": ["VerifiableCredential", "EndorsementCredential"], "issuer": "did:example:x"}
    crowded = {**signed_credential, "endorsement": [endorsement] * 17}

    report = verify(crowded)

    outcome, reason = checks(report)["endorsements"]
    assert outcome == "warning" and "at most 16 are checked" in reason
    assert not any(c.id.startswith("endorsements.") for c in report.checks)


def test_the_attack_request_does_bounded_work(signed_credential, canonicalizations):
    """Many proofs, a context repeated, and emoji (which doubles canonicalizations): refused early."""
    attack = with_forged_proofs(signed_credential, 40)
    attack["name"] = "Badge \N{GRINNING FACE}"
    attack["@context"] = attack["@context"] + [attack["@context"][1]] * 20

    report = verify(attack)

    assert not report.verified
    assert canonicalizations == []


def _did_key_resolver():
    from service.vc.did import DidKeyResolver

    return DidKeyResolver()


def test_at_most_the_limit_of_status_lists_are_read_per_verification(signed_credential):
    """Status lists may be remote: each read is a request, so a credential (and its embedded
    endorsements together) gets a fixed number of them."""
    asked: list[str] = []

    class CountingResolver:
        def resolve(self, url):
            asked.append(url)
            return None  # unreachable: the status stays unknown (a warning)

    entries = [
        {
            "id": f"https://lists.example/{n}#1",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "1",
            "statusListCredential": f"https://lists.example/{n}",
        }
        for n in range(3)
    ]
    credential = {**signed_credential, "credentialStatus": entries}

    report = verify(credential, status_resolver=CountingResolver(), limits=VerificationLimits(max_status_documents=2))

    assert asked == ["https://lists.example/0", "https://lists.example/1"]
    refused = [c for c in report.checks if c.outcome == "failed" and "was not read" in c.reason]
    assert len(refused) == 1 and not report.verified
