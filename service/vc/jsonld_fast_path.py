"""A fast path from JSON-LD to RDF for documents built only from the bundled contexts.

The full path (:func:`service.vc.jsonld.to_quads`) runs pyld's expansion, node map and RDF
conversion; most of its time goes into processing the same contexts again on every call
(pyld caches processed contexts under a key that includes a fresh ``uuid1`` per active context,
so the type- and property-scoped contexts of the VC and OB contexts are rebuilt for every
node). This module walks the compact document once and writes the canonical N-Quads term
strings of :mod:`service.vc.rdfc10` directly, with every active context processed once (by
pyld itself) and kept in a tree: (parent context, local context) -> child context.

It is an optimisation, never a second opinion. It follows pyld's ``_expand`` /
``_expand_object`` / ``_expand_value`` / ``_object_to_rdf`` step for step for the part of
JSON-LD 1.1 that credentials use: node objects, ``@id``/``@type`` and their aliases, ``@set``
and ``@graph`` containers (embedded proofs), ``@id``/``@vocab``/datatype coercion, strings,
booleans and integers, embedded contexts only as URLs of bundled contexts, and type- and
property-scoped contexts with their propagation rules (JSON-LD 1.1 API section 5.1.2
"Expansion Algorithm", steps 7-11, https://www.w3.org/TR/json-ld11-api/#expansion-algorithm).
Anything else (lists, index or language containers, ``@graph`` as a keyword, ``@reverse``,
``@nest``, ``@included``, value objects, languages or directions, floats, inline contexts,
``@json``, a term that would be dropped, a relative or malformed IRI, an empty node, an invalid
string) raises :class:`Unsupported`, and the caller runs the full path, which also produces the
right error. What a node's shape alone decides (its keys, ``@context`` and type values in a
given active context: the contexts that apply, the predicate of each key) is derived once and
kept as a bounded plan; its values are expanded and checked on every call. :func:`stats` counts
how often each happens. Differential tests
(``tests/vc/test_jsonld_fast_path.py``) hold it to byte-identical canonical N-Quads against the
full path.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Mapping
from typing import Any

import pyoxigraph as ox
from pyld import jsonld as pyld

from .rdfc10 import literal_term

Quad = tuple[str, str, str, str]

_RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
_XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"
_XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"
_XSD_DOUBLE = "http://www.w3.org/2001/XMLSchema#double"
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_MAX_CONTEXTS = 1024
"""Active contexts kept per loader. Only bundled contexts and the scoped contexts they define are
ever processed here, but the chains of them a document can build (types within types) are many;
past this bound a new chain is not cached and the document takes the full path."""
_MAX_INTEGER = 10**21
"""JSON-LD 1.1 writes an integer at or above 10^21 as an xsd:double (JSON-LD 1.1 API 8.6
"Object to RDF Conversion", step 10); the fast path leaves those to the full path."""

enabled = True
"""Whether :func:`service.vc.jsonld.canonize` tries the fast path (benchmarks turn it off)."""
check_against_full_path = False
"""When true, every fast-path result is compared with the full path's (the test suite sets it, so
every credential the suite signs or verifies is a differential test)."""

_counts: Counter[str] = Counter()
_counts_lock = threading.Lock()


class Unsupported(Exception):  # a signal to take the full path, not an error
    """The document uses something the fast path does not handle; take the full path."""


def stats() -> dict[str, int]:
    """How many documents took the fast path (``fast``) and why the others did not."""
    with _counts_lock:
        return dict(_counts)


def count(outcome: str) -> None:
    """Count one document's outcome (``fast`` or the reason for the full path)."""
    with _counts_lock:
        _counts[outcome] += 1


