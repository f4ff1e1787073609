"""The import rules of docs/architecture.md as code: read every module's imports, then check them.

The checks work on an :data:`ImportMap` (module name -> the imports it makes), so the tests in
``tests/test_layering.py`` run them over the real tree and, to show that they can fail, over the
same map with a forbidden import added.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

SERVICE = Path(__file__).resolve().parents[1] / "service"

#: Layers, lowest first: a module may import its own layer and those before it, never one after.
#: Every ``<package>/routes.py`` belongs to the ``routes`` layer (one node per package), above all
#: domains; ``api.app`` (create_app and the ASGI entry point) composes the routers.
LAYERS = (
    "vc",
    "core",
    "net",
    "jobs",
    "assessment.engine",
    "audit",
    "idempotency",
    "events",
    "accounts",
    "issuers",
    "skills",
    "achievements",
    "evidence",
    "status",
    "verification",
    "credentials",
    "endorsements",
    "assessment",
    "discovery",
    "webhooks",
    "bulk",
    "platforms",
    "portal",
    "tables",
    "worker",
    "web",
    "api",
    "routes",
    "api.app",
    "cli",
)
HTTP_LIBRARIES = frozenset({"fastapi", "starlette"})
WEB_OR_DATABASE_LIBRARIES = frozenset({"fastapi", "starlette", "sqlmodel", "sqlalchemy", "alembic", "uvicorn"})


@dataclass(frozen=True)
class Import:
    """One imported module, the names taken from it (``from m import a, b``) and where."""

    module: str
    names: tuple[str, ...] = ()
    line: int = 0


ImportMap = Mapping[str, list[Import]]


# --- reading the tree ----------------------------------------------------------------------------


def module_name(path: Path, root: Path = SERVICE) -> str:
    """``service/credentials/service.py`` -> ``service.credentials.service``."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str, root: Path) -> bool:
    relative = Path(*name.split("."))
    return (root.parent / relative).with_suffix(".py").exists() or (root.parent / relative / "__init__.py").exists()


def imports_in(path: Path, root: Path = SERVICE) -> list[Import]:
    """Every import a module makes, at any depth (lazy and TYPE_CHECKING imports count too).

    ``from service.x import y`` where ``y`` is a module is recorded as an import of
    ``service.x.y``; relative imports are made absolute.
    """
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[Import] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [Import(alias.name, (), node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            plain = []
            for alias in node.names:
                if _is_module(f"{base}.{alias.name}", root):
                    found.append(Import(f"{base}.{alias.name}", (), node.lineno))
                else:
                    plain.append(alias.name)
            if plain:
                found.append(Import(base, tuple(plain), node.lineno))
    return found


def read_tree(root: Path = SERVICE) -> dict[str, list[Import]]:
    """The import map of every module under ``root``."""
    return {module_name(path, root): imports_in(path, root) for path in sorted(root.rglob("*.py"))}


# --- what a module belongs to ----------------------------------------------------------------------


def node_of(module: str) -> str | None:
    """The dependency-graph node of a ``service`` module, or None for anything outside it."""
    parts = module.split(".")
    if parts[0] != "service" or len(parts) < 2:
        return None
    if parts[-1] == "routes":
        return ".".join(parts[1:])
    if parts[1:3] == ["api", "app"] or parts[1:3] == ["api", "asgi"]:
        return "api.app"
    if parts[1:3] == ["assessment", "engine"]:
        return "assessment.engine"
    return parts[1]


def layer_of(node: str) -> str:
    return "routes" if node.endswith(".routes") else node


def _rank(node: str) -> int:
    return LAYERS.index(layer_of(node))


# --- the rules -------------------------------------------------------------------------------------


def _service_imports(imports: ImportMap) -> Iterable[tuple[str, str, str, Import]]:
    """(module, its node, imported node, import) for every import between service modules."""
    for module, found in imports.items():
        source = node_of(module)
        for item in found:
            target = node_of(item.module)
            if source is not None and target is not None:
                yield module, source, target, item


def unknown_nodes(imports: ImportMap) -> list[str]:
    """Packages that docs/architecture.md (and :data:`LAYERS`) do not place yet."""
    nodes = {node_of(module) for module in imports} - {None, "__init__"}
    return sorted(node for node in nodes if node is not None and layer_of(node) not in LAYERS and node != "service")


def layer_violations(imports: ImportMap) -> list[str]:
    """Imports that go up the layers, or sideways between two packages' routes."""
    problems = []
    for module, source, target, item in _service_imports(imports):
        if source == target or layer_of(source) not in LAYERS or layer_of(target) not in LAYERS:
            continue
        if _rank(target) > _rank(source) or (_rank(target) == _rank(source) and source != target):
            problems.append(f"{module}:{item.line} ({source}) imports {item.module} ({target})")
    return problems


def package_cycles(imports: ImportMap) -> list[list[str]]:
    """Strongly connected groups of more than one node: packages that import each other."""
    graph: dict[str, set[str]] = {}
    for _, source, target, _ in _service_imports(imports):
        if source != target:
            graph.setdefault(source, set()).add(target)
            graph.setdefault(target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def framework_violations(imports: ImportMap) -> list[str]:
    """Modules outside service/api/ and ``*/routes.py`` that import FastAPI or Starlette."""
    problems = []
    for module, found in imports.items():
        node = node_of(module) or ""
        if node in ("api", "api.app") or node.endswith(".routes"):
            continue
        for item in found:
            if item.module.split(".")[0] in HTTP_LIBRARIES:
                problems.append(f"{module}:{item.line} imports {item.module}")
    return problems


def private_name_violations(imports: ImportMap) -> list[str]:
    """Imports of another package's private (underscore) modules or names."""
    problems = []
    for module, source, target, item in _service_imports(imports):
        if source == target:
            continue
        private = [name for name in item.names if name.startswith("_")]
        if any(part.startswith("_") for part in item.module.split(".")):
            private.append(item.module)
        if private:
            problems.append(f"{module}:{item.line} ({source}) takes private {private} from {item.module}")
    return problems


def pure_package_violations(imports: ImportMap, package: str, allowed: frozenset[str]) -> list[str]:
    """Imports by ``package`` (a node such as ``vc``) of web or database libraries, or of any
    service package other than itself and ``allowed``."""
    problems = []
    for module, found in imports.items():
        if node_of(module) != package:
            continue
        for item in found:
            target = node_of(item.module)
            if item.module.split(".")[0] in WEB_OR_DATABASE_LIBRARIES:
                problems.append(f"{module}:{item.line} imports {item.module}")
            elif target is not None and target != package and target not in allowed:
                problems.append(f"{module}:{item.line} imports {item.module}")
    return problems
