"""The compiled JSON Schema validator (jsonschema-rs) is an optimisation, never a second opinion.

:func:`validate_credential` asks ``jsonschema-rs`` first and runs ``jsonschema`` only when it says
"invalid" (issue 15). These differential tests show the report (errors, warnings, schema) is the one
``jsonschema`` alone gives, on every credential in the fixtures and on generated mutations of valid
credentials, and that the compiled validator never accepts what ``jsonschema`` rejects. A bounded
number of examples runs by default; SKILLCRED_DIFFERENTIAL_EXAMPLES sets the count for long runs.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.vc import data_integrity, schema_validation
from service.vc.constants import CREDENTIALS_V1
from service.vc.schema_validation import validate_credential
from tests.standards import OB3_EXAMPLES, OB3_IMPL_GUIDE, REPO, load_json
from tests.vc import fuzz_strategies as fs

KINDS = ("achievement", "endorsement")


def differential_settings(default_examples: int) -> settings:
    return fs.bounded_settings(default_examples, "SKILLCRED_DIFFERENTIAL_EXAMPLES")


def fixture_documents() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every JSON object in tests/fixtures that has a ``type`` (credentials, proofs, key files)."""
    root = REPO / "tests" / "fixtures"
    for path in sorted([*root.rglob("*.json"), *root.rglob("*.jsonld")]):
        document = load_json(path)
        if isinstance(document, dict) and "type" in document:
            yield str(path.relative_to(root)), document


FIXTURES = dict(fixture_documents())


def assert_same_verdicts(document: Any) -> None:
    """Same report with and without the compiled validator; and for each schema, the compiled
    validator's "valid" is one ``jsonschema`` agrees with (its "invalid" only costs time)."""
    assert validate_credential(document) == validate_credential(document, reference_only=True)
    if not isinstance(document, dict):
        return
    plain, is_plain = schema_validation._plain_json_copy(document)
    if not is_plain:
        return  # never shown to the compiled validator
    for kind in KINDS:
        if schema_validation._fast_says_valid(schema_validation._fast_validator(kind), plain):
            assert schema_validation._validator(kind).is_valid(plain), kind


@pytest.fixture(scope="module")
def seeds(issuer_signer) -> list[dict[str, Any]]:
    """Valid credentials, one for each way validate_credential reads a document."""
    unsigned = load_json(OB3_IMPL_GUIDE / "unsigned-credential.json")
    unsigned["issuer"]["id"] = issuer_signer.verification_method.split("#")[0]
    proof_list = data_integrity.sign(unsigned, issuer_signer, proof_as_list=True)
    lone_proof = data_integrity.sign(unsigned, issuer_signer)  # wrapped, with a warning
    vcdm_v1 = copy.deepcopy(unsigned)  # read with VCDM 2.0 names, with a warning
    vcdm_v1["@context"][0] = CREDENTIALS_V1
    vcdm_v1["issuanceDate"] = vcdm_v1.pop("validFrom")
    status_set = copy.deepcopy(proof_list)  # a credentialStatus set, member by member
    status_set["credentialStatus"] = [
        {
            "id": f"https://skillcred.example/status/1#{n}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": purpose,
            "statusListIndex": str(n),
            "statusListCredential": "https://skillcred.example/status/1",
        }
        for n, purpose in ((7, "revocation"), (8, "suspension"))
    ]
    found = [proof_list, lone_proof, vcdm_v1, status_set, load_json(OB3_EXAMPLES / "endorsement-credential.json")]
    found += [load_json(OB3_EXAMPLES / name) for name in ("basic-openbadgecredential.json",)]
    for seed in found:
        assert validate_credential(seed, reference_only=True).valid, seed.get("id")
    return found


# --- the fixtures ------------------------------------------------------------------------------


def test_the_fixtures_include_achievement_and_endorsement_credentials():
    kinds = {schema_validation._credential_kind(document.get("type")) for document in FIXTURES.values()}
    assert {"achievement", "endorsement", None} <= kinds
    assert len(FIXTURES) >= 30


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_every_fixture_gets_the_same_report_with_and_without_the_compiled_validator(name):
    assert_same_verdicts(FIXTURES[name])


def test_valid_credentials_take_the_fast_path(seeds, monkeypatch):
    """A credential the compiled validator accepts never reaches ``jsonschema`` (the point of it)."""
    calls: list[object] = []
    original = schema_validation._fast_says_valid

    def spy(validator, instance):
        calls.append(validator)
        return original(validator, instance)

    monkeypatch.setattr(schema_validation, "_fast_says_valid", spy)
    monkeypatch.setattr(
        type(schema_validation._validator("achievement")),
        "iter_errors",
        lambda *args, **kwargs: pytest.fail("jsonschema ran on a valid credential"),
    )
    report = validate_credential(seeds[0])
    assert report.valid and not report.warnings and calls and calls[0] is not None


# --- where the two validators read a schema differently ----------------------------------------


def context_url(seed: dict[str, Any], url: str) -> dict[str, Any]:
    document = copy.deepcopy(seed)
    document["@context"][1] = url
    return document