class _Context:
    """One active context: pyld's processed form plus the memos the walk needs."""

    __slots__ = (
        "children",
        "expanded_keys",
        "mappings",
        "node_plans",
        "previous",
        "processed",
        "property_plans",
        "scalar_plans",
        "vocab_iris",
    )

    def __init__(self, processed: dict[str, Any], previous: _Context | None) -> None:
        self.processed = processed
        self.mappings: dict[str, Any] = processed["mappings"]
        self.previous = previous
        self.children: dict[tuple[Any, ...], _Context] = {}
        self.expanded_keys: dict[str, str | None] = {}
        self.vocab_iris: dict[str, str | None] = {}
        # what _Walk.values and _Walk.scalar derive from (this context, a key) alone, kept once
        # derived without an Unsupported (bounded like expanded_keys)
        self.property_plans: dict[str, tuple[_Context, bool]] = {}
        self.scalar_plans: dict[str, tuple[Any, bool]] = {}
        # _Walk.node's work that depends only on this context and the shape of the node (see
        # _NodePlan): (active property, keys, @context) -> (type key, {type values: plan})
        self.node_plans: dict[tuple[Any, ...], tuple[str | None, dict[tuple[str, ...], _NodePlan]]] = {}


_MAX_MEMO = 4096
_MAX_MEMO_KEY = 256


def _memo(table: dict[str, Any], key: str, value: Any) -> None:
    """Keep ``value`` for ``key``: the vocabulary is small; input can hold any keys, so a memo
    is bounded in count and in key size."""
    if len(table) < _MAX_MEMO and len(key) <= _MAX_MEMO_KEY:
        table[key] = value


_MISSING: Any = object()

_MAX_NODE_PLANS = 4096
"""Node plans kept in all (a real credential needs a few dozen): past it, nodes are walked
without one. With the bounds below a plan holds a few kilobytes at most, so all of them at most
about 16 MB, whatever documents are sent."""
_MAX_PLAN_KEYS = 64
_MAX_PLAN_TEXT = 1024
"""A node whose keys, or whose type values, add up to more characters is not planned."""
_node_plans_kept = 0


_NodePlan = tuple[_Context, tuple[str, ...], str | None, tuple[tuple[str, str], ...]]
"""What :meth:`_Walk.node` derives from the context, the active property, the node's keys (in
order), its ``@context`` and its type values alone: the context its properties expand in, its
``rdf:type`` object terms, the key that is its ``@id`` and each other key with its predicate
term. Kept only once derived without an :class:`Unsupported`, so a node that matches a plan
passes every check the walk makes on those inputs; its values are walked and checked on every
call."""


def _plan_inputs(element: Mapping[str, Any]) -> tuple[tuple[str, ...], Any] | None:
    """The node's keys and the form of its ``@context`` a plan is keyed by, or None when the
    node is not one to plan (an inline context, too many keys, keys too long)."""
    keys = tuple(element)
    if len(keys) > _MAX_PLAN_KEYS:
        return None
    size = 0
    for key in keys:
        if type(key) is not str:
            return None
        size += len(key)
    if size > _MAX_PLAN_TEXT:
        return None
    local = element.get("@context", _MISSING)
    if local is _MISSING:
        return keys, None
    if type(local) is str:
        return keys, local
    if type(local) is list and all(type(c) is str for c in local):
        return keys, tuple(local)
    return None


def _type_values(element: Mapping[str, Any], type_key: str | None) -> tuple[str, ...] | None:
    """The node's type values as a plan is keyed by, or None when they are not all strings."""
    if type_key is None:
        return ()
    raw = element[type_key]
    types = raw if type(raw) is list else [raw]
    if len(types) > _MAX_PLAN_KEYS or not all(type(t) is str for t in types):
        return None
    if sum(map(len, types)) > _MAX_PLAN_TEXT:
        return None
    return tuple(types)


