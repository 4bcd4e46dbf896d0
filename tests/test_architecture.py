"""The dependency direction of DESIGN.md §6, checked by parsing every module's imports.

cli → front → load → (extract, transform, ledger, api, reports) → errors/records/config/redact/
private/collector. The CLI is a shell over the front door: it imports from the package only
``pipeline`` itself, ``pipeline.front``, ``pipeline.errors`` and its own modules.
transform does no I/O; the emulator imports nothing from the rest of the package. Only the
ledger touches its tables (no SQLAlchemy, Alembic, driver or schema import outside
``pipeline/ledger``). Every error raised on purpose is a PipelineError defined in errors.py
and drawn in its docstring. No two modules share a name, no modules import each other in a
circle, and inside load the sending room never reaches back into the upload run.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

from pipeline import errors
from pipeline.errors import PipelineError

PKG = Path(__file__).resolve().parent.parent / "pipeline"

# Which pipeline subpackages each area may import from (besides itself).
BASE = {"errors", "records", "config", "redact", "private", "version", "collector"}
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "records": set(),
    "redact": set(),
    "private": set(),
    "version": set(),
    "collector": set(),  # the garbage collector paused while a file streams through
    "config": {"errors"},
    "extract": BASE,
    "transform": BASE,
    "ledger": BASE,
    "api": BASE,
    "reports": BASE,
    "load": BASE | {"extract", "transform", "ledger", "api", "reports"},
    "emulator": set(),
    # The front door wires the stages for each call (and hands the CLI the emulator it runs).
    "front": BASE | {"extract", "transform", "ledger", "api", "reports", "load", "emulator"},
    # The shell: the front door for everything, errors for exit codes (see test_the_cli_...).
    "cli": {"errors", "front", "cli"},
    "__init__": {"front", "version"},  # the package re-exports the front door
    "__main__": {"cli"},
}
IO_MODULES = {"socket", "requests", "urllib", "http", "sqlalchemy", "subprocess", "shutil"}
# Only pipeline/ledger talks to the database: everything else goes through the Ledger's rooms.
DATABASE_MODULES = {"sqlalchemy", "alembic", "psycopg", "sqlite3"}
SCHEMA = "pipeline.ledger.store.schema"


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


def _modules() -> list[str]:
    """Every module of the package (the ledger's Alembic scripts aside: they run inside it)."""
    names = []
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG.parent).with_suffix("")
        if "migrations" in rel.parts:
            continue
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        names.append(".".join(parts))
    return names


def _exception_classes() -> list[type[BaseException]]:
    """Every exception class defined in the package, outside the emulator."""
    found = []
    for name in _modules():
        if name.startswith("pipeline.emulator"):
            continue  # standalone: its errors are the emulated server's, not ours
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, BaseException)
                and value.__module__ == name
            ):
                found.append(value)
    return found


def test_every_pipeline_error_lives_in_errors_py() -> None:
    strays = [
        f"{cls.__module__}.{cls.__name__}"
        for cls in _exception_classes()
        if issubclass(cls, PipelineError) and cls.__module__ != "pipeline.errors"
    ]
    assert not strays, f"move these into pipeline/errors.py and its drawn tree: {strays}"


def test_other_exceptions_are_signals_private_to_their_stage() -> None:
    """An exception that is not a PipelineError is a signal between the modules of one stage
    (raised and caught, or turned into a PipelineError, before it leaves): no other stage
    imports it. One that a caller elsewhere must catch belongs in errors.py."""
    signals = {
        (cls.__module__, cls.__name__)
        for cls in _exception_classes()
        if not issubclass(cls, PipelineError)
    }
    leaks = []
    for path in sorted(PKG.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    owner = node.module
                    if (owner, alias.name) in signals and owner.split(".")[1] != _area(path):
                        leaks.append(f"{path.relative_to(PKG)} imports {owner}.{alias.name}")
    assert not leaks, "\n".join(leaks)


def test_the_drawn_exception_tree_is_the_class_tree() -> None:
    """Every class of errors.py is drawn in its docstring, under its base class."""
    drawn: dict[str, str] = {}
    parents = ["PipelineError"]
    for line in (errors.__doc__ or "").splitlines():
        match = re.match(r"^ {4}([│ ]*)[├└]── (\w+)", line)
        if match is None:
            continue
        depth = len(match.group(1)) // 4 + 1
        del parents[depth:]
        drawn[match.group(2)] = parents[-1]
        parents.append(match.group(2))
    defined = {
        cls.__name__: cls.__bases__[0].__name__
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, PipelineError) and cls is not PipelineError
    }
    assert drawn == defined


def test_no_two_modules_share_a_name() -> None:
    """A name says what a module holds, so two different things never share one: five
    ``batches.py``/``workers.py``/``results.py``… in different folders sent readers to the
    wrong one."""
    seen: dict[str, list[str]] = {}
    for name in _modules():
        if not (PKG.parent / Path(*name.split("."))).is_dir():  # a package is its folder
            seen.setdefault(name.rsplit(".", 1)[-1], []).append(name)
    twice = {base: names for base, names in seen.items() if len(names) > 1}
    assert not twice, twice


