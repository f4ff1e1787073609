"""The credential core stays pure: no web framework, no database, a guarded public surface."""

import ast
import subprocess
import sys
from pathlib import Path

import service.vc

FORBIDDEN = ("fastapi", "starlette", "sqlmodel", "sqlalchemy", "alembic", "uvicorn", "httpx", "requests")


def test_service_vc_imports_no_web_or_database_library():
    # A fresh interpreter, so modules imported by other tests do not hide an import. PyLD 3.3
    # imports requests for its own (remote) document loader, which SkillCred never installs (it
    # loads contexts from the bundled files only): what counts is what service.vc adds.
    code = (
        "import sys, pkgutil, importlib\n"
        "import pyld.jsonld\n"
        "before = set(sys.modules)\n"
        "import service.vc as vc\n"
        "for m in pkgutil.walk_packages(vc.__path__, 'service.vc.'): importlib.import_module(m.name)\n"
        f"print(sorted(n for n in set(sys.modules) - before if n.split('.')[0] in {FORBIDDEN!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_no_module_of_service_vc_imports_a_web_or_database_library_itself():
    root = Path(service.vc.__file__).parent
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            assert not [n for n in names if n.split(".")[0] in FORBIDDEN], (path, names)


def test_public_surface_is_sorted_and_importable():
    assert list(service.vc.__all__) == sorted(service.vc.__all__)
    for name in service.vc.__all__:
        assert getattr(service.vc, name) is not None, name
