"""Hypothesis strategies for fuzzing the verifier: random JSON, hostile strings and numbers, and
labelled mutations of a signed credential (see tests/vc/test_fuzz_verify.py).

A :class:`Mutation` says whether it changes what the credential means:

- ``changed``: it changes the RDF dataset the issuer signed (a value, a key, a type, the proof, the
  issuer) or is refused by the verifier's own rules (context order and repeats); it must never
  verify.
- ``kept``: a form JSON-LD defines as the same document (object key order, the order of a ``type``
  set, a lone proof written as a one-element list, the same proof listed twice, JSON whitespace);
  it must still verify.
- ``unknown``: JSON-LD may or may not read it as the same document (a scalar wrapped in a list,
  arrays nested in arrays, ``@index``, empty ``@graph``, an inline context defining unused terms,
  numbers that differ only past the precision of xsd:double, random edits); a verified result
  is then checked against the canonical form the issuer signed.
"""

from __future__ import annotations

import copy
import math
import os
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st

Path = tuple[str | int, ...]
Meaning = Literal["changed", "kept", "unknown"]


@dataclass(frozen=True)
class Mutation:
    """A mutated copy of a document, the kind of edit, and whether it changes the meaning."""

    kind: str
    document: Any
    meaning: Meaning


def bounded_settings(default_examples: int, variable: str) -> settings:
    """Hypothesis settings for the suite: bounded and reproducible (``default_examples``,
    derandomised, no example database); the environment ``variable`` sets the count for long runs
    (``SKILLCRED_FUZZ_EXAMPLES``, ``SKILLCRED_DIFFERENTIAL_EXAMPLES``)."""
    return settings(
        max_examples=int(os.environ.get(variable) or 0) or default_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.large_base_example,
        ],
    )


# --- leaves ------------------------------------------------------------------------------------

#: Numbers at the edges of JSON, IEEE 754 doubles, JSON-LD's xsd:integer/xsd:double switch at
#: 10^21 (JSON-LD 1.1 API, Object to RDF Conversion) and common integer widths.
EDGE_NUMBERS: tuple[int | float, ...] = (
    0,
    -0.0,
    1,
    -1,
    0.1,
    2**31 - 1,
    -(2**31),
    2**53,
    2**53 + 1,
    2**63 - 1,
    -(2**63),
    2**64,
    10**21 - 1,
    10**21,
    10**21 + 1,
    1e21,
    1e-7,
    5e-324,
    2.2250738585072014e-308,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    math.inf,
    -math.inf,
    math.nan,
    10**308,
    10**309,  # beyond the range of a double
    -(10**400),
)

#: Strings that have broken parsers before: empty, control characters, lone surrogates (valid
#: in Python and in JSON text as escapes, invalid in UTF-8), combining marks, compatibility
#: characters, astral characters, bidi controls, JSON-LD keywords and blank node labels.
TRICKY_STRINGS: tuple[str, ...] = (
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "\udfff\ud800",
    "e\u0301",
    "\u00e9",
    "\ufb01",
    "\u212b",
    "\U0001d518",
    "\U0001f600",
    "\u202e",
    "\ufeff",
    "\r\n",
    '"\\',
    "@id",
    "@type",
    "@context",
    "_:b0",
    "urn:x",
    "http://example.com/",
    "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
    "2010-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "0000-01-01T00:00:00Z",
)

#: Keys worth trying: JSON-LD keywords, Open Badges / VCDM terms, JWT claims, blank node labels.
KEYS: tuple[str, ...] = (
    "@context",
    "@id",
    "@type",
    "@value",
    "@language",
    "@direction",
    "@index",
    "@list",
    "@set",
    "@graph",
    "@included",
    "@reverse",
    "@nest",
    "@json",
    "@vocab",
    "@base",
    "@none",
    "id",
    "type",
    "name",
    "description",
    "issuer",
    "validFrom",
    "validUntil",
    "credentialSubject",
    "credentialStatus",
    "proof",
    "endorsement",
    "endorsementJwt",
    "evidence",
    "achievement",
    "assessment",
    "iss",
    "sub",
    "nbf",
    "exp",
    "jti",
    "vc",
)


def edge_numbers() -> st.SearchStrategy[int | float]:
    """Edge numbers, arbitrary integers (big ones included) and arbitrary doubles."""
    return st.one_of(st.sampled_from(EDGE_NUMBERS), st.integers(), st.floats())