def _graph() -> dict[str, set[str]]:
    """Module → the modules it imports, type-only imports included (a module that needs
    another for its types depends on it as well)."""
    modules = set(_modules())
    graph: dict[str, set[str]] = {}
    for name in modules:
        path = PKG.parent / Path(*name.split("."))
        package = path.is_dir()
        path = path / "__init__.py" if package else path.with_suffix(".py")
        here = name if package else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = here.split(".")[: len(here.split(".")) - node.level + 1]
                    base = ".".join([*parent, base] if base else parent)
                # ``from package import module`` depends on that module, not on the package
                targets.update(
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                    for alias in node.names
                )
        graph[name] = {target for target in targets if target in modules and target != name}
    return graph


# Circles known and accepted for now (none: the ledger's base ↔ batches went with its split).
KNOWN_CIRCLES: list[set[str]] = []


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = list(graph[start])
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(graph[node])
    return seen


def test_no_import_circles() -> None:
    """Modules import one way: a circle (type-only imports count) means two modules that
    cannot be read, tested or moved apart."""
    graph = _graph()
    reach = {node: _reachable(graph, node) for node in graph}
    circles: list[set[str]] = []
    for node in sorted(graph):
        circle = {node} | {other for other in reach[node] if node in reach[other]}
        if len(circle) > 1 and circle not in circles:
            circles.append(circle)
    assert [c for c in circles if c not in KNOWN_CIRCLES] == []


def test_sending_knows_nothing_of_the_run() -> None:
    """load/send (batches onto the wire) is used by load/upload (the run), never the reverse."""
    for name, targets in _graph().items():
        if name.startswith("pipeline.load.send"):
            assert not {t for t in targets if t.startswith("pipeline.load.upload")}, name


def test_the_load_door_names_what_its_rooms_hold() -> None:
    """``from pipeline.load import run_upload, run_reconcile, …`` works for every name it lists
    (they are imported on first use, so a moved module would otherwise fail only then)."""
    import pipeline.load

    for name in pipeline.load.__all__:
        assert getattr(pipeline.load, name).__name__ == name


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


# What pipeline/cli may import from the package: the names below and their submodules.
CLI_MAY_IMPORT = ("pipeline.front", "pipeline.errors", "pipeline.cli")


def _pipeline_imports(path: Path, root: Path) -> list[str]:
    """Every ``pipeline…`` module ``path`` imports, at any depth (inside functions and
    TYPE_CHECKING blocks too), relative imports resolved as if ``root`` were pipeline/cli."""
    package = ".".join(["pipeline", "cli", *path.relative_to(root).parts[:-1]])
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            # ``from pipeline import front`` imports pipeline.front, not just the package
            names.extend(
                f"{base}.{alias.name}" if base == "pipeline" else base for alias in node.names
            )
    return [name for name in names if name == "pipeline" or name.startswith("pipeline.")]


def _cli_strays(root: Path) -> list[str]:
    strays = []
    for path in sorted(root.rglob("*.py")):
        for name in _pipeline_imports(path, root):
            allowed = name == "pipeline.__version__" or any(
                name == head or name.startswith(head + ".") for head in CLI_MAY_IMPORT
            )
            if not allowed:
                strays.append(f"{path.name} imports {name}")
    return strays


def test_the_cli_is_a_shell_over_the_front_door() -> None:
    """Every module under pipeline/cli imports from the package only ``pipeline.front`` (the
    calls, their result types and the shell's helpers), ``pipeline.errors`` (exit codes),
    ``pipeline.cli.*`` and ``pipeline.__version__``: no command wires a ledger, a client or
    a clock itself, so the CLI and a Python caller run exactly the same code."""
    assert _cli_strays(PKG / "cli") == []


def test_the_cli_rule_catches_a_forbidden_import(tmp_path: Path) -> None:
    (tmp_path / "cmd.py").write_text(
        "from pipeline import front\n"
        "from pipeline.errors import ExitCode\n"
        "def run() -> None:\n"
        "    from pipeline.ledger import open_ledger\n"
        "    from . import output\n"
        "from pipeline import load\n",
        encoding="utf-8",
    )
    assert sorted(_cli_strays(tmp_path)) == [
        "cmd.py imports pipeline.ledger",
        "cmd.py imports pipeline.load",
    ]


def test_the_front_door_names_what_its_rooms_hold() -> None:
    """Every name ``pipeline`` and ``pipeline.front`` list resolves (they import on first use,
    so a moved function would otherwise fail only when called)."""
    import pipeline
    import pipeline.front

    for door in (pipeline, pipeline.front):
        for name in door.__all__:
            assert getattr(door, name) is not None, f"{door.__name__}.{name}"
