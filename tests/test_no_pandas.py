"""pandas is no runtime dependency: the tool runs with it made unimportable.

Only the benchmarks use pandas (``benchmarks/naive_baseline.py``), so it sits in the ``bench``
and ``dev`` extras, not in ``[project] dependencies``. Each check runs the real CLI in a fresh
interpreter where ``sys.modules["pandas"] = None``, so any ``import pandas`` on the way raises
ImportError and the command fails.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The CLI's own entry point, with pandas (and anything under it) unimportable.
BLOCKED = "import sys\nsys.modules['pandas'] = None\nfrom pipeline.cli.main import main\nmain()\n"


def _run_without_pandas(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCKED, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_the_block_works() -> None:
    """The blocked interpreter really cannot import pandas (else the tests below prove nothing)."""
    done = subprocess.run(
        [sys.executable, "-c", "import sys; sys.modules['pandas'] = None; import pandas"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert "ModuleNotFoundError" in done.stderr or "ImportError" in done.stderr


def test_pandas_is_not_a_runtime_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = [dep.lower() for dep in project["dependencies"]]
    assert not [dep for dep in runtime if dep.startswith("pandas")], runtime
    assert any(dep.startswith("pandas") for dep in project["optional-dependencies"]["bench"])


def test_validate_runs_without_pandas(tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.csv"
    done = _run_without_pandas(
        "validate",
        "--config",
        str(ROOT / "configs" / "bitrix24.yaml"),
        str(ROOT / "sample_data" / "bitrix24_export.csv"),
        "--rejects",
        str(rejects),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "rows read" in done.stdout + done.stderr
    assert rejects.exists()


def test_the_whole_loop_runs_without_pandas(tmp_path: Path) -> None:
    """validate, upload, re-upload, dialing and results against the emulator (``demo``)."""
    out = tmp_path / "demo"
    done = _run_without_pandas("demo", "--out", str(out), cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert (out / "results.xlsx").exists()
    assert (out / "ledger.sqlite3").exists()