def long_strings() -> st.SearchStrategy[str]:
    """Strings from a kilobyte to a few hundred kilobytes."""
    pieces = st.sampled_from(["a", "\u00e9", "\U0001f600", "ab ", "\x00"])
    return st.builds(lambda piece, n: piece * n, pieces, st.integers(1_000, 100_000))


def texts() -> st.SearchStrategy[str]:
    """Short random text and hostile strings."""
    return st.one_of(st.text(max_size=24), st.sampled_from(TRICKY_STRINGS))


def keys() -> st.SearchStrategy[str]:
    """Object member names: JSON-LD keywords, known terms, and random text."""
    return st.one_of(st.sampled_from(KEYS), st.text(max_size=12))


def json_values(max_leaves: int = 24) -> st.SearchStrategy[Any]:
    """Any JSON value (NaN and the infinities included: ``json.loads`` accepts them)."""
    scalars = st.one_of(st.none(), st.booleans(), edge_numbers(), st.text(max_size=16), st.sampled_from(TRICKY_STRINGS))
    return st.recursive(
        scalars,
        lambda children: st.one_of(st.lists(children, max_size=5), st.dictionaries(keys(), children, max_size=5)),
        max_leaves=max_leaves,
    )


# --- paths -------------------------------------------------------------------------------------


