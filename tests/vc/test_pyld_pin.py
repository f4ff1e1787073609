"""pyld is pinned to the releases service/vc/jsonld.py was tested with, because it calls pyld internals.

``to_quads`` runs ``JsonLdProcessor._create_node_map`` and ``_graph_to_rdf`` on a form it has
already expanded (the public ``to_rdf`` would expand it again), hands pyld a ``ContextResolver`` of
its own, and replaces ``pyld.context_resolver.canonicalize``. These tests fail when the installed
pyld falls outside the range pyproject.toml allows, or when a release in that range no longer has
those names with the parameters jsonld.py passes.
"""

from __future__ import annotations

import inspect
import tomllib
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.version import Version
from pyld import context_resolver
from pyld import jsonld as pyld
from pyld.context_resolver import ContextResolver
from pyld.identifier_issuer import IdentifierIssuer

from service.vc import jsonld

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def pyld_requirement() -> Requirement:
    dependencies = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["dependencies"]
    [requirement] = [r for r in map(Requirement, dependencies) if r.name.lower() == "pyld"]
    return requirement


def parameter_names(function: Callable[..., Any]) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_pyproject_allows_only_a_bounded_range_of_pyld():
    operators = {spec.operator for spec in pyld_requirement().specifier}
    assert operators & {"<", "<=", "==", "~="}, "a new pyld release may change the internals jsonld.py calls"
    assert operators & {">=", ">", "==", "~="}


def test_the_installed_pyld_is_inside_the_pin():
    installed = Version(version("pyld"))
    specifier = pyld_requirement().specifier
    assert specifier.contains(installed), f"pyld {installed} is installed; pyproject.toml allows {specifier}"


def test_the_private_rdf_steps_have_the_parameters_jsonld_passes():
    processor = pyld.JsonLdProcessor
    assert parameter_names(processor._create_node_map) == [
        "self",
        "input_",
        "graph_map",
        "active_graph",
        "issuer",
        "active_subject",
        "active_property",
        "list_",
    ]
    assert parameter_names(processor._graph_to_rdf) == ["self", "graph", "issuer", "options"]
    # From 3.2 on, _graph_to_rdf hands the whole options map (rdfDirection, processingMode) down.
    assert parameter_names(processor._object_to_rdf) == ["self", "item", "issuer", "triples", "options"]
    assert parameter_names(IdentifierIssuer) == ["prefix"]


def test_the_hooks_jsonld_plugs_into_exist():
    assert "on_property_dropped" in parameter_names(pyld.JsonLdProcessor)  # safe mode: dropped terms
    assert parameter_names(ContextResolver)[:2] == ["shared_cache", "document_loader"]
    # jsonld.py swaps the cache-key function; ContextResolver must still look it up as a module global.
    assert context_resolver.canonicalize is jsonld._context_cache_key
    assert "canonicalize" in ContextResolver.resolve.__code__.co_names


def test_large_integers_become_xsd_double_as_json_ld_1_1_says():
    # JSON-LD 1.1 API, Object to RDF Conversion: a number >= 10^21 is an xsd:double. pyld 3.0 and
    # 3.1 wrote xsd:integer here, which is why the pin starts at 3.2.
    document = {"@context": {"n": "https://example.com/n"}, "@id": "https://example.com/s", "n": 10**21}
    [quad] = jsonld.to_quads(document)
    assert str(quad.object) == '"1.0E21"^^<http://www.w3.org/2001/XMLSchema#double>'
