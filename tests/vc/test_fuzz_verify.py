"""Property-based fuzzing of the verifier (issue 9, "Keep them closed": property-based fuzzing).

Fuzzed: :func:`service.vc.verify.verify` (JSON values, JSON text, bytes, VC-JWTs, baked PNG and
SVG badges), :func:`service.vc.jose.verify_vc_jwt` and :func:`service.vc.baking.extract_baked`.
The properties:

1. No input raises: ``verify`` returns a report for anything; the other two raise only their
   documented :class:`~service.vc.errors.VCError`.
2. No mutation that changes meaning verifies. tests/vc/fuzz_strategies.py labels each mutation of
   a signed credential: ``changed`` (must fail), ``kept`` (a form JSON-LD defines as the same
   document: must still verify), ``unknown`` (JSON-LD may read it as the same document: when it
   verifies, its canonical N-Quads, document and proof configuration, must equal what the
   issuer signed). A VC-JWT is signed bytes: any other token fails. A baked badge that verifies
   after an edit carries the signed credential.
3. Every call is bounded by the verifier's own work counter, not by wall time: the number of
   RDFC-1.0 canonicalizations never exceeds ``DEFAULT_LIMITS.max_canonicalizations``, and no
   JSON-LD expansion happens outside a (budgeted) canonicalization.
4. Memory: inputs over the limits are refused before they are decoded or expanded, and the
   largest accepted input peaks below a fixed multiple of its size (tracemalloc).

Reproducible: ``derandomize=True`` and no example database, so every run tries the same inputs.
Longer run (any number of examples per property)::

    SKILLCRED_FUZZ_EXAMPLES=5000 .venv/bin/python -m pytest -q -p no:cacheprovider tests/vc/test_fuzz_verify.py

Figures: :data:`FUZZED` counts the examples each property ran in this process; at the end of the
module their sum is added to the suite's "inputs fuzzed" figure (:func:`tests.figures.record`),
which ``make test`` prints.

The bugs this fuzzing found (an empty @context, numbers beyond a double, blank-node properties, a
non-canonical proofValue, unbounded text, quadratic canonicalization) are fixed; each has a
regression test at the end of this module.
"""

from __future__ import annotations

import base64
import copy
import json
import math
import struct
import tracemalloc
import zlib
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from service.vc import data_integrity, jose, jsonld
from service.vc.baking import PNG_SIGNATURE, bake_png, bake_svg, extract_baked
from service.vc.budget import DEFAULT_LIMITS, json_shape
from service.vc.errors import VCError
from service.vc.report import VerificationReport
from service.vc.verify import MAX_INPUT_BYTES, verify
from tests import figures
from tests.standards import OB3_IMPL_GUIDE, load_json
from tests.vc import fuzz_strategies as fs

NOW = datetime(2025, 6, 1, tzinfo=UTC)

#: Examples run per property in this process (the figure a suite summary reports).
FUZZED: Counter[str] = Counter()


def fuzz_settings(default_examples: int) -> settings:
    """Bounded and reproducible by default; SKILLCRED_FUZZ_EXAMPLES sets the count for long runs."""
    return fs.bounded_settings(default_examples, "SKILLCRED_FUZZ_EXAMPLES")


@pytest.fixture(scope="module", autouse=True)
def _record_figures() -> Iterator[None]:
    """Add the examples this process ran to the suite's "inputs fuzzed" figure (tests/figures.py)."""
    yield
    if FUZZED:
        figures.record("inputs fuzzed", sum(FUZZED.values()))


# --- the documents to mutate -------------------------------------------------------------------


@dataclass(frozen=True)
class Corpus:
    """Signed documents and their foreign proofs, built once per module."""

    plain: dict[str, Any]  # the OB 3.0 implementation guide credential, eddsa-rdfc-2022
    rich: dict[str, Any]  # non-ASCII names, a number, a proof written as a list
    foreign_proofs: list[dict[str, Any]]  # valid proofs of other documents, or by another key
    endorsements: list[dict[str, Any]]
    jwt: str
    png: bytes
    svg: bytes


def _tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><circle cx="4" cy="4" r="3"/></svg>\n'


