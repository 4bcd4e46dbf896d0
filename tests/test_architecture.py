"""The dependency direction of DESIGN.md §6, checked by parsing every module's imports.

cli → load → (extract, transform, ledger, api, reports) → errors/records/config/redact/private.
transform does no I/O; the emulator imports nothing from the rest of the package.
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
