"""Offline JSON-LD: bundled contexts, safe-mode expansion to RDF, and RDFC-1.0 canonical N-Quads.

Nothing here ever touches the network. The document loader serves only the contexts bundled
under ``contexts/`` (see ``contexts/urlmap.json`` and ``contexts/SOURCES.md``) and refuses every
other URL with :class:`~service.vc.errors.DocumentLoaderError`. pyld's global default loader is
replaced on import as well, so no code path in the process can fetch a context.

Expansion runs in *safe mode* like the JavaScript data-integrity libraries (jsonld.js ``safe: true``,
https://github.com/digitalbazaar/jsonld.js#safe-mode): a term the contexts do not define, or an
IRI that is relative, is an error rather than something silently left out of the signature. VC
Data Integrity 1.0 requires exactly that ("Securing Data Losslessly",
https://www.w3.org/TR/vc-data-integrity/#securing-data-losslessly). pyld has no safe mode: it drops
undefined terms silently and resolves relative IRIs against a made-up base, so dropped properties
are caught with its ``on_property_dropped`` hook, expansion runs with ``base=None``, and a walk over
the expanded form refuses every relative IRI (a relative ``@type`` value never reaches the hook).
The RDF is canonicalized with :mod:`service.vc.rdfc10`.

Processed contexts are cached per loader: pyld's ``ContextResolver`` reuses a processed remote
context across calls only when the loader tagged the document ``static``
(``pyld/context_resolver.py``), so a verification does not re-process the VC and OB contexts.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from cachetools import LRUCache
from pyld import context_resolver as pyld_context_resolver
from pyld import jsonld as pyld
from pyld.context_resolver import ContextResolver
from pyld.identifier_issuer import IdentifierIssuer

from . import jsonld_fast_path as fast_path
from .errors import DocumentLoaderError, JsonLdSafeModeError, VCError
from .jsonld_fast_path import ContextTree
from .rdfc10 import canonicalize_components, canonicalize_quads

CONTEXTS_DIR = Path(__file__).parent / "contexts"

_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


@dataclass(frozen=True)
class BundledContext:
    """One bundled context file: the URL it answers for and its parsed JSON."""

    url: str
    file: str
    document: Mapping[str, Any]


@cache
def _urlmap() -> dict[str, Any]:
    contexts: dict[str, Any] = json.loads((CONTEXTS_DIR / "urlmap.json").read_text(encoding="utf-8"))["contexts"]
    return contexts


@cache
def _read_context(file: str) -> dict[str, Any]:
    context: dict[str, Any] = json.loads((CONTEXTS_DIR / file).read_text(encoding="utf-8"))
    return context


def bundled_context_urls() -> tuple[str, ...]:
    """Every context URL the offline loader answers for, sorted."""
    return tuple(sorted(_urlmap()))


def context_variants(url: str) -> tuple[BundledContext, ...]:
    """The bundled copies of ``url``: the published file first, then later edits of it.

    1EdTech edited ``context-3.0.3.json`` in place, without a new version, adding ``jti`` and
    ``endorsementJwt`` (https://github.com/1EdTech/openbadges-specification/issues/639); a
    credential signed under either variant must verify, so the verifier may retry with the
    alternates.
    """
    entry = _urlmap().get(url)
    if entry is None:
        return ()
    files = [entry["file"], *(alt["file"] for alt in entry.get("alternates", ()))]
    return tuple(BundledContext(url, f, _read_context(f)) for f in files)


@dataclass
class DocumentLoader:
    """A pyld document loader over the bundled contexts, plus optional extra documents.

    ``overrides`` picks an alternate file for a URL (see :func:`context_variants`); ``extra``
    adds documents by URL (tests, or a caller with its own vetted contexts). Every other URL
    raises :class:`DocumentLoaderError`. Each loader owns its processed-context cache, so two
    loaders that serve different bytes for the same URL never share processed results.

    The cache is per thread: pyld's caches (``cachetools.LRUCache``, here and inside each of its
    ``ResolvedContext`` entries) are not thread-safe, and even a read reorders them, so two
    threads signing at once could break one another's lookup ("OrderedDict mutated during
    iteration"). A thread warms its own copy on its first use.
    """

    overrides: Mapping[str, str] = field(default_factory=dict)
    extra: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    _local: threading.local = field(default_factory=threading.local, repr=False)
    _tree: ContextTree | None = field(default=None, repr=False)
    _tree_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def _cache(self) -> LRUCache[str, Any]:
        cache: LRUCache[str, Any] | None = getattr(self._local, "cache", None)
        if cache is None:
            cache = self._local.cache = LRUCache(maxsize=256)
        return cache

    def document(self, url: str) -> Mapping[str, Any]:
        """The JSON of the document at ``url``, or :class:`DocumentLoaderError`."""
        if url in self.extra:
            return self.extra[url]
        entry = _urlmap().get(url)
        if entry is None:
            raise DocumentLoaderError(
                f"JSON-LD document {url!r} is not bundled with SkillCred and will not be fetched from the network"
            )
        return _read_context(self.overrides.get(url, entry["file"]))

    def __call__(self, url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        # pyld mutates what it is given in places; hand it a copy of the cached JSON.
        return {
            "contextUrl": None,
            "documentUrl": url,
            "document": copy.deepcopy(self.document(url)),
            "tag": "static",
        }

    def context_resolver(self) -> ContextResolver:
        """A pyld context resolver sharing this loader's processed-context cache."""
        return ContextResolver(self._cache, self)

    def pyld_options(self) -> dict[str, Any]:
        """The options every pyld call of this module runs with (safe mode's ``base=None``)."""
        return {
            "documentLoader": self,
            "contextResolver": self.context_resolver(),
            "base": None,
            "processingMode": "json-ld-1.1",
        }

    def context_tree(self) -> ContextTree:
        """The fast path's processed contexts for this loader (built on first use)."""
        if self._tree is None:
            with self._tree_lock:
                if self._tree is None:
                    self._tree = ContextTree(self.pyld_options)
        return self._tree


