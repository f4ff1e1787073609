"""Data flows one way: routes -> service -> (models, vc). Services and models never import FastAPI."""

import ast
from pathlib import Path

SERVICE = Path(__file__).resolve().parents[1] / "service"
HTTP_LIBRARIES = ("fastapi", "starlette")


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def test_domain_services_and_models_do_not_import_the_web_framework():
    checked = 0
    for path in SERVICE.glob("*/*.py"):
        if path.parent.name == "vc" or path.name not in (
            "service.py",
            "models.py",
            "keys.py",
            "resolver.py",
            "formats.py",
        ):
            continue
        checked += 1
        for module in imported_modules(path):
            assert module.split(".")[0] not in HTTP_LIBRARIES, f"{path.relative_to(SERVICE)} imports {module}"
            assert not module.endswith(".routes"), f"{path.relative_to(SERVICE)} imports routes ({module})"
    assert checked >= 8


def test_services_import_no_fastapi_even_indirectly():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import service.issuers.service, service.achievements.service, service.credentials.service\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('fastapi', 'starlette')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_assessment_engine_imports_no_web_or_database_library():
    """service/assessment/engine is pure like service/vc (httpx is allowed: the LLM judge's own client)."""
    import subprocess
    import sys

    forbidden = ("fastapi", "starlette", "sqlmodel", "sqlalchemy", "alembic", "uvicorn")
    code = (
        "import sys, pkgutil, importlib, service.assessment.engine as pkg\n"
        "for m in pkgutil.walk_packages(pkg.__path__, 'service.assessment.engine.'): importlib.import_module(m.name)\n"
        f"print(sorted(n for n in sys.modules if n.split('.')[0] in {forbidden!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