def all_paths(value: Any, prefix: Path = ()) -> list[Path]:
    """Every path below ``value`` (object members and array items), depth first."""
    found: list[Path] = []
    if isinstance(value, Mapping):
        for key, child in value.items():
            found.append((*prefix, key))
            found.extend(all_paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.append((*prefix, index))
            found.extend(all_paths(child, (*prefix, index)))
    return found


def get(value: Any, path: Path) -> Any:
    """The value at ``path``."""
    for step in path:
        value = value[step]
    return value


def replaced(document: Any, path: Path, new: Any) -> Any:
    """A deep copy of ``document`` with the value at ``path`` replaced by ``new``."""
    copied = copy.deepcopy(document)
    if not path:
        return copy.deepcopy(new)
    get(copied, path[:-1])[path[-1]] = copy.deepcopy(new)
    return copied


def deleted(document: Any, path: Path) -> Any:
    """A deep copy of ``document`` without the member or item at ``path``."""
    copied = copy.deepcopy(document)
    del get(copied, path[:-1])[path[-1]]
    return copied


def json_type(value: Any) -> str:
    """The JSON type of a Python value (bool before number: bool is an int in Python)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def unicode_variants(text: str) -> list[str]:
    """The NFC, NFD, NFKC and NFKD forms of ``text`` that differ from it."""
    forms = {unicodedata.normalize(form, text) for form in ("NFC", "NFD", "NFKC", "NFKD")}  # type: ignore[arg-type]
    return sorted(forms - {text})


def nested(depth: int, leaf: Any, kind: str) -> Any:
    """``leaf`` wrapped ``depth`` times in arrays or in objects."""
    for _ in range(depth):
        leaf = [leaf] if kind == "array" else {"type": "Evidence", "narrative": "deep", "evidence": leaf}
    return leaf


# --- mutations of a signed credential ----------------------------------------------------------


def _proofs(document: Mapping[str, Any]) -> list[Any]:
    proof = document.get("proof")
    return proof if isinstance(proof, list) else [proof]


@st.composite
def meaning_changing(
    draw: st.DrawFn, document: dict[str, Any], foreign_proofs: list[dict[str, Any]], endorsements: list[Any]
) -> Mutation:
    """A mutation that changes the signed meaning of ``document`` (or that the verifier refuses
    by rule): it must not verify. ``foreign_proofs`` are valid proofs, but of other documents or
    by other keys; ``endorsements`` are credentials to embed."""
    paths = all_paths(document)
    string_paths = [p for p in paths if isinstance(get(document, p), str)]
    member_paths = [p for p in paths if isinstance(p[-1], str)]
    object_paths = [()] + [p for p in paths if isinstance(get(document, p), dict)]
    kind = draw(
        st.sampled_from(
            [
                "change_string",
                "unicode_variant",
                "long_string",
                "drop_member",
                "add_member",
                "change_type",
                "deep_objects",
                "context_reorder",
                "context_repeat",
                "swap_proof",
                "edit_proof",
                "add_endorsement",
            ]
        )
    )
    if kind == "change_string":
        path = draw(st.sampled_from(string_paths))
        old = get(document, path)
        new = draw(st.one_of(texts(), st.just(old + " "), st.just(old.upper()), st.just(old[:-1])))
        assume(new != old)
        return Mutation(kind, replaced(document, path, new), "changed")
    if kind == "unicode_variant":
        candidates = [p for p in string_paths if unicode_variants(get(document, p))]
        assume(candidates)
        path = draw(st.sampled_from(candidates))
        return Mutation(
            kind, replaced(document, path, draw(st.sampled_from(unicode_variants(get(document, path))))), "changed"
        )
    if kind == "long_string":
        path = draw(st.sampled_from(string_paths))
        new = draw(long_strings())
        assume(new != get(document, path))
        return Mutation(kind, replaced(document, path, new), "changed")
    if kind == "drop_member":
        return Mutation(kind, deleted(document, draw(st.sampled_from(member_paths))), "changed")
    if kind == "add_member":
        # A new member that is not a keyword, with a non-empty value: either a new statement
        # (a defined term or an absolute IRI) or a member safe mode must refuse (undefined).
        holder = draw(st.sampled_from(object_paths))
        target = get(document, holder)
        key = draw(
            st.one_of(
                st.sampled_from(
                    [
                        "name",
                        "description",
                        "id",
                        "type",
                        "image",
                        "narrative",
                        "validUntil",
                        "https://example.com/extra",
                        "urn:example:extra",
                    ]
                ),
                st.text(min_size=1, max_size=12),
                st.builds(lambda s: "_:" + s, st.text(max_size=6)),
            ).filter(lambda k: not k.startswith("@"))
        )
        assume(key not in target)
        value = draw(
            st.one_of(
                st.text(min_size=1, max_size=24),
                st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=3),
                st.builds(lambda s: {"type": "Evidence", "narrative": s}, st.text(min_size=1, max_size=8)),
            )
        )
        return Mutation(kind, replaced(document, (*holder, key), value), "changed")
    if kind == "change_type":
        # A value of another JSON type (never the same value wrapped in, or unwrapped from, an
        # array: JSON-LD reads those the same). A number becoming a string is left out: a typed
        # term coerces "3" and 3 to the same literal.
        path = draw(st.sampled_from(paths))
        old = get(document, path)
        new = draw(json_values(max_leaves=6))
        assume(json_type(new) != json_type(old))
        assume(not (isinstance(old, list) and len(old) == 1 and new == old[0]))
        assume(not (isinstance(new, list) and old in new))
        assume(not (json_type(old) == "number" and json_type(new) == "string"))
        return Mutation(kind, replaced(document, path, new), "changed")
    if kind == "deep_objects":
        holder = draw(st.sampled_from(object_paths))
        depth = draw(st.integers(2, 200))
        return Mutation(
            kind,
            replaced(document, (*holder, "evidence"), nested(depth, {"type": "Evidence", "narrative": "x"}, "object")),
            "changed",
        )
    if kind == "context_reorder":
        # Context order decides which definition wins; the verifier requires the VCDM context
        # first (VCDM 2.0 section 4.3) so any other order is refused.
        contexts = document["@context"]
        order = draw(st.permutations(contexts))
        assume(order[0] != contexts[0])
        return Mutation(kind, replaced(document, ("@context",), order), "changed")
    if kind == "context_repeat":
        contexts = list(document["@context"])
        repeated = draw(st.sampled_from(contexts))
        at = draw(st.integers(1, len(contexts)))
        return Mutation(kind, replaced(document, ("@context",), [*contexts[:at], repeated, *contexts[at:]]), "changed")
    own = _proofs(document)[0]
    foreign_proofs = [p for p in foreign_proofs if p != own]
    if kind == "swap_proof":
        foreign = draw(st.sampled_from(foreign_proofs))
        as_list = draw(st.booleans())
        return Mutation(kind, replaced(document, ("proof",), [foreign] if as_list else foreign), "changed")
    if kind == "edit_proof":
        # The proof's own members are signed too (the proof configuration), except proofValue,
        # which is the signature: take it, or `created`, from a foreign proof.
        foreign = draw(st.sampled_from(foreign_proofs))
        member = draw(st.sampled_from([k for k in own if k in foreign and own[k] != foreign[k]]))
        return Mutation(kind, replaced(document, ("proof",), {**own, member: foreign[member]}), "changed")
    assert kind == "add_endorsement"
    count = draw(st.integers(1, 17))  # up to one over the limit of embedded endorsements checked
    chosen = draw(st.lists(st.sampled_from(endorsements), min_size=count, max_size=count))
    return Mutation(kind, replaced(document, ("endorsement",), chosen), "changed")


@st.composite
def meaning_keeping(draw: st.DrawFn, document: dict[str, Any]) -> Mutation:
    """A form JSON-LD defines as the same document: it must still verify."""
    kind = draw(st.sampled_from(["reorder_members", "reorder_type", "proof_as_list", "duplicate_proof"]))
    if kind == "reorder_members":
        holders = [()] + [p for p in all_paths(document) if isinstance(get(document, p), dict)]
        holder = draw(st.sampled_from(holders))
        target = get(document, holder)
        order = draw(st.permutations(list(target)))
        return Mutation(kind, replaced(document, holder, {k: target[k] for k in order}), "kept")
    if kind == "reorder_type":
        # `type` is a set: JSON-LD gives its order no meaning (VCDM 2.0 section 4.5).
        return Mutation(kind, replaced(document, ("type",), draw(st.permutations(document["type"]))), "kept")
    proof = _proofs(document)[0]
    if kind == "proof_as_list":
        return Mutation(kind, replaced(document, ("proof",), [proof]), "kept")
    return Mutation(kind, replaced(document, ("proof",), [proof, copy.deepcopy(proof)]), "kept")


@st.composite
def meaning_unknown(draw: st.DrawFn, document: dict[str, Any], foreign_proofs: list[dict[str, Any]]) -> Mutation:
    """An edit JSON-LD may read as the same document or not: checked against the signed form."""
    paths = all_paths(document)
    kind = draw(
        st.sampled_from(
            [
                "set_random_value",
                "add_random_member",
                "wrap_in_arrays",
                "edge_number",
                "add_keyword_member",
                "inline_context",
                "extra_proof",
            ]
        )
    )
    if kind == "set_random_value":
        return Mutation(kind, replaced(document, draw(st.sampled_from(paths)), draw(json_values())), "unknown")
    holders = [()] + [p for p in paths if isinstance(get(document, p), dict)]
    if kind == "add_random_member":
        return Mutation(
            kind, replaced(document, (*draw(st.sampled_from(holders)), draw(keys())), draw(json_values())), "unknown"
        )
    if kind == "wrap_in_arrays":
        # Arrays inside arrays are flattened by expansion (JSON-LD 1.1 API, Expansion Algorithm).
        path = draw(st.sampled_from(paths))
        return Mutation(
            kind, replaced(document, path, nested(draw(st.integers(1, 60)), get(document, path), "array")), "unknown"
        )
    if kind == "edge_number":
        return Mutation(kind, replaced(document, draw(st.sampled_from(paths)), draw(edge_numbers())), "unknown")
    if kind == "add_keyword_member":
        key = draw(st.sampled_from([k for k in KEYS if k.startswith("@")]))
        value = draw(st.one_of(st.just([]), st.just({}), st.none(), st.text(max_size=8), json_values(max_leaves=4)))
        return Mutation(kind, replaced(document, (*draw(st.sampled_from(holders)), key), value), "unknown")
    if kind == "inline_context":
        term = draw(
            st.one_of(
                st.sampled_from(["name", "title", "grade", "@vocab", "@base", "@language"]),
                st.text(min_size=1, max_size=6),
            )
        )
        definition = draw(
            st.one_of(
                st.sampled_from(["https://schema.org/name", "https://example.com/grade", "en", None]),
                st.text(max_size=8),
            )
        )
        contexts = [*document["@context"], {term: definition}]
        return Mutation(kind, replaced(document, ("@context",), contexts), "unknown")
    assert kind == "extra_proof"
    extra = draw(st.lists(st.sampled_from(foreign_proofs), min_size=1, max_size=5))
    position = draw(st.integers(0, len(extra)))
    own = _proofs(document)[0]
    return Mutation(kind, replaced(document, ("proof",), [*extra[:position], own, *extra[position:]]), "unknown")