def _refuse_network(url: str, options: Any = None) -> dict[str, Any]:
    raise pyld.JsonLdError(
        f"Refusing to load {url!r}: SkillCred never fetches JSON-LD documents",
        "jsonld.LoadDocumentError",
        code="loading document failed",
    )


# No code path in this process may fetch a context, even one that forgets to pass a loader.
pyld.set_document_loader(_refuse_network)


def _context_cache_key(context: Any) -> bytes:
    """pyld keys its cache of embedded (type-scoped) contexts by their JCS canonical JSON, computed
    in pure Python each time one applies: 16% of signing time. Any deterministic serialisation is
    an equally good key, and ``json.dumps(sort_keys=True)`` runs in C."""
    return json.dumps(context, sort_keys=True, separators=(",", ":"), default=dict).encode()


pyld_context_resolver.canonicalize = _context_cache_key

DEFAULT_LOADER = DocumentLoader()


def loaders_for(document: Mapping[str, Any]) -> Iterator[DocumentLoader]:
    """The default loader, then one per alternate variant of a context the document uses.

    Each variant is offered once however often its URL is repeated in ``@context``, and the
    loaders are shared process-wide, so their processed contexts are cached across calls.
    """
    yield DEFAULT_LOADER
    contexts = document.get("@context", [])
    seen: set[str] = set()
    for url in contexts if isinstance(contexts, list) else [contexts]:
        if isinstance(url, str) and url not in seen:
            seen.add(url)
            for variant in context_variants(url)[1:]:
                yield _variant_loader(url, variant.file)


@cache
def _variant_loader(url: str, file: str) -> DocumentLoader:
    """The loader that reads ``url`` from its alternate bundled ``file`` (one per pair)."""
    return DocumentLoader(overrides={url: file})


def _unwrap_jsonld_error(err: pyld.JsonLdError) -> VCError:
    cause: BaseException | None = err
    while cause is not None:
        if isinstance(cause, VCError):
            return cause
        cause = cause.__cause__ or getattr(cause, "cause", None) or cause.__context__
    return JsonLdSafeModeError(f"JSON-LD processing failed: {err}", code="jsonld_invalid")