@pytest.mark.parametrize(
    "url",
    [
        # \d is any Unicode digit to Python's re, an ASCII digit to ECMA-262 (jsonschema-rs)
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.\u0660.3.json",
        # $ matches before a final newline in Python's re, not in ECMA-262
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json\n",
    ],
)
def test_where_the_regex_dialects_differ_jsonschema_decides(seeds, url):
    document = context_url(seeds[0], url)
    fast = schema_validation._fast_validator("achievement")
    assert not fast.is_valid(document)
    assert schema_validation._validator("achievement").is_valid(document)
    assert validate_credential(document) == validate_credential(document, reference_only=True)
    assert validate_credential(document).valid


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda d: d.update(type=tuple(d["type"])), id="tuple-as-array"),
        pytest.param(lambda d: d["credentialSubject"].update(extra=float("nan")), id="nan"),
        pytest.param(lambda d: d["credentialSubject"].update(extra=10**30), id="big-int"),
        pytest.param(lambda d: d.update(awardedDate=None, alias=d["issuer"]), id="shared-object"),
        pytest.param(lambda d: d["credentialSubject"].update({1: "x"}), id="int-key"),
    ],
)
def test_what_json_parsing_cannot_produce_is_left_to_jsonschema(seeds, edit):
    """jsonschema-rs reads a tuple as an array (jsonschema does not), so only plain JSON is shown to it."""
    document = copy.deepcopy(seeds[0])
    edit(document)
    assert not schema_validation._plain_json_copy(document)[1]
    with pytest.raises(schema_validation._NotPlainJson):
        schema_validation._check_plain(document, set())
    assert schema_validation._accepted_as_is(document) is None
    assert validate_credential(document) == validate_credential(document, reference_only=True)


def test_a_credential_is_accepted_as_it_is_only_when_nothing_would_change_its_copy(seeds):
    """The shortcut (no copy, no rewrite) answers only where the copy would be the document."""
    assert schema_validation._accepted_as_is(copy.deepcopy(seeds[0])) is not None  # the usual case
    for seed in seeds:
        vcdm_v1 = schema_validation._check_plain(copy.deepcopy(seed), set())
        copied, plain = schema_validation._plain_json_copy(copy.deepcopy(seed))
        renamed: list[str] = []
        schema_validation._normalise_vcdm_v1(copied, (), renamed, {})
        assert plain and vcdm_v1 == bool(renamed)
        shortcut = schema_validation._accepted_as_is(copy.deepcopy(seed))
        report = validate_credential(seed, reference_only=True)
        if shortcut is not None:
            assert shortcut == report and not report.warnings
    nested_v1 = copy.deepcopy(seeds[0])
    nested_v1["credentialSubject"]["endorsement"] = [{"@context": [CREDENTIALS_V1], "type": ["x"]}]
    assert schema_validation._check_plain(nested_v1, set())
    assert schema_validation._accepted_as_is(nested_v1) is None


@pytest.mark.parametrize("key", ["name", "validFrom", "id"])
def test_text_that_is_not_utf8_gets_the_same_report(seeds, key):
    """A lone surrogate (valid in a Python str, and in JSON text as an escape) is not UTF-8:
    jsonschema-rs raises when it must read such text (a format, an enum) and jsonschema decides."""
    document = copy.deepcopy(seeds[0])
    document[key] += "\ud800"
    assert validate_credential(document) == validate_credential(document, reference_only=True)


def test_a_tuple_is_an_array_to_jsonschema_rs_but_not_to_jsonschema(seeds):
    """Why the plain-JSON guard exists: without it the fast path would accept this credential."""
    document = copy.deepcopy(seeds[0])
    document["type"] = tuple(document["type"])
    assert schema_validation._fast_validator("achievement").is_valid(document)
    assert not validate_credential(document).valid


def test_a_shared_object_keeps_copy_deepcopy_semantics(seeds):
    """A single value fixed in place is fixed at every place it is shared (as copy.deepcopy keeps it)."""
    document = copy.deepcopy(seeds[0])
    image = {"id": "https://example.com/a.png", "type": "Image"}
    document["credentialSubject"]["achievement"]["image"] = image
    document["issuer"]["image"] = image
    document["proof"] = document["proof"][0]  # a lone proof: wrapped, with a warning
    assert validate_credential(document) == validate_credential(document, reference_only=True)


def test_the_compiled_validator_resolves_only_the_bundled_schemas():
    with pytest.raises(jsonschema_rs.ValidationError, match=r"not bundled; remote \$ref fetch is refused"):
        schema_validation._fast({"$ref": "https://schemas.example/remote.json"})


def test_the_compiled_validator_checks_dates_with_our_rules(seeds):
    """``format`` is asserted for date-time and date with the same functions as jsonschema's
    checker (a leap second or a date-time without a zone is not accepted)."""
    fast = schema_validation._fast_validator("achievement")
    for bad in ("2024-05-01T10:00:60Z", "2024-05-01T10:00:00", "2024-02-30T10:00:00Z", "2024-05-01 10:00:00Z"):
        document = copy.deepcopy(seeds[0])
        document["validFrom"] = bad
        assert not fast.is_valid(document), bad
        assert not validate_credential(document).valid, bad