@pytest.fixture(scope="module")
def corpus(issuer_signer, other_signer, issuer_did) -> Corpus:
    unsigned = load_json(OB3_IMPL_GUIDE / "unsigned-credential.json")
    unsigned["issuer"]["id"] = issuer_did
    sign = data_integrity.sign
    plain = sign(unsigned, issuer_signer, created="2024-01-01T00:00:00Z")

    rich_unsigned = copy.deepcopy(unsigned)
    rich_unsigned["id"] = "urn:uuid:6f1a3c52-52d7-4c0e-9a57-0f7c1d4b8e21"
    rich_unsigned["name"] = (
        "Caf\u00e9 \u00c5ngstr\u00f6m \ufb01nal \u2167 \U0001d518"  # NFC, with compatibility characters
    )
    rich_unsigned["issuer"]["name"] = "Zo\u00eb \u212b Corp"  # U+212B ANGSTROM SIGN: NFC maps it to U+00C5
    rich_unsigned["credentialSubject"]["achievement"]["name"] = "Cafe\u0301 teamwork"  # NFD
    rich_unsigned["credentialSubject"]["achievement"]["creditsAvailable"] = 2.5
    rich = sign(rich_unsigned, issuer_signer, created="2024-02-29T12:34:56Z", proof_as_list=True)

    sibling = {**copy.deepcopy(unsigned), "id": "http://example.com/credentials/3528"}
    foreign_proofs = [
        sign(sibling, issuer_signer, created="2024-01-01T00:00:00Z")["proof"],  # same key, other document
        sign(unsigned, other_signer, created="2024-01-01T00:00:00Z")["proof"],  # a key the issuer does not control
        rich["proof"][0],
    ]
    for document in (plain, rich):
        assert verify(document, now=NOW).verified, verify(document, now=NOW).to_text()
    jwt = jose.sign_vc_jwt(copy.deepcopy(unsigned), issuer_signer)
    assert verify(jwt, now=NOW).verified
    png = bake_png(_tiny_png(), plain)
    svg = bake_svg(SVG, plain).encode()
    return Corpus(plain, rich, foreign_proofs, [plain, rich, sibling], jwt, png, svg)


# --- the verifier's work, counted --------------------------------------------------------------


@dataclass
class Work:
    canonicalizations: int = 0
    expansions: int = 0


@contextmanager
def counted_work() -> Iterator[Work]:
    """Count the canonicalizations the data-integrity code runs and every JSON-LD expansion."""
    work = Work()
    real_canonize, real_expand = data_integrity.canonize, jsonld.expand

    def canonize(document: Mapping[str, Any], loader: Any = None, **options: Any) -> str:
        work.canonicalizations += 1
        return real_canonize(document, loader, **options)

    def expand(document: Mapping[str, Any], loader: Any = None) -> list[Any]:
        work.expansions += 1
        return real_expand(document, loader)

    with mock.patch.object(data_integrity, "canonize", canonize), mock.patch.object(jsonld, "expand", expand):
        yield work


def bounded_verify(source: Any) -> VerificationReport:
    """``verify(source)``, asserting it returned a report within the canonicalization bound and did
    no JSON-LD work outside a canonicalization."""
    with counted_work() as work:
        report = verify(source, now=NOW)
    assert isinstance(report, VerificationReport)
    assert work.canonicalizations <= DEFAULT_LIMITS.max_canonicalizations, work
    assert work.expansions <= work.canonicalizations, work
    return report


def only_vc_errors(call: Any, *args: Any) -> Any:
    """``call(*args)``, which may raise only VCError (its documented errors); the VCError is returned."""
    try:
        return call(*args)
    except VCError as err:
        return err


# --- what "the same meaning" is ----------------------------------------------------------------