def expand(document: Mapping[str, Any], loader: DocumentLoader | None = None) -> list[Any]:
    """Expand ``document`` in safe mode: undefined terms and relative IRIs raise errors."""
    loader = loader or DEFAULT_LOADER
    dropped: list[str] = []
    processor = pyld.JsonLdProcessor(on_property_dropped=dropped.append)
    options = loader.pyld_options()
    try:
        expanded: list[Any] = processor.expand(copy.deepcopy(dict(document)), options)
    except pyld.JsonLdError as err:
        raise _unwrap_jsonld_error(err) from err
    except OverflowError as err:  # pyld compares numbers as doubles: an integer beyond their range
        raise JsonLdSafeModeError("A number is beyond the range of a double", code="jsonld_invalid") from err
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as err:
        # pyld fails this way on some malformed input instead of raising its JsonLdError: a
        # relative context URL with no base (ValueError from its IRI resolver), an inline context
        # of {"@vocab": null} or {"@language": null} (KeyError). Refusing is the safe answer.
        raise JsonLdSafeModeError(f"JSON-LD processing failed: {type(err).__name__}", code="jsonld_invalid") from err
    if dropped:
        raise JsonLdSafeModeError(
            "Terms not defined by the document's @context would not be signed: "
            + ", ".join(sorted(set(map(str, dropped)))),
            code="jsonld_undefined_term",
        )
    _refuse_relative_iris(expanded)
    return expanded


def _is_absolute_or_blank(iri: Any) -> bool:
    return isinstance(iri, str) and (iri.startswith("_:") or bool(_ABSOLUTE_IRI.match(iri)))