# --- generated mutations -----------------------------------------------------------------------

DATE_TIMES = st.from_regex(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})?", fullmatch=True
) | st.sampled_from(
    ["2024-05-01T10:00:00Z", "2024-05-01T10:00:00.123456789+02:00", "2024-05-01", "2024-13-01T00:00:00Z"]
)

WRONG_TYPES = st.sampled_from([None, True, 0, 1.5, "", "x", [], {}, [None], [{}], {"id": 1}])

LEAVES = st.one_of(
    WRONG_TYPES,
    DATE_TIMES,
    fs.texts(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
)


#: Members the schema constrains beyond "a string": formats, enums, patterns, required shapes.
CONSTRAINED_KEYS = frozenset(
    {
        "@context",
        "type",
        "id",
        "validFrom",
        "validUntil",
        "issuanceDate",
        "expirationDate",
        "awardedDate",
        "created",
        "proof",
        "issuer",
        "credentialSubject",
        "achievement",
        "criteria",
        "identifier",
        "identityHash",
        "hashed",
        "credentialStatus",
        "credentialSchema",
        "achievementType",
        "inLanguage",
        "resultType",
        "alignment",
        "endorsementComment",
    }
)


@st.composite
def mutated(draw: st.DrawFn, seeds: list[dict[str, Any]]) -> Any:
    """A valid credential with one to three edits: deletions, replacements (wrong types, dates,
    unicode, nested JSON), single values wrapped or unwrapped, extra members, enum neighbours."""
    document = copy.deepcopy(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 3))):
        paths = fs.all_paths(document)
        if not paths:
            break
        constrained = [path for path in paths if CONSTRAINED_KEYS & set(path[-2:])]
        path = draw(st.sampled_from(constrained if constrained and draw(st.booleans()) else paths))
        value = fs.get(document, path)
        if isinstance(value, str) and value[:4].isdigit() and draw(st.booleans()):
            document = fs.replaced(document, path, draw(DATE_TIMES))  # a date or date-time
            continue
        edit = draw(
            st.sampled_from(["delete", "replace", "json", "wrap", "unwrap", "extra", "unicode", "enum", "same-type"])
        )
        if edit == "delete":
            document = fs.deleted(document, path)
        elif edit == "replace":
            document = fs.replaced(document, path, draw(LEAVES))
        elif edit == "json":
            document = fs.replaced(document, path, draw(fs.json_values(max_leaves=6)))
        elif edit == "wrap":
            document = fs.replaced(document, path, [value])
        elif edit == "unwrap" and isinstance(value, list) and value:
            document = fs.replaced(document, path, value[0])
        elif edit == "extra" and isinstance(value, dict):
            document = fs.replaced(document, path, {**value, draw(fs.keys()): draw(LEAVES)})
        elif edit == "unicode" and isinstance(value, str):
            position = draw(st.integers(0, len(value)))
            inserted = draw(st.sampled_from(["\u00e9", "e\u0301", "\U0001f600", "\u0660", "\n", "\x00", " "]))
            document = fs.replaced(document, path, value[:position] + inserted + value[position:])
        elif edit == "enum" and isinstance(value, str):
            neighbour = draw(st.sampled_from([value.lower(), value.upper(), value + "x", value[:-1], value.strip()]))
            document = fs.replaced(document, path, neighbour)
        elif edit == "same-type" and isinstance(value, str):
            document = fs.replaced(document, path, draw(st.one_of(DATE_TIMES, fs.texts())))
    return document


def test_mutations_of_valid_credentials_get_the_same_verdicts(seeds):
    valid_seen: list[bool] = []

    @differential_settings(200)
    @given(mutated(seeds))
    def check(document: Any) -> None:
        assert_same_verdicts(document)
        valid_seen.append(validate_credential(document, reference_only=True).valid)

    check()
    # the generator reaches both verdicts (a differential test on only one side shows little)
    assert any(valid_seen) and not all(valid_seen)


def test_mutations_round_tripped_through_json_text_get_the_same_verdicts(seeds):
    """As the verifier sees them: parsed from JSON text (NaN and big numbers included)."""

    @differential_settings(50)
    @given(mutated(seeds))
    def check(document: Any) -> None:
        text = json.dumps(document, ensure_ascii=False, allow_nan=True)
        try:
            parsed = json.loads(text)
        except ValueError:
            return  # a lone surrogate written as UTF-8 text
        assert_same_verdicts(parsed)

    check()


@pytest.mark.parametrize("types", [[["OpenBadgeCredential"]], [{"id": "OpenBadgeCredential"}], [None]])
def test_a_type_list_holding_non_strings_is_an_error_not_a_crash(seeds, types):
    document = {**seeds[0], "type": ["VerifiableCredential", *types]}
    report = validate_credential(document)
    assert report.errors[0].startswith("$.type: not an Open Badges 3.0 credential")
    assert report == validate_credential(document, reference_only=True)


def test_non_objects_get_the_same_report():
    for value in (None, [], "credential", 1, [{"type": "OpenBadgeCredential"}]):
        assert validate_credential(value) == validate_credential(value, reference_only=True)  # type: ignore[arg-type]
