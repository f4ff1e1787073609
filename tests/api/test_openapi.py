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