class ContextTree:
    """The active contexts of one document loader, each processed once by pyld.

    ``options_factory`` returns pyld options (the loader and its context resolver) for the
    rare call that must process a context.
    """

    def __init__(self, options_factory: Any) -> None:
        self._options_factory = options_factory
        self._processor = pyld.JsonLdProcessor()
        self._size = 0
        self._lock = threading.Lock()
        self._known: dict[int, _Context] = {}
        self._pinned: list[Any] = []
        initial = self._processor._get_initial_context(options_factory())
        self.root = self._wrap(initial)

    def _wrap(self, processed: dict[str, Any]) -> _Context:
        known = self._known.get(id(processed))
        if known is not None and known.processed is processed:
            return known
        previous_processed = processed.get("previousContext")
        previous = None if previous_processed is None else self._wrap(previous_processed)
        wrapped = _Context(processed, previous)
        self._known[id(processed)] = wrapped
        self._size += 1
        return wrapped

    def child(self, parent: _Context, local: Any, *, propagate: bool = True, override: bool = False) -> _Context:
        """``parent`` with ``local`` applied (pyld's ``_process_context``), from the tree."""
        # a scoped context is the same dict of a processed term definition every time: its id is
        # its key (the dict is pinned, so the id is never reused)
        key = (id(local) if isinstance(local, dict) else _context_key(local), propagate, override)
        found = parent.children.get(key)
        if found is not None:
            return found
        with self._lock:
            found = parent.children.get(key)
            if found is not None:
                return found
            if self._size >= _MAX_CONTEXTS:
                raise Unsupported("context_cache_full")
            try:
                processed = self._processor._process_context(
                    parent.processed, local, self._options_factory(), override_protected=override, propagate=propagate
                )
            except Exception:  # the full path reports the error properly
                raise Unsupported("context_error") from None
            child = self._wrap(processed)
            if isinstance(local, dict):
                self._pinned.append(local)
            parent.children[key] = child
            return child

    def expand_key(self, ctx: _Context, key: str) -> str | None:
        """A key (or a ``@type`` value) expanded as a vocabulary IRI (pyld ``_expand_iri``, vocab)."""
        try:
            return ctx.expanded_keys[key]
        except KeyError:
            pass
        expanded = self._processor._expand_iri(ctx.processed, key, vocab=True, base=None)
        _memo(ctx.expanded_keys, key, expanded)
        return expanded  # type: ignore[no-any-return]

    def expand_id(self, ctx: _Context, value: str) -> str | None:
        """An ``@id`` value expanded document-relative with no base (pyld ``_expand_iri``)."""
        if value.startswith("_:"):
            return value
        colon = value.find(":")
        if colon > 0 and not value.startswith("@"):
            # pyld's _expand_iri with base=None and vocab=False returns such a value unchanged
            # unless its prefix is a prefix term: not when the suffix starts with "//" (an
            # absolute IRI), nor when no term is named like the prefix
            if value.startswith("//", colon + 1) or ctx.mappings.get(value[:colon]) is None:
                return value
        return self._processor._expand_iri(ctx.processed, value, base=None)  # type: ignore[no-any-return]


def _context_key(local: Any) -> Any:
    if isinstance(local, str):
        return local
    if isinstance(local, list) and all(isinstance(item, str) for item in local):
        return tuple(local)
    return json.dumps(local, sort_keys=True, separators=(",", ":"))


_known_iris: dict[str, str] = {}
_MAX_KNOWN_IRIS = 8192


def _iri_term(iri: Any) -> str:
    """``<iri>`` for an absolute IRI that pyoxigraph (as the full path) accepts."""
    term = _known_iris.get(iri) if isinstance(iri, str) else None
    if term is not None:
        return term
    if not isinstance(iri, str) or not _ABSOLUTE_IRI.match(iri):
        raise Unsupported("relative_iri")
    try:
        term = str(ox.NamedNode(iri))
    except ValueError:
        raise Unsupported("invalid_iri") from None
    if len(_known_iris) < _MAX_KNOWN_IRIS and len(iri) <= 256:  # vocabulary IRIs, mostly: bounded
        _known_iris[iri] = term
    return term


def _subject_term(iri: Any, blank_nodes: dict[str, str]) -> str:
    if isinstance(iri, str) and iri.startswith("_:"):
        label = blank_nodes.get(iri)
        if label is None:
            label = blank_nodes[iri] = f"_:d{len(blank_nodes)}"
        return label
    return _iri_term(iri)


def _text(value: str) -> str:
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: the full path refuses it
            raise Unsupported("invalid_string") from None
    return value


