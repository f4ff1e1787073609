"""The credential core stays pure: no web framework, no database, a guarded public surface."""

import subprocess
import sys

import service.vc

FORBIDDEN = ("fastapi", "starlette", "sqlmodel", "sqlalchemy", "alembic", "uvicorn", "httpx", "requests")


def test_service_vc_imports_no_web_or_database_library():
    # A fresh interpreter, so modules imported by other tests do not hide an import.
    code = (
        "import sys, pkgutil, importlib, service.vc as vc\n"
        "for m in pkgutil.walk_packages(vc.__path__, 'service.vc.'): importlib.import_module(m.name)\n"
        f"print(sorted(n for n in sys.modules if n.split('.')[0] in {FORBIDDEN!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_surface_is_sorted_and_importable():
    assert list(service.vc.__all__) == sorted(service.vc.__all__)
    for name in service.vc.__all__:
        assert getattr(service.vc, name) is not None, name
