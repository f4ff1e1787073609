"""RDF Dataset Canonicalization, RDFC-1.0 (https://www.w3.org/TR/rdf-canon/).

Why our own implementation: pyoxigraph's ``Dataset.canonicalize`` (0.5.13) has no work
limit (it never returns on a poison graph such as the rdf-canon suite's test074), does not
expose the issued identifiers map, and labels equal nodes in blank-node graphs (embedded
proofs, as in OB 3.0 endorsements) differently from digitalbazaar's rdf-canonize; pyld's
URDNA2015 escapes N-Quads the pre-RDFC-1.0 way.

The algorithm follows the specification's steps closely (section numbers in comments).
Quads are held as 4-tuples of canonical N-Quads term strings; a blank node is held as its
label (``"_:e0"``), the default graph as ``""``. Since every other term starts with ``<``
or ``"``, a component is a blank node exactly when it starts with ``_:``.

Term serialisation is pyoxigraph's ``str()``, which produces the canonical N-Quads form of
RDFC-1.0 appendix A (ECHAR for BS, HT, LF, FF, CR, ``"`` and ``\\``; UCHAR with uppercase
HEX for the other U+0000-U+001F and U+007F; everything else unencoded). Note that
pyoxigraph lower-cases language tags when it builds a literal (``"x"@EN`` becomes
``"x"@en``), as pyld and jsonld.js also do when they expand JSON-LD; rdf-canonize keeps
the case of a tag read from N-Quads text, so only such hand-written input can differ.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pyoxigraph

from service.vc.errors import CanonicalizationError

__all__ = [
    "DEFAULT_MAX_DEEP_ITERATIONS",
    "SUPPORTED_HASH_ALGORITHMS",
    "CanonicalDataset",
    "canonicalize_components",
    "canonicalize_nquads",
    "canonicalize_quads",
    "literal_term",
]

SUPPORTED_HASH_ALGORITHMS: dict[str, Callable[[bytes], Any]] = {
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
}

DEFAULT_MAX_DEEP_ITERATIONS = 10_000
"""Default work bound; see :func:`canonicalize_quads` for what it counts and why this value."""

_BLANK = "_:"
_CANONICAL_PREFIX = "c14n"
_TEMPORARY_PREFIX = "b"

Quad = tuple[str, str, str, str]


@dataclass(frozen=True)
class CanonicalDataset:
    """The result of RDFC-1.0.

    ``nquads`` is the serialized canonical form: one canonical N-Quads line per distinct
    quad, each ending in ``"\\n"``, sorted in code point order. ``issued`` is the issued
    identifiers map: input blank node identifier (without ``_:``) -> canonical identifier
    (``"c14n0"``, ...), in the order the identifiers were issued.
    """

    nquads: str
    issued: dict[str, str]


def canonicalize_quads(
    quads: Iterable[pyoxigraph.Quad],
    *,
    hash_algorithm: str = "sha256",
    max_deep_iterations: int | None = None,
    utf16_order: bool = False,
) -> CanonicalDataset:
    """Canonicalize an RDF dataset given as pyoxigraph quads with RDFC-1.0.

    ``utf16_order`` sorts N-Quads by UTF-16 code units instead of code points, as
    digitalbazaar's rdf-canonize does (digitalbazaar/rdf-canonize#52). The two orders differ
    only when strings first differ at a non-BMP character against one in U+E000-U+FFFF. It is
    not RDFC-1.0: use it only to *verify* proofs made by implementations with that quirk.

    Duplicate quads are ignored (a dataset is a set). ``hash_algorithm`` is ``"sha256"``
    (the RDFC-1.0 default) or ``"sha384"``.

    Work bound (RDFC-1.0 security considerations, "Dataset Poisoning"): ``max_deep_iterations`` caps the
    work spent in the Hash N-Degree Quads algorithm, counted as the number of its calls
    (recursive ones included, as digitalbazaar's rdf-canonize counts "deep iterations")
    plus the number of permutations it examines (a single call on a clique of k
    indistinguishable nodes examines k! permutations without recursing). When the count
    exceeds the bound, :class:`CanonicalizationError` is raised. ``None`` means
    :data:`DEFAULT_MAX_DEEP_ITERATIONS` (10,000). Measured on the W3C rdf-canon suite:
    the "poison - evil" tests 044-046 need 3,348 steps (468 calls, about 10 ms), every
    other test at most 54, and the 10-node clique of test074 (a negative test) would
    need millions, so it is refused after about 30 ms. Datasets whose blank nodes all
    have distinct first-degree hashes (the usual Open Badges credential) do no N-degree
    work at all. ``0`` refuses any dataset that needs N-degree hashing. A chain of
    look-alike blank nodes deep enough to exhaust Python's recursion limit is refused too.
    """
    return canonicalize_components(
        [_quad_components(quad) for quad in quads],
        hash_algorithm=hash_algorithm,
        max_deep_iterations=max_deep_iterations,
        utf16_order=utf16_order,
    )


def canonicalize_components(
    quads: Iterable[Quad],
    *,
    hash_algorithm: str = "sha256",
    max_deep_iterations: int | None = None,
    utf16_order: bool = False,
) -> CanonicalDataset:
    """:func:`canonicalize_quads` for quads already given as 4-tuples of canonical N-Quads term
    strings (``"<iri>"``, ``"_:label"``, a literal as :func:`literal_term` writes it; ``""`` for
    the default graph), as :mod:`service.vc.jsonld_fast_path` produces them."""
    hash_function = _hash_function(hash_algorithm)
    limit = DEFAULT_MAX_DEEP_ITERATIONS if max_deep_iterations is None else max_deep_iterations
    if limit < 0:
        raise CanonicalizationError("max_deep_iterations must not be negative")
    unique_quads = list(dict.fromkeys(quads))
    try:
        return _Canonicalizer(unique_quads, hash_function, limit, utf16_order).run()
    except RecursionError:
        # Hash N-Degree Quads recurses once per blank node along a path of look-alike
        # nodes; a long cycle of them can exhaust Python's stack before the work limit.
        raise CanonicalizationError(
            "RDFC-1.0 recursion too deep: the dataset links too many indistinguishable blank nodes in a row"
        ) from None


def canonicalize_nquads(
    text: str,
    *,
    hash_algorithm: str = "sha256",
    max_deep_iterations: int | None = None,
) -> CanonicalDataset:
    """Parse an N-Quads document and canonicalize it (see :func:`canonicalize_quads`).

    Blank node identifiers of the document are the keys of the ``issued`` map.
    A document that is not valid N-Quads raises :class:`CanonicalizationError`.
    """
    try:
        quads = list(pyoxigraph.parse(text, format=pyoxigraph.RdfFormat.N_QUADS))
    except (SyntaxError, ValueError) as error:
        raise CanonicalizationError(f"invalid N-Quads: {error}") from error
    return canonicalize_quads(quads, hash_algorithm=hash_algorithm, max_deep_iterations=max_deep_iterations)


def _hash_function(name: str) -> Callable[[str], str]:
    try:
        constructor = SUPPORTED_HASH_ALGORITHMS[name]
    except (KeyError, TypeError):
        supported = ", ".join(SUPPORTED_HASH_ALGORITHMS)
        raise CanonicalizationError(f"unsupported hash algorithm {name!r} (supported: {supported})") from None

    def hexdigest(data: str) -> str:
        digest: str = constructor(data.encode("utf-8")).hexdigest()
        return digest

    return hexdigest


def _blank_node_label(term: pyoxigraph.BlankNode) -> str:
    return _BLANK + term.value


def _default_graph(_: pyoxigraph.DefaultGraph) -> str:
    return ""


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
# RDFC-1.0 appendix A (canonical N-Quads): ECHAR for these, UCHAR for the other C0 controls
# and U+007F, every other character as itself. pyoxigraph >= 0.5 also escapes U+FFFE/U+FFFF
# (RDF 1.2 N-Triples), which rdf-canonize does not, so literals are written here.
_LITERAL_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}
_LITERAL_ESCAPES |= {chr(c): f"\\u{c:04X}" for c in [*range(0x20), 0x7F] if chr(c) not in _LITERAL_ESCAPES}
_LITERAL_TABLE = str.maketrans(_LITERAL_ESCAPES)


def literal_term(value: str, datatype: str) -> str:
    """The canonical N-Quads form of a literal that has no language tag."""
    text = '"' + value.translate(_LITERAL_TABLE) + '"'
    return text if datatype == _XSD_STRING else f"{text}^^<{datatype}>"


def _literal(term: pyoxigraph.Literal) -> str:
    text = '"' + term.value.translate(_LITERAL_TABLE) + '"'
    if term.language:
        return f"{text}@{term.language}"
    datatype = term.datatype.value
    return text if datatype == _XSD_STRING else f"{text}^^<{datatype}>"


_TERM_SERIALIZERS: dict[type, Callable[[Any], str]] = {
    pyoxigraph.NamedNode: str,
    pyoxigraph.Literal: _literal,
    pyoxigraph.BlankNode: _blank_node_label,
    pyoxigraph.DefaultGraph: _default_graph,
}


def _quad_components(quad: pyoxigraph.Quad) -> Quad:
    """The quad's terms as canonical N-Quads strings (blank nodes keep their input label)."""
    if type(quad) is not pyoxigraph.Quad:
        raise CanonicalizationError(f"expected a pyoxigraph.Quad, got {type(quad).__name__}")
    subject, object_, graph = quad.subject, quad.object, quad.graph_name
    try:
        return (
            _TERM_SERIALIZERS[type(subject)](subject),
            str(quad.predicate),
            _TERM_SERIALIZERS[type(object_)](object_),
            _TERM_SERIALIZERS[type(graph)](graph),
        )
    except KeyError as unsupported:
        raise CanonicalizationError(
            f"RDFC-1.0 cannot canonicalize a {unsupported.args[0].__name__} term (RDF 1.2 triple terms)"
        ) from None


def _nquad(subject: str, predicate: str, object_: str, graph: str) -> str:
    if graph:
        return f"{subject} {predicate} {object_} {graph} .\n"
    return f"{subject} {predicate} {object_} .\n"


class _IdentifierIssuer:
    """Blank node identifier issuer (section 4.3): prefix, counter, ordered issued map."""

    __slots__ = ("issued", "prefix")

    def __init__(self, prefix: str, issued: dict[str, str] | None = None) -> None:
        self.prefix = prefix
        self.issued: dict[str, str] = {} if issued is None else issued

    def issue(self, label: str) -> str:
        """Issue Identifier algorithm (4.5): the existing identifier, or the next one."""
        identifier = self.issued.get(label)
        if identifier is None:
            identifier = f"{self.prefix}{len(self.issued)}"
            self.issued[label] = identifier
        return identifier

    def copy(self) -> _IdentifierIssuer:
        return _IdentifierIssuer(self.prefix, dict(self.issued))


class _Canonicalizer:
    """Canonicalization state (section 4.2) and the algorithms of section 4 that use it."""

    def __init__(
        self, quads: list[Quad], hash_function: Callable[[str], str], limit: int, utf16_order: bool = False
    ) -> None:
        self.quads = quads
        self.sort_key: Callable[[str], Any] | None = _utf16_key if utf16_order else None
        self.hash = hash_function
        self.remaining_work = limit
        self.limit = limit
        self.canonical_issuer = _IdentifierIssuer(_CANONICAL_PREFIX)
        self.first_degree_hashes: dict[str, str] = {}
        # Blank node to quads map (4.4.3 step 2): each quad once per blank node it mentions.
        self.mentions: dict[str, list[Quad]] = {}
        mentions = self.mentions
        # ``term[:2] == _BLANK`` is ``term.startswith(_BLANK)``, at half the cost in CPython 3.11
        for quad in quads:
            subject, _, object_, graph = quad
            if subject[:2] == _BLANK:
                mentions.setdefault(subject, []).append(quad)
            if object_[:2] == _BLANK and object_ != subject:
                mentions.setdefault(object_, []).append(quad)
            if graph[:2] == _BLANK and graph != subject and graph != object_:
                mentions.setdefault(graph, []).append(quad)

    def run(self) -> CanonicalDataset:
        """Canonicalization Algorithm (4.4.3) followed by serialization (section 5)."""
        hash_to_blank_nodes: dict[str, list[str]] = {}
        for label in self.mentions:  # step 3
            first_degree = self._hash_first_degree_quads(label)
            self.first_degree_hashes[label] = first_degree
            hash_to_blank_nodes.setdefault(first_degree, []).append(label)

        shared_hashes = []
        for first_degree in sorted(hash_to_blank_nodes):  # step 4
            labels = hash_to_blank_nodes[first_degree]
            if len(labels) == 1:
                self.canonical_issuer.issue(labels[0])
            else:
                shared_hashes.append(labels)

        for labels in shared_hashes:  # step 5
            self._issue_for_shared_hash(labels)

        return CanonicalDataset(
            nquads=self._serialize(),
            issued={label[len(_BLANK) :]: identifier for label, identifier in self.canonical_issuer.issued.items()},
        )

    def _issue_for_shared_hash(self, labels: list[str]) -> None:
        hash_path_list: list[tuple[str, _IdentifierIssuer]] = []
        for label in labels:  # step 5.2
            if label in self.canonical_issuer.issued:
                continue
            temporary_issuer = _IdentifierIssuer(_TEMPORARY_PREFIX)
            temporary_issuer.issue(label)
            hash_path_list.append(self._hash_n_degree_quads(label, temporary_issuer))
        for _, issuer in sorted(hash_path_list, key=lambda result: result[0]):  # step 5.3
            for existing in issuer.issued:
                self.canonical_issuer.issue(existing)

    def _hash_first_degree_quads(self, label: str) -> str:
        """Hash First Degree Quads (4.6.3): ``_:a`` for the node itself, ``_:z`` for others."""
        nquads = []
        for quad in self.mentions[label]:
            components = [("_:a" if c == label else "_:z") if c[:2] == _BLANK else c for c in quad]
            nquads.append(_nquad(*components))
        nquads.sort(key=self.sort_key)
        return self.hash("".join(nquads))

    def _hash_related_blank_node(self, related: str, predicate: str, issuer: _IdentifierIssuer, position: str) -> str:
        """Hash Related Blank Node (4.7.3)."""
        identifier = self.canonical_issuer.issued.get(related) or issuer.issued.get(related)
        if identifier is not None:
            reference = _BLANK + identifier
        else:
            reference = self.first_degree_hashes[related]
        if position == "g":
            return self.hash(position + reference)
        return self.hash(position + predicate + reference)

    def _spend_work(self) -> None:
        self.remaining_work -= 1
        if self.remaining_work < 0:
            raise CanonicalizationError(
                f"RDFC-1.0 work limit exceeded ({self.limit} Hash N-Degree Quads steps): "
                "the dataset looks like a poison graph (many indistinguishable blank nodes)"
            )

    def _hash_n_degree_quads(self, label: str, issuer: _IdentifierIssuer) -> tuple[str, _IdentifierIssuer]:
        """Hash N-Degree Quads (4.8.3): returns the hash and the (replaced) issuer."""
        self._spend_work()
        hash_to_related: dict[str, list[str]] = {}  # steps 1-3
        for subject, predicate, object_, graph in self.mentions[label]:
            for position, component in (("s", subject), ("o", object_), ("g", graph)):
                if component.startswith(_BLANK) and component != label:
                    related_hash = self._hash_related_blank_node(component, predicate, issuer, position)
                    hash_to_related.setdefault(related_hash, []).append(component)

        data_to_hash = []
        for related_hash in sorted(hash_to_related):  # step 5
            data_to_hash.append(related_hash)
            chosen_path = ""
            chosen_issuer = issuer
            for permutation in _distinct_permutations(hash_to_related[related_hash]):  # 5.4
                self._spend_work()
                path, issuer_copy = self._permutation_path(permutation, issuer, chosen_path)
                if path is not None and (not chosen_path or path < chosen_path):
                    chosen_path, chosen_issuer = path, issuer_copy
            data_to_hash.append(chosen_path)
            issuer = chosen_issuer
        return self.hash("".join(data_to_hash)), issuer

    def _permutation_path(
        self, permutation: tuple[str, ...], issuer: _IdentifierIssuer, chosen_path: str
    ) -> tuple[str | None, _IdentifierIssuer]:
        """Steps 5.4.1-5.4.5 for one permutation; ``None`` when it cannot beat ``chosen_path``."""
        issuer_copy = issuer.copy()
        path = ""
        recursion_list = []
        for related in permutation:  # step 5.4.4
            canonical = self.canonical_issuer.issued.get(related)
            if canonical is not None:
                path += _BLANK + canonical
            else:
                if related not in issuer_copy.issued:
                    recursion_list.append(related)
                path += _BLANK + issuer_copy.issue(related)
            if _cannot_beat(path, chosen_path):
                return None, issuer_copy
        for related in recursion_list:  # step 5.4.5
            related_hash, issuer_copy = self._hash_n_degree_quads(related, issuer_copy)
            path += _BLANK + issuer_copy.issue(related) + "<" + related_hash + ">"
            if _cannot_beat(path, chosen_path):
                return None, issuer_copy
        return path, issuer_copy

    def _serialize(self) -> str:
        """Serialization (section 5): relabel, one line per quad, code point order."""
        issued = self.canonical_issuer.issued
        lines: list[str] = []
        append = lines.append
        for subject, predicate, object_, graph in self.quads:
            if subject[:2] == _BLANK:
                subject = _BLANK + issued[subject]
            if object_[:2] == _BLANK:
                object_ = _BLANK + issued[object_]
            if graph:
                if graph[:2] == _BLANK:
                    graph = _BLANK + issued[graph]
                append(f"{subject} {predicate} {object_} {graph} .\n")
            else:
                append(f"{subject} {predicate} {object_} .\n")
        lines.sort(key=self.sort_key)
        return "".join(lines)


def _utf16_key(line: str) -> bytes:
    return line.encode("utf-16-be", "surrogatepass")


def _distinct_permutations(items: list[str]) -> Iterator[tuple[str, ...]]:
    """Each distinct ordering of ``items`` once, in lexicographic order.

    The related list of step 3 keeps a blank node once per quad that relates it (as
    rdf-canonize does), so a proof node in a blank proof graph lists that graph six times.
    Orderings that differ only by swapping equal entries give the same path and the same
    issuer, so skipping them changes no result, only the work (1 permutation, not 720).
    """
    current = sorted(items)
    while True:
        yield tuple(current)
        pivot = len(current) - 2
        while pivot >= 0 and current[pivot] >= current[pivot + 1]:
            pivot -= 1
        if pivot < 0:
            return
        successor = len(current) - 1
        while current[successor] <= current[pivot]:
            successor -= 1
        current[pivot], current[successor] = current[successor], current[pivot]
        current[pivot + 1 :] = reversed(current[pivot + 1 :])


def _cannot_beat(path: str, chosen_path: str) -> bool:
    """Steps 5.4.4.3 / 5.4.5.5: skip a permutation whose path is already worse."""
    return bool(chosen_path) and len(path) >= len(chosen_path) and path > chosen_path