def _without(document: Mapping[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != key}


def same_signed_meaning(signed: Mapping[str, Any], candidate: Any) -> bool:
    """Whether ``candidate`` has the canonical N-Quads of the document ``signed`` and of one of its
    proof configurations, under the default contexts or an alternate edition the verifier allows."""
    if not isinstance(candidate, Mapping):
        return False
    original = signed["proof"] if isinstance(signed["proof"], dict) else signed["proof"][0]
    unsecured = _without(signed, "proof")
    want_document = jsonld.canonize(unsecured)
    want_config = jsonld.canonize({**_without(original, "proofValue"), "@context": unsecured["@context"]})
    proofs = candidate.get("proof")
    proofs = proofs if isinstance(proofs, list) else [proofs]
    mine = _without(candidate, "proof")
    for loader in jsonld.loaders_for(mine):
        try:
            if jsonld.canonize(mine, loader) != want_document:
                continue
            for proof in proofs:
                if isinstance(proof, Mapping):
                    config = {**_without(proof, "proofValue"), "@context": mine.get("@context")}
                    if jsonld.canonize(config, loader) == want_config:
                        return True
        except VCError:
            continue
    return False


# --- open bugs (see the xfail tests at the end) ------------------------------------------------


def _walk(value: Any) -> Iterator[tuple[Any, Any]]:
    """(key or None, value) for every value below ``value``."""
    stack: list[tuple[Any, Any]] = [(None, value)]
    while stack:
        key, item = stack.pop()
        yield key, item
        if isinstance(item, Mapping):
            stack.extend(item.items())
        elif isinstance(item, list):
            stack.extend((None, child) for child in item)


# --- 1. no input raises ------------------------------------------------------------------------


@fuzz_settings(200)
@given(value=fs.json_values())
def test_any_json_value_as_object_text_or_bytes_gets_a_report_and_does_not_verify(value):
    FUZZED["random_json"] += 1
    for source in (value, json.dumps(value), json.dumps(value).encode()):
        report = bounded_verify(source)
        assert not report.verified


@st.composite
def credential_shaped(draw: st.DrawFn) -> dict[str, Any]:
    """Random values in a credential's frame: they reach the schema, proof and status checks."""
    document: dict[str, Any] = {
        "@context": draw(
            st.sampled_from(
                [
                    [
                        "https://www.w3.org/ns/credentials/v2",
                        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
                    ],
                    ["https://www.w3.org/ns/credentials/v2"],
                    [
                        "https://www.w3.org/2018/credentials/v1",
                        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
                    ],
                ]
            )
        ),
        "type": draw(st.one_of(st.just(["VerifiableCredential", "OpenBadgeCredential"]), fs.json_values(4))),
        "issuer": draw(
            st.one_of(
                st.just({"id": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", "type": "Profile"}),
                fs.json_values(4),
            )
        ),
        "validFrom": draw(st.one_of(st.sampled_from(fs.TRICKY_STRINGS), fs.json_values(2))),
        "credentialSubject": draw(fs.json_values(8)),
        "proof": draw(
            st.one_of(
                st.fixed_dictionaries(
                    {
                        "type": st.sampled_from(["DataIntegrityProof", "Ed25519Signature2020", "x"]),
                        "cryptosuite": st.sampled_from(["eddsa-rdfc-2022", "eddsa-2022", "ecdsa-rdfc-2019"]),
                        "verificationMethod": st.one_of(st.sampled_from(fs.TRICKY_STRINGS), fs.json_values(2)),
                        "proofPurpose": st.sampled_from(["assertionMethod", "authentication", ""]),
                        "proofValue": st.one_of(st.text(max_size=90), st.just("z" + "1" * 88), fs.json_values(2)),
                    },
                    optional={
                        "created": fs.json_values(2),
                        "previousProof": fs.json_values(2),
                        "@context": fs.json_values(2),
                    },
                ),
                fs.json_values(6),
            )
        ),
    }
    extra = draw(st.dictionaries(fs.keys(), fs.json_values(6), max_size=4))
    return {**document, **extra}


@fuzz_settings(60)
@given(document=credential_shaped())
def test_random_values_in_a_credential_frame_get_a_report_and_do_not_verify(document):
    FUZZED["credential_shaped"] += 1
    assert not bounded_verify(document).verified


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _png_with_text(text: bytes, compressed: bool) -> bytes:
    body = zlib.compress(text) if compressed else text
    data = b"openbadgecredential\x00" + (b"\x01\x00" if compressed else b"\x00\x00") + b"\x00\x00" + body
    itxt = struct.pack(">I", len(data)) + b"iTXt" + data + struct.pack(">I", zlib.crc32(b"iTXt" + data))
    png = _tiny_png()
    return png[:-12] + itxt + png[-12:]


random_images_and_tokens = st.one_of(
    st.binary(max_size=256),
    st.builds(lambda tail: PNG_SIGNATURE + tail, st.binary(max_size=256)),
    st.builds(_png_with_text, st.binary(max_size=256), st.booleans()),
    st.builds(
        lambda text, c: _png_with_text(text.encode("utf-8", "surrogatepass"), c),
        st.sampled_from(fs.TRICKY_STRINGS + ("{", "[1]", "a.b.c", '{"a": 1}')),
        st.booleans(),
    ),
    st.builds(lambda tail: b"<svg" + tail, st.binary(max_size=256)),
    st.builds(
        lambda inner: (
            '<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">'
            f"<openbadges:credential>{inner}</openbadges:credential></svg>"
        ).encode("utf-8", "surrogatepass"),
        st.one_of(
            st.text(max_size=64),
            st.sampled_from(["<![CDATA[{}]]>", '<![CDATA[{"a": 1e999}]]>', "<!ENTITY x 'y'>", "&x;"]),
        ),
    ),
    st.builds(
        lambda a, b, c: f"{_b64(a)}.{_b64(b)}.{_b64(c)}".encode(),
        st.binary(max_size=64),
        st.binary(max_size=64),
        st.binary(max_size=80),
    ),
    st.builds(
        lambda header, payload, sig: (
            f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}.{_b64(sig)}".encode()
        ),
        st.one_of(
            st.fixed_dictionaries(
                {"alg": st.sampled_from(["EdDSA", "ES256", "none", "HS256", "RS256"])},
                optional={"kid": fs.json_values(2), "jwk": fs.json_values(4), "crit": fs.json_values(2)},
            ),
            fs.json_values(4),
        ),
        fs.json_values(12),
        st.binary(min_size=0, max_size=80),
    ),
)


@fuzz_settings(300)
@given(data=random_images_and_tokens)
def test_random_bytes_as_token_png_or_svg_get_a_report_and_only_documented_errors(data):
    FUZZED["random_bytes"] += 1
    assert not bounded_verify(data).verified
    only_vc_errors(extract_baked, data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    assert isinstance(only_vc_errors(jose.verify_vc_jwt, text, None), VCError)
    assert not bounded_verify(text).verified


# --- 2. no mutation that changes meaning verifies ----------------------------------------------


@fuzz_settings(150)
@given(data=st.data())
def test_a_mutation_that_changes_the_meaning_never_verifies(corpus, data):
    FUZZED["meaning_changing_mutations"] += 1
    signed = data.draw(st.sampled_from([corpus.plain, corpus.rich]), label="signed")
    mutation = data.draw(fs.meaning_changing(signed, corpus.foreign_proofs, corpus.endorsements), label="mutation")

    report = bounded_verify(mutation.document)

    assert not report.verified, (mutation.kind, report.to_text())


@fuzz_settings(100)
@given(data=st.data())
def test_a_form_json_ld_reads_the_same_still_verifies_as_object_text_and_bytes(corpus, data):
    FUZZED["meaning_keeping_mutations"] += 1
    signed = data.draw(st.sampled_from([corpus.plain, corpus.rich]), label="signed")
    mutation = data.draw(fs.meaning_keeping(signed), label="mutation")
    indent = data.draw(st.sampled_from([None, 0, 2, "\t"]), label="indent")
    ascii_only = data.draw(st.booleans(), label="ensure_ascii")
    text = json.dumps(mutation.document, indent=indent, ensure_ascii=ascii_only)

    for source in (mutation.document, text, b"\xef\xbb\xbf" + text.encode() + b"\n"):
        report = bounded_verify(source)
        assert report.verified, (mutation.kind, report.to_text())


@fuzz_settings(200)
@given(data=st.data())
def test_an_edit_that_verifies_carries_exactly_the_signed_meaning(corpus, data):
    FUZZED["unknown_mutations"] += 1
    signed = data.draw(st.sampled_from([corpus.plain, corpus.rich]), label="signed")
    mutation = data.draw(fs.meaning_unknown(signed, corpus.foreign_proofs), label="mutation")

    report = bounded_verify(mutation.document)

    if report.verified:
        assert same_signed_meaning(signed, mutation.document), (mutation.kind, mutation.document)


def test_numbers_equal_at_the_precision_of_xsd_double_are_the_same_credential(corpus):
    """JSON-LD writes a double with 16 significant digits (JSON-LD 1.1 API, Object to RDF
    Conversion, https://www.w3.org/TR/json-ld11-api/#data-round-tripping), so numbers one ulp
    apart are one signed value: the signature covers the canonical form, not the JSON digits."""
    nudged = copy.deepcopy(corpus.rich)
    nudged["credentialSubject"]["achievement"]["creditsAvailable"] = math.nextafter(2.5, 3)

    assert bounded_verify(nudged).verified
    assert same_signed_meaning(corpus.rich, nudged)


@st.composite
def edited_tokens(draw: st.DrawFn, token: str) -> str:
    kind = draw(st.sampled_from(["substitute", "insert", "delete", "truncate", "payload", "header"]))
    if kind in ("substitute", "insert", "delete", "truncate"):
        at = draw(st.integers(0, len(token) - 1))
        char = draw(st.one_of(st.sampled_from("ABCDEFabcdef0123456789-_.= "), st.characters()))
        return {
            "substitute": token[:at] + char + token[at + 1 :],
            "insert": token[:at] + char + token[at:],
            "delete": token[:at] + token[at + 1 :],
            "truncate": token[:at],
        }[kind]
    header_part, payload_part, signature = token.split(".")
    part = payload_part if kind == "payload" else header_part
    value = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    paths = fs.all_paths(value)
    op = draw(st.sampled_from(["set", "drop", "add", "reorder"]))
    if op == "set":
        value = fs.replaced(value, draw(st.sampled_from(paths)), draw(fs.json_values(6)))
    elif op == "drop":
        value = fs.deleted(value, draw(st.sampled_from([p for p in paths if isinstance(p[-1], str)])))
    elif op == "add":
        value = {**value, draw(fs.keys()): draw(fs.json_values(4))}
    else:
        value = {k: value[k] for k in draw(st.permutations(list(value)))}
    encoded = _b64(
        json.dumps(value, separators=(",", ":"), ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    )
    return ".".join([encoded, payload_part, signature] if kind == "header" else [header_part, encoded, signature])


@fuzz_settings(300)
@given(data=st.data())
def test_any_other_token_than_the_signed_vc_jwt_fails(corpus, data):
    FUZZED["vc_jwt_edits"] += 1
    edited = data.draw(edited_tokens(corpus.jwt), label="token")
    assume(edited.strip() != corpus.jwt)

    assert isinstance(only_vc_errors(jose.verify_vc_jwt, edited, None), VCError)
    assert not bounded_verify(edited).verified


@st.composite
def edited_bytes(draw: st.DrawFn, data: bytes) -> bytes:
    at = draw(st.integers(0, len(data) - 1))
    kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "splice"]))
    if kind == "flip":
        return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
    if kind == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    if kind == "delete":
        return data[:at] + data[at + draw(st.integers(1, 8)) :]
    if kind == "truncate":
        return data[:at]
    end = draw(st.integers(at, len(data)))
    return data[:at] + draw(st.binary(max_size=32)) + data[end:]


@fuzz_settings(300)
@given(data=st.data())
def test_an_edited_baked_badge_verifies_only_the_signed_credential(corpus, data):
    FUZZED["baked_badge_edits"] += 1
    image = data.draw(st.sampled_from([corpus.png, corpus.svg]), label="image")
    edited = data.draw(edited_bytes(image), label="edited")

    only_vc_errors(extract_baked, edited)
    report = bounded_verify(edited)

    if report.verified:
        assert same_signed_meaning(corpus.plain, report.credential)


# --- 4. memory: refused before the work, bounded when accepted ---------------------------------


def _peak(call: Any) -> tuple[Any, int]:
    tracemalloc.start()
    try:
        result = call()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_bytes_over_the_input_limit_are_refused_before_they_are_decoded():
    oversized = b"{" + b" " * MAX_INPUT_BYTES + b"}"

    with counted_work() as work:
        report, peak = _peak(lambda: verify(oversized, now=NOW))

    assert not report.verified
    assert any(f"larger than {MAX_INPUT_BYTES}" in c.reason for c in report.checks if c.outcome == "failed")
    assert work.expansions == 0
    assert peak < 64 * 1024  # nothing of the size of the input was allocated


def test_a_credential_over_the_value_limit_is_refused_before_any_json_ld_expansion(corpus):
    crowded = {**corpus.plain, "evidence": ["urn:x"] * DEFAULT_LIMITS.max_json_values}

    with counted_work() as work:
        report, peak = _peak(lambda: verify(crowded, now=NOW))

    assert any(
        f"more than {DEFAULT_LIMITS.max_json_values} JSON values" in c.reason
        for c in report.checks
        if c.outcome == "failed"
    )
    assert work.expansions == 0 and work.canonicalizations == 0
    assert peak < 4 * 1024 * 1024  # the shape check's own stack, not an expansion


def test_the_largest_accepted_input_peaks_below_a_fixed_multiple_of_its_size(corpus):
    """A credential of MAX_INPUT_BYTES (a long name) is fully processed (parsed, schema-checked,
    canonicalized); measured peak: about 7 times its size."""
    document = copy.deepcopy(corpus.plain)
    document["name"] = ""
    document["name"] = "x" * (MAX_INPUT_BYTES - len(json.dumps(document).encode()))
    data = json.dumps(document).encode()
    assert len(data) == MAX_INPUT_BYTES

    with counted_work() as work:
        report, peak = _peak(lambda: verify(data, now=NOW))

    assert work.canonicalizations >= 1  # it was accepted and processed
    assert not report.verified  # the name was not signed
    assert peak < 16 * MAX_INPUT_BYTES


# --- bugs found by fuzzing, fixed: kept as regression tests ---------------------------------------


def test_a_number_beyond_the_range_of_a_double_gets_a_report(corpus):
    report = verify({**corpus.plain, "name": 10**309}, now=NOW)

    assert not report.verified


@pytest.mark.parametrize("source", [{"@context": []}, '{"@context": []}'], ids=["object", "text"])
def test_an_empty_context_list_gets_a_report(source):
    report = verify(source, now=NOW)

    assert not report.verified


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda d: {**d, "_:grade": "A+"}, id="blank-node-member"),
        pytest.param(
            lambda d: {**d, "@context": [*d["@context"], {"@vocab": "_:"}], "grade": "A+"}, id="vocab-blank-node"
        ),
    ],
)
def test_a_member_that_would_not_be_signed_is_refused(corpus, forge):
    assert not verify(forge(corpus.plain), now=NOW).verified


@pytest.mark.parametrize("suffix", [" ", "\n", "\t"], ids=["space", "newline", "tab"])
def test_a_proof_value_with_trailing_whitespace_is_refused(corpus, suffix):
    proof = {**corpus.plain["proof"], "proofValue": corpus.plain["proof"]["proofValue"] + suffix}

    assert not verify({**corpus.plain, "proof": proof}, now=NOW).verified


def test_text_over_the_input_limit_is_refused_before_it_is_parsed():
    report = verify(" " * MAX_INPUT_BYTES + "{}", now=NOW)

    assert any(f"larger than {MAX_INPUT_BYTES}" in c.reason for c in report.checks if c.outcome == "failed")


def test_a_credential_that_costs_seconds_to_canonicalize_is_refused_by_the_shape_check(corpus):
    costly = {**corpus.plain, "evidence": [f"urn:x:{i}" for i in range(8_000)]}

    assert json_shape(costly, DEFAULT_LIMITS.max_json_values, DEFAULT_LIMITS.max_depth) is not None
