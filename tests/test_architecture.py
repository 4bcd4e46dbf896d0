"""The dependency direction of DESIGN.md §6, checked by parsing every module's imports.

cli → load → (extract, transform, ledger, api, reports) → errors/records/config/redact/private.
transform does no I/O; the emulator imports nothing from the rest of the package. Only the
ledger touches its tables (no SQLAlchemy, Alembic, driver or schema import outside
``pipeline/ledger``), and no module imports itself back through another.
"""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "pipeline"

# Which pipeline subpackages each area may import from (besides itself).
BASE = {"errors", "records", "config", "redact", "private"}
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "records": set(),
    "redact": set(),
    "private": set(),
    "config": {"errors"},
    "extract": BASE,
    "transform": BASE,
    "ledger": BASE,
    "api": BASE,
    "reports": BASE,
    "load": BASE | {"extract", "transform", "ledger", "api", "reports"},
    "emulator": set(),
    "cli": BASE | {"extract", "transform", "ledger", "api", "reports", "load", "emulator", "cli"},
    "__init__": set(),
    "__main__": {"cli"},
}
IO_MODULES = {"socket", "requests", "urllib", "http", "sqlalchemy", "subprocess", "shutil"}
# Only pipeline/ledger talks to the database: everything else goes through the Ledger's rooms.
DATABASE_MODULES = {"sqlalchemy", "alembic", "psycopg", "sqlite3"}
SCHEMA = "pipeline.ledger.store.schema"
# Import circles outside the ledger that are known and still to be broken (issue 11); a new one
# fails test_no_new_import_circle. Each is a set of modules importing each other round.
KNOWN_CIRCLES = [
    {"pipeline.load.edge", "pipeline.load.refusals", "pipeline.load.sender"},
    {"pipeline.emulator.admin", "pipeline.emulator.app", "pipeline.emulator.server"},
]


def _area(path: Path) -> str:
    rel = path.relative_to(PKG)
    return rel.parts[0].removesuffix(".py")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_modules(path: Path, modules: set[str]) -> set[str]:
    """The package's modules that ``path`` imports (TYPE_CHECKING imports too): ``from a import
    b`` is module ``a.b`` when that is a module, else ``a`` itself."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if full in modules:
                    found.add(full)
                elif node.module in modules:
                    found.add(node.module)
    return found


def _import_graph() -> dict[str, set[str]]:
    paths = {_module_name(path): path for path in PKG.rglob("*.py")}
    modules = set(paths)
    return {name: _imported_modules(path, modules) - {name} for name, path in paths.items()}


def _circles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return circles


def test_dependency_direction() -> None:
    violations = []
    for path in sorted(PKG.rglob("*.py")):
        area = _area(path)
        allowed = ALLOWED.get(area)
        assert allowed is not None, f"{path}: new top-level area {area!r}; add it to ALLOWED"
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] != "pipeline" or len(parts) < 2:
                continue
            target = parts[1]
            if target != area and target not in allowed and target != "__init__":
                violations.append(f"{path.relative_to(PKG)} imports {name}")
    assert not violations, "\n".join(violations)


def test_emulator_is_standalone() -> None:
    for path in (PKG / "emulator").rglob("*.py"):
        for name in _imports(path):
            assert not name.startswith("pipeline.") or name.startswith("pipeline.emulator"), (
                f"{path} imports {name}: the emulator must share no code with the client"
            )


def test_transform_does_no_io() -> None:
    for path in (PKG / "transform").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert "open(" not in source, f"{path} opens files; transform must be pure"
        for name in _imports(path):
            assert name.split(".")[0] not in IO_MODULES, f"{path} imports {name}"


def test_only_the_ledger_touches_its_tables() -> None:
    """Nothing outside pipeline/ledger imports the database libraries or the ledger's schema:
    every query is a method of a ledger room (tests may query the tables themselves)."""
    violations = []
    for path in sorted(PKG.rglob("*.py")):
        if _area(path) == "ledger":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            else:
                continue
            for name in names:
                if name.split(".")[0] in DATABASE_MODULES or name == SCHEMA:
                    violations.append(f"{path.relative_to(PKG)} imports {name}")
    assert not violations, "\n".join(violations)


def test_no_import_circle_in_the_ledger() -> None:
    graph = _import_graph()
    ledger = {name: deps for name, deps in graph.items() if name.startswith("pipeline.ledger")}
    for name, deps in ledger.items():
        ledger[name] = {dep for dep in deps if dep in ledger}
    circles = _circles(ledger)
    assert not circles, f"import circles in pipeline/ledger: {circles}"


def test_no_new_import_circle() -> None:
    new = [circle for circle in _circles(_import_graph()) if circle not in KNOWN_CIRCLES]
    assert not new, f"import circles: {new}"
