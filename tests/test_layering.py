"""The architecture holds (docs/architecture.md): every module of service/ is read and checked.

- packages depend on each other one way, in the order of ``LAYERS`` (tests/architecture.py), and
  no two packages import each other;
- only service/api/ and ``*/routes.py`` import FastAPI or Starlette;
- service/vc/ imports nothing of the service; the assessment engine nothing but the core;
- no module takes another package's private (underscore) names.

The last tests add a forbidden import to the real import map and show that each check catches it.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.architecture import (
    LAYERS,
    Import,
    framework_violations,
    layer_violations,
    package_cycles,
    private_name_violations,
    pure_package_violations,
    read_tree,
    unknown_nodes,
)


@pytest.fixture(scope="module")
def tree() -> dict[str, list[Import]]:
    imports = read_tree()
    assert len(imports) > 150, "the tree was not read"
    return imports


def test_every_package_has_a_place_in_the_layers(tree):
    assert unknown_nodes(tree) == []


def test_packages_depend_on_each_other_one_way(tree):
    assert layer_violations(tree) == []


def test_no_two_packages_import_each_other(tree):
    assert package_cycles(tree) == []


def test_only_the_http_layer_imports_the_web_framework(tree):
    assert framework_violations(tree) == []


def test_the_credential_core_imports_nothing_of_the_service(tree):
    assert pure_package_violations(tree, "vc", allowed=frozenset()) == []


def test_the_assessment_engine_needs_only_the_core(tree):
    assert pure_package_violations(tree, "assessment.engine", allowed=frozenset({"core"})) == []


def test_no_module_takes_another_packages_private_names(tree):
    assert private_name_violations(tree) == []


def test_domain_services_import_no_fastapi_even_indirectly():
    code = (
        "import sys\n"
        "import service.issuers.service, service.achievements.service, service.credentials.service\n"
        "import service.assessment.service, service.evidence.service, service.endorsements.service\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('fastapi', 'starlette')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_assessment_engine_loads_no_web_or_database_library():
    """Imported for real, every engine module (httpx is allowed: the LLM judge's own client)."""
    forbidden = ("fastapi", "starlette", "sqlmodel", "sqlalchemy", "alembic", "uvicorn")
    code = (
        "import sys, pkgutil, importlib, service.assessment.engine as pkg\n"
        "for m in pkgutil.walk_packages(pkg.__path__, 'service.assessment.engine.'): importlib.import_module(m.name)\n"
        f"print(sorted(n for n in sys.modules if n.split('.')[0] in {forbidden!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_layers_named_in_the_architecture_document_are_the_ones_enforced():
    from tests.architecture import SERVICE

    document = (SERVICE.parent / "docs" / "architecture.md").read_text()
    for layer in LAYERS:
        assert f"`{layer}`" in document, f"docs/architecture.md does not place {layer}"


# --- the checks can fail ---------------------------------------------------------------------------


def _with(tree, module: str, *extra: Import) -> dict[str, list[Import]]:
    changed = {name: list(found) for name, found in tree.items()}
    changed.setdefault(module, []).extend(extra)
    return changed


def _new(check, tree, broken) -> list:
    """What ``check`` finds in ``broken`` and not in the real tree."""
    before = check(tree)
    return [finding for finding in check(broken) if finding not in before]


def test_an_import_of_a_higher_layer_is_caught(tree):
    broken = _with(tree, "service.status.service", Import("service.credentials.models", ("Credential",), 1))

    assert _new(layer_violations, tree, broken) == [
        "service.status.service:1 (status) imports service.credentials.models (credentials)"
    ]
    assert package_cycles(broken) == [["credentials", "status"]]


def test_a_fastapi_import_in_a_service_is_caught(tree):
    broken = _with(tree, "service.credentials.service", Import("fastapi", ("Request",), 7))

    assert _new(framework_violations, tree, broken) == ["service.credentials.service:7 imports fastapi"]


def test_a_cross_domain_private_import_is_caught(tree):
    broken = _with(tree, "service.credentials.service", Import("service.status.allocation", ("_pick",), 3))

    assert _new(private_name_violations, tree, broken) == [
        "service.credentials.service:3 (credentials) takes private ['_pick'] from service.status.allocation"
    ]


def test_a_database_import_in_the_credential_core_is_caught(tree):
    broken = _with(tree, "service.vc.verify", Import("sqlmodel", ("Session",), 5), Import("service.core.db", (), 6))

    assert _new(lambda imports: pure_package_violations(imports, "vc", allowed=frozenset()), tree, broken) == [
        "service.vc.verify:5 imports sqlmodel",
        "service.vc.verify:6 imports service.core.db",
    ]


def test_a_sideways_import_between_two_routers_is_caught(tree):
    broken = _with(tree, "service.status.routes", Import("service.credentials.routes", ("router",), 9))

    assert _new(layer_violations, tree, broken) == [
        "service.status.routes:9 (status.routes) imports service.credentials.routes (credentials.routes)"
    ]