def _refuse_relative_iris(node: Any, path: str = "$") -> None:
    """Walk an expanded document; every @id, @type and property IRI must be absolute."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            _refuse_relative_iris(item, f"{path}[{i}]")
        return
    if not isinstance(node, dict):
        return
    is_value = "@value" in node
    for key, value in node.items():
        if key == "@id" and not _is_absolute_or_blank(value):
            raise _relative(path, value)
        elif key == "@type":
            for t in value if isinstance(value, list) else [value]:
                if not (t == "@json" and is_value) and not _is_absolute_or_blank(t):
                    raise _relative(path, t)
        elif key.startswith("@"):
            if not is_value:
                _refuse_relative_iris(value, f"{path}.{key}")
        elif key.startswith("_:"):
            # RDF has no blank-node predicates, so JSON-LD's toRdf drops such a property: it would
            # verify without being signed (the JSON-LD 1.1 API's "Deserialize JSON-LD to RDF"
            # algorithm skips them, https://www.w3.org/TR/json-ld11-api/#deserialize-json-ld-to-rdf-algorithm;
            # jsonld.js safe mode refuses them as well)
            raise JsonLdSafeModeError(
                f"Blank node property {key!r} at {path}: RDF has no blank node predicates, so it would not be signed",
                code="jsonld_blank_node_property",
            )
        elif not _is_absolute_or_blank(key):
            raise _relative(path, key)
        else:
            _refuse_relative_iris(value, f"{path}.{key}")


def _relative(path: str, iri: Any) -> JsonLdSafeModeError:
    return JsonLdSafeModeError(
        f"Relative IRI {iri!r} at {path}: it has no meaning without a base and is not signed",
        code="jsonld_relative_iri",
    )


def to_quads(document: Mapping[str, Any], loader: DocumentLoader | None = None) -> list[ox.Quad]:
    """The RDF dataset of ``document`` (safe mode) as pyoxigraph quads."""
    expanded = expand(document, loader)
    # pyld's public to_rdf() expands its input again (it takes no expanded form), which costs about
    # 0.5 ms more per canonicalization; these are its remaining steps, run on the expanded form we
    # already checked. _create_node_map and _graph_to_rdf are private, so pyproject.toml pins pyld
    # to the releases they were read and tested in: 3.2 and 3.3 have the same code for both; 3.0
    # and 3.1 write integers >= 10^21 as xsd:integer where JSON-LD 1.1 wants xsd:double; 2.x has no
    # on_property_dropped hook for safe mode. tests/vc/test_pyld_pin.py fails outside that range.
    processor = pyld.JsonLdProcessor()
    options = {
        # Keep @direction as an i18n datatype, as jsonld.js does; without it the direction is lost
        # and signatures differ (JSON-LD 1.1 API, Object to RDF Conversion,
        # https://www.w3.org/TR/json-ld11-api/#object-to-rdf-conversion).
        "rdfDirection": "i18n-datatype",
        "produceGeneralizedRdf": False,
        "processingMode": "json-ld-1.1",
    }
    issuer = IdentifierIssuer("_:b")
    node_map: dict[str, Any] = {"@default": {}}
    try:
        processor._create_node_map(expanded, node_map, "@default", issuer)
        dataset = {name: processor._graph_to_rdf(graph, issuer, options) for name, graph in sorted(node_map.items())}
    except pyld.JsonLdError as err:
        raise _unwrap_jsonld_error(err) from err
    quads: list[ox.Quad] = []
    try:
        for graph_name, triples in dataset.items():
            graph = ox.DefaultGraph() if graph_name == "@default" else _subject(graph_name)
            for t in triples:
                quads.append(
                    ox.Quad(
                        _subject(t["subject"]["value"]),
                        ox.NamedNode(t["predicate"]["value"]),
                        _object(t["object"]),
                        graph,
                    )
                )
    except ValueError as err:  # pyoxigraph refuses malformed IRIs and language tags
        raise JsonLdSafeModeError(f"Invalid RDF term: {err}", code="jsonld_invalid_term") from err
    return quads


def _subject(value: str) -> ox.NamedNode | ox.BlankNode:
    return ox.BlankNode(value[2:]) if value.startswith("_:") else ox.NamedNode(value)


def _object(term: Mapping[str, Any]) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    kind = term["type"]
    if kind == "IRI":
        return ox.NamedNode(term["value"])
    if kind == "blank node":
        return ox.BlankNode(term["value"][2:])
    if term.get("language") and term.get("datatype", _RDF_LANG_STRING) == _RDF_LANG_STRING:
        return ox.Literal(term["value"], language=term["language"])
    return ox.Literal(term["value"], datatype=ox.NamedNode(term["datatype"]))


def canonize(document: Mapping[str, Any], loader: DocumentLoader | None = None, *, utf16_order: bool = False) -> str:
    """The RDFC-1.0 canonical N-Quads (SHA-256) of a JSON-LD document, expanded in safe mode.

    ``utf16_order`` reproduces digitalbazaar's sort order (see :mod:`service.vc.rdfc10`); it is
    for verifying their proofs only.
    """
    loader = loader or DEFAULT_LOADER
    if fast_path.enabled:
        try:
            terms = fast_path.to_quad_terms(document, loader.context_tree())
        except fast_path.Unsupported as why:
            fast_path.count(str(why))
        except RecursionError:
            fast_path.count("too_deep")
        except Exception:
            # a fault in the optimisation must not refuse a document the full path accepts; the
            # test suite (check_against_full_path) lets it through, so it is seen and fixed
            if fast_path.check_against_full_path:
                raise
            fast_path.count("internal_error")
        else:
            fast_path.count("fast")
            nquads = canonicalize_components(terms, utf16_order=utf16_order).nquads
            if fast_path.check_against_full_path:
                _check_against_full_path(document, loader, utf16_order, nquads)
            return nquads
    return canonicalize_quads(to_quads(document, loader), utf16_order=utf16_order).nquads


def _check_against_full_path(document: Mapping[str, Any], loader: DocumentLoader, utf16_order: bool, fast: str) -> None:
    """Fail loudly (an AssertionError, which no verification step turns into a report) when the
    fast path's canonical form is not the full path's, or the full path refuses the document."""
    try:
        full = canonicalize_quads(to_quads(document, loader), utf16_order=utf16_order).nquads
    except VCError as refused:
        raise AssertionError(f"the JSON-LD fast path accepted a document the full path refuses: {refused}") from None
    if full != fast:
        raise AssertionError(f"the JSON-LD fast path differs from the full path:\n{full}\n!=\n{fast}")
