"""With ``--log-format json`` the final error is one JSON object on stderr, like every log line.

A log collector parses stderr line by line: a plain ``error: ...`` at the end of a failed run
would be the one line it cannot read, and the one that matters most. The CLI runs as an
operator runs it (click's runner for the in-process cases, a real process for the stream).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from pipeline.cli.main import cli


def _invoke(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def _json_lines(stderr: str) -> list[dict[str, Any]]:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines, "nothing on stderr"
    return [json.loads(line) for line in lines]  # raises on any line that is not JSON


def test_a_library_error_is_one_json_object_with_level_message_and_exit_code(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "missing.sqlite3"
    result = _invoke(
        "--log-format", "json", "--log-level", "DEBUG", "ledger", "runs", "--ledger",
        f"sqlite:///{missing}",
    )  # fmt: skip
    assert result.exit_code == 1
    entries = _json_lines(result.stderr)
    last = entries[-1]
    assert last["level"] == "ERROR" and last["exit_code"] == 1
    assert last["logger"] == "pipeline.cli"
    assert last["message"].startswith(f"there is no ledger at {missing}")
    assert last["ts"].endswith("+00:00")
    assert not missing.exists()


def test_the_exit_code_in_the_object_is_the_process_exit_code(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(f"ledger: {{url: 'sqlite:///{tmp_path / 'l.sqlite3'}'}}\n", "utf-8")
    result = _invoke(
        "--log-format", "json", "results", "--config", str(config), "--run", "1", "--out",
        str(tmp_path / "r.csv"), env={"JAICP_TOKEN": None},
    )  # fmt: skip
    assert result.exit_code == 4
    (entry,) = _json_lines(result.stderr)
    assert entry["exit_code"] == 4 and entry["level"] == "ERROR"
    assert "JAICP_TOKEN is not set" in entry["message"]


def test_a_usage_error_of_a_command_is_json_too(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("version: 1\n", "utf-8")
    result = _invoke(
        "--log-format", "json", "results", "--config", str(config), "--run", "1", "--since",
        "2026-01-01", "--out", str(tmp_path / "r.csv"),
    )  # fmt: skip
    assert result.exit_code == 2
    (entry,) = _json_lines(result.stderr)
    assert entry == {**entry, "level": "ERROR", "exit_code": 2}
    assert "give --run or --since, not both" in entry["message"]


def test_text_format_keeps_the_plain_lines(tmp_path: Path) -> None:
    missing = tmp_path / "missing.sqlite3"
    result = _invoke("ledger", "runs", "--ledger", f"sqlite:///{missing}")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: there is no ledger at ")
    usage = _invoke("results", "--config", "c.yaml", "--run", "1", "--since", "2026-01-01")
    assert usage.exit_code == 2
    assert "Usage:" in usage.stderr and "Error: " in usage.stderr


def test_a_real_process_writes_only_json_to_stderr(tmp_path: Path) -> None:
    env = {**os.environ, "JAICP_TOKEN": "104.7056." + "x" * 43}
    password = "Pw-json-secret-1"
    done = subprocess.run(
        [
            sys.executable, "-m", "pipeline", "--log-format", "json", "--log-level", "DEBUG",
            "ledger", "runs", "--ledger", f"postgresql+psycopg://app:{password}@127.0.0.1:1/x",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode == 3, done.stderr  # the ledger is unavailable: try again later
    entries = _json_lines(done.stderr)
    assert entries[-1]["level"] == "ERROR" and entries[-1]["exit_code"] == 3
    assert "cannot open the ledger at postgresql+psycopg://app:***@" in entries[-1]["message"]
    assert password not in done.stderr + done.stdout
