"""openapi.yaml is the committed REST contract: it must equal what the app generates."""

from pathlib import Path

import yaml

from service.cli.commands import openapi_yaml

OPENAPI = Path(__file__).resolve().parents[2] / "openapi.yaml"


def test_openapi_yaml_is_up_to_date():
    generated = openapi_yaml()
    assert OPENAPI.exists(), "run: .venv/bin/skillcred openapi > openapi.yaml"
    assert yaml.safe_load(OPENAPI.read_text()) == yaml.safe_load(generated), (
        "openapi.yaml is stale; run: .venv/bin/skillcred openapi > openapi.yaml"
    )


def test_every_operation_documents_its_errors_and_has_a_summary():
    spec = yaml.safe_load(openapi_yaml())
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary") and operation.get("description"), f"{method} {path} has no docstring"


def _walk(node, path=()):
    """Every (path, key, value) of a JSON document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, key, value
            yield from _walk(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, (*path, index))


def test_every_pattern_compiles_where_clients_and_schemathesis_read_it():
    """A pattern a Rust-based validator cannot compile (a surrogate escape, a Python-only
    construct) is silently dropped by schemathesis and refused by other tools: each one compiles
    with Python's ``re`` and with jsonschema-rs's ECMA-262 engine, and means the same in both."""
    import re

    import jsonschema_rs

    spec = yaml.safe_load(openapi_yaml())
    patterns = {value for _, key, value in _walk(spec["components"]) if key == "pattern" and isinstance(value, str)}
    patterns |= {value for _, key, value in _walk(spec["paths"]) if key == "pattern" and isinstance(value, str)}
    assert len(patterns) > 10
    for pattern in patterns:
        re.compile(pattern)
        validator = jsonschema_rs.validator_for(
            {"type": "string", "pattern": pattern}, pattern_options=jsonschema_rs.FancyRegexOptions()
        )
        for sample in ("", "a", "https://issuer.example/x", "ada@example.org", "did:key:z6Mk", " "):
            assert validator.is_valid(sample) == bool(re.search(pattern, sample)), (pattern[:80], sample)


def test_no_constraint_is_left_in_pydantic_spelling():
    """``ge``/``le`` that pydantic could not turn into ``minimum``/``maximum`` (a constraint put
    after a validator) would reach the document as keywords no JSON Schema tool reads."""
    spec = yaml.safe_load(openapi_yaml())
    stray = [
        (path, key)
        for path, key, _ in _walk(spec["components"])
        if key in ("ge", "gt", "le", "lt", "min_length", "max_length") and (path[-1] if path else None) != "properties"
    ]
    assert stray == []