class _Walk:
    """One document's walk: the quads, and blank node labels."""

    def __init__(self, tree: ContextTree) -> None:
        self.tree = tree
        self.quads: set[Quad] = set()
        self.graph = ""  # the graph the node being walked is in ("" = the default graph)
        self.blank_nodes: dict[str, str] = {}
        self.generated = 0

    def new_blank(self) -> str:
        self.generated += 1
        return f"_:g{self.generated}"

    def node(self, ctx: _Context, active_property: str | None, element: Mapping[str, Any]) -> str:
        """Expand the node object ``element`` (value of ``active_property`` in ``ctx``), add its
        quads, and return its subject term. Mirrors pyld ``_expand`` for a map."""
        if not element:
            raise Unsupported("empty_node")
        inputs = _plan_inputs(element)
        plan = None
        if inputs is not None:
            shape = ctx.node_plans.get((active_property, *inputs))
            if shape is not None:
                types = _type_values(element, shape[0])
                plan = None if types is None else shape[1].get(types)
        if plan is None:
            return self._node_unplanned(ctx, active_property, element, inputs)
        node_ctx, type_terms, id_key, properties = plan
        if id_key is None:
            subject = self.new_blank()
        else:
            value = element[id_key]
            if not isinstance(value, str):
                raise Unsupported("id")
            subject = _subject_term(self.tree.expand_id(node_ctx, value), self.blank_nodes)
        quads, graph = self.quads, self.graph
        for term in type_terms:
            quads.add((subject, _RDF_TYPE, term, graph))
        for key, predicate in properties:
            for object_ in self.values(node_ctx, key, element[key]):
                quads.add((subject, predicate, object_, graph))
        return subject

    def _node_unplanned(
        self,
        ctx: _Context,
        active_property: str | None,
        element: Mapping[str, Any],
        inputs: tuple[tuple[str, ...], Any] | None,
    ) -> str:
        """:meth:`node` step by step; keeps the plan of a node it could make one for."""
        tree = self.tree
        outer_ctx = ctx
        # the property-scoped context is looked up before any reverting (spec step 3)
        property_scoped = None
        if active_property is not None:
            mapping = ctx.mappings.get(active_property)
            if mapping is not None:
                property_scoped = mapping.get("@context")
        # a type-scoped context does not propagate into a new node object (spec step 7); a
        # node of a lone @id keeps it, as pyld decides with its sorted keys
        type_scoped = ctx if ctx.previous is not None else None
        must_revert = True
        if type_scoped is not None and len(element) <= 2 and "@context" not in element:
            for key in sorted(element):
                expanded = tree.expand_key(type_scoped, key)
                if expanded == "@value":
                    raise Unsupported("value_object")
                if expanded == "@id" and len(element) == 1:
                    must_revert = False
                    break
        if must_revert and ctx.previous is not None:
            ctx = ctx.previous
        if property_scoped is not None:
            ctx = tree.child(ctx, property_scoped, override=True)
        if "@context" in element:
            local = element["@context"]
            if not (isinstance(local, str) or (isinstance(local, list) and all(isinstance(c, str) for c in local))):
                raise Unsupported("inline_context")
            ctx = tree.child(ctx, local)
        # type-scoped contexts, looked up in the context before any of them applies (step 11);
        # pyld finds the type key with the context as it grows, in sorted key order
        type_scoped_ctx = ctx
        type_key: str | None = None
        types: list[str] = []
        for key in sorted(element):
            expanded = ctx.expanded_keys.get(key, _MISSING)  # ctx as it grows: not hoisted
            if expanded is _MISSING:
                expanded = tree.expand_key(ctx, key)
            if expanded != "@type":
                continue
            if type_key is not None:
                raise Unsupported("several_type_keys")
            type_key, raw = key, element[key]
            types = raw if isinstance(raw, list) else [raw]
            if not all(isinstance(t, str) for t in types):
                raise Unsupported("type_not_string")
            for type_ in sorted(types):
                mapping = type_scoped_ctx.mappings.get(type_)
                scoped = None if mapping is None else mapping.get("@context")
                if scoped is not None and scoped is not False:
                    ctx = tree.child(ctx, scoped, propagate=False)
        subject: str | None = None
        properties: list[tuple[str, str, Any]] = []
        expanded_keys = ctx.expanded_keys
        for key, value in element.items():
            if key == "@context":
                continue
            expanded = expanded_keys.get(key, _MISSING)
            if expanded is _MISSING:
                expanded = tree.expand_key(ctx, key)
            if expanded == "@id":
                if subject is not None or not isinstance(value, str):
                    raise Unsupported("id")
                subject = _subject_term(tree.expand_id(ctx, value), self.blank_nodes)
            elif expanded == "@type":
                if key != type_key:  # a type key only the type-scoped contexts made one
                    raise Unsupported("several_type_keys")
                continue
            elif expanded is None or expanded[:1] == "@" or expanded[:2] == "_:":  # startswith, cheaper
                raise Unsupported("keyword_or_dropped_term")
            else:
                properties.append((key, expanded, value))
        if type_key is not None and tree.expand_key(ctx, type_key) != "@type":
            raise Unsupported("type_key_redefined")
        if subject is None:
            subject = self.new_blank()
        quads, graph = self.quads, self.graph
        type_terms = []
        for type_ in types:
            iri = tree.expand_key(type_scoped_ctx, type_)
            type_terms.append(_iri_term(iri))
            quads.add((subject, _RDF_TYPE, type_terms[-1], graph))
        predicates = [(key, _iri_term(expanded)) for key, expanded, _ in properties]
        if inputs is not None:
            self._keep_plan(outer_ctx, active_property, inputs, element, type_key, ctx, type_terms, predicates)
        for (key, predicate), (_, _, value) in zip(predicates, properties, strict=True):
            for object_ in self.values(ctx, key, value):
                quads.add((subject, predicate, object_, graph))
        return subject

    def _keep_plan(
        self,
        outer_ctx: _Context,
        active_property: str | None,
        inputs: tuple[tuple[str, ...], Any],
        element: Mapping[str, Any],
        type_key: str | None,
        node_ctx: _Context,
        type_terms: list[str],
        predicates: list[tuple[str, str]],
    ) -> None:
        global _node_plans_kept
        types = _type_values(element, type_key)
        if types is None or _node_plans_kept >= _MAX_NODE_PLANS:
            return
        id_keys = [key for key in element if key != "@context" and node_ctx.expanded_keys.get(key) == "@id"]
        if len(id_keys) > 1 or any(node_ctx.expanded_keys.get(key) is None for key in element if key != "@context"):
            return  # the walk checked these; a key it did not memoise is not planned
        shape = outer_ctx.node_plans.setdefault((active_property, *inputs), (type_key, {}))
        if shape[0] != type_key:
            return
        shape[1][types] = (node_ctx, tuple(type_terms), id_keys[0] if id_keys else None, tuple(predicates))
        _node_plans_kept += 1

    def values(self, ctx: _Context, key: str, value: Any) -> list[str]:
        """The object terms of ``key``'s ``value`` in ``ctx`` (pyld ``_expand_object`` for an
        ordinary property, then ``_expand`` / ``_expand_value`` for each item)."""
        plan = ctx.property_plans.get(key)
        if plan is None:
            plan = self._property_plan(ctx, key)
        term_ctx, graph_container = plan
        items = value if isinstance(value, list) else [value]
        objects = []
        for item in items:
            if item is None:
                continue
            if graph_container:
                if not isinstance(item, dict):
                    raise Unsupported("graph_container_value")
                graph = self.new_blank()
                outer, self.graph = self.graph, graph
                try:
                    self.node(term_ctx, key, item)
                finally:
                    self.graph = outer
                objects.append(graph)
            elif isinstance(item, dict):
                objects.append(self.node(term_ctx, key, item))
            elif isinstance(item, list):
                raise Unsupported("nested_array")
            else:
                objects.append(self.scalar(term_ctx, key, item))
        return objects

    def _property_plan(self, ctx: _Context, key: str) -> tuple[_Context, bool]:
        """The context ``key``'s values expand in (its property-scoped context applied) and
        whether it is a graph container; :class:`Unsupported` for what the walk leaves to pyld."""
        mapping = ctx.mappings.get(key)
        term_ctx = ctx
        type_mapping = None
        graph_container = False
        if mapping is not None:
            container = set(mapping.get("@container") or ())
            # a graph container (VCDM's ``proof``): each node object is a named graph of its own,
            # and the property points at the graph's blank node name (JSON-LD 1.1 API 13.4.x
            # "graph containers"; the node map then writes the graph's quads under that name)
            graph_container = container in ({"@graph"}, {"@graph", "@set"})
            if container and container != {"@set"} and not graph_container:
                raise Unsupported("container")
            if mapping.get("reverse"):
                raise Unsupported("reverse")
            type_mapping = mapping.get("@type")
            if type_mapping == "@json":
                raise Unsupported("json_literal")
            scoped = mapping.get("@context")
            if scoped is not None:
                term_ctx = self.tree.child(ctx, scoped, override=True)
                term_mapping = term_ctx.mappings.get(key)
                if term_mapping is not None and term_mapping.get("reverse"):
                    raise Unsupported("reverse")
        plan = (term_ctx, graph_container)
        _memo(ctx.property_plans, key, plan)
        return plan

    def scalar(self, ctx: _Context, key: str, value: Any) -> str:
        """pyld ``_expand_value`` then ``_object_to_rdf`` for a string, boolean or integer."""
        plan = ctx.scalar_plans.get(key)
        if plan is None:
            plan = self._scalar_plan(ctx, key)
        type_mapping, language_or_direction = plan
        if isinstance(value, str):
            if type_mapping == "@id":
                return _subject_term(self.tree.expand_id(ctx, value), self.blank_nodes)
            if type_mapping == "@vocab":
                return _subject_term(self.tree.expand_key(ctx, value), self.blank_nodes)
            if type_mapping is None or type_mapping == "@none":
                if language_or_direction:
                    raise Unsupported("language")
                return literal_term(_text(value), _XSD_STRING)
            if type_mapping == _XSD_DOUBLE:
                raise Unsupported("double")
            _iri_term(type_mapping)
            return literal_term(_text(value), type_mapping)
        datatype = None if type_mapping in (None, "@id", "@vocab", "@none") else type_mapping
        if datatype == _XSD_DOUBLE:
            raise Unsupported("double")
        if datatype is not None:
            _iri_term(datatype)
        if isinstance(value, bool):
            return literal_term("true" if value else "false", datatype or _XSD_BOOLEAN)
        if isinstance(value, int) and -_MAX_INTEGER < value < _MAX_INTEGER:
            return literal_term(str(value), datatype or _XSD_INTEGER)
        raise Unsupported("number")

    def _scalar_plan(self, ctx: _Context, key: str) -> tuple[Any, bool]:
        """``key``'s type mapping in ``ctx`` and whether its strings would carry a language or
        direction; :class:`Unsupported` when the key expands to a keyword or nothing."""
        expanded = self.tree.expand_key(ctx, key)
        if expanded is None or expanded.startswith("@"):
            raise Unsupported("keyword_or_dropped_term")
        mapping = ctx.mappings.get(key)
        type_mapping = None if mapping is None else mapping.get("@type")
        plan = (type_mapping, _language_or_direction(ctx, mapping))
        _memo(ctx.scalar_plans, key, plan)
        return plan


def _language_or_direction(ctx: _Context, mapping: Mapping[str, Any] | None) -> bool:
    """True when pyld would tag the string with a language or direction (its
    ``get_context_value``: the term's own, else the context's default)."""
    for keyword in ("@language", "@direction"):
        if mapping is not None and keyword in mapping:
            if mapping[keyword] is not None:
                return True
        elif ctx.processed.get(keyword) is not None:
            return True
    return False


def to_quad_terms(document: Mapping[str, Any], tree: ContextTree) -> list[Quad]:
    """The RDF dataset of ``document`` as canonical N-Quads term 4-tuples (see
    :mod:`service.vc.rdfc10`), or :class:`Unsupported`."""
    if not isinstance(document, Mapping):
        raise Unsupported("not_a_map")
    walk = _Walk(tree)
    walk.node(tree.root, None, document)
    return list(walk.quads)
