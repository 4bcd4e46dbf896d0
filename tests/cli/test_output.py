"""What an operator sees of ``upload``: plain lines (cron), the bar, JSON logs, --quiet, masking.

The CLI is invoked as a user would (click's runner, real sockets to the emulator). The runner's
stderr is not a terminal, so ``--progress always`` forces the bar path.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pipeline.cli import output, upload_cmd
from pipeline.cli.main import cli
from pipeline.emulator import Emulator
from tests.conftest import phone
from tests.load.conftest import write_csv

CONFIG = """\
ledger:
  url: sqlite:///{ledger}
columns:
  phone: phone
  payload: {{name: name}}
upload:
  batch_size: 5
"""
ANSI = re.compile(r"\x1b\[")
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} ")


def upload(tmp_path: Path, emulator: Emulator, token: str, *root: str, rows: int = 12) -> Result:
    config = tmp_path / "c.yaml"
    config.write_text(CONFIG.format(ledger=tmp_path / "l.sqlite3"), encoding="utf-8")
    data = write_csv(tmp_path / "export.csv", [(phone(i), f"Anna {i}") for i in range(rows)])
    env = {"JAICP_TOKEN": token, "JAICP_BASE_URL": emulator.base_url, "JAICP_PROGRESS": None}
    return CliRunner().invoke(
        cli, [*root, "upload", "--config", str(config), str(data)], env=env, catch_exceptions=False
    )


def test_not_a_terminal_gives_plain_timestamped_lines(
    emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    got = upload(tmp_path, emulator, campaign["token"])
    assert got.exit_code == 0, got.output
    lines = got.stderr.splitlines()
    assert lines and all(STAMP.match(line) for line in lines), lines
    text = "\n".join(lines)
    assert "planning: export.csv planned, 12 row(s) read so far" in text
    # The rows go out while the file is planned, and are shown as they go.
    assert re.search(r"sending: \d+ row\(s\) so far, planning goes on", text), text
    assert re.search(r"sending: 12 of 12 row\(s\) settled, [\d,]+ rows/s", text), text
    assert not ANSI.search(got.output)
    assert "rows read 12 = sent 12 + rejected 0 + duplicate 0 + pending 0" in got.stdout


def test_progress_always_draws_the_bar_and_a_summary_table(
    emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    got = upload(tmp_path, emulator, campaign["token"], "--progress", "always")
    assert got.exit_code == 0, got.output
    assert ANSI.search(got.stderr)  # the bar redraws itself with terminal codes
    assert "sending (rows sent)" in got.stderr and "12/12" in got.stderr
    assert "planning (rows read)" in got.stderr
    # Milestones are printed, not logged: no "output.py:130" caller column on every line.
    assert "finishing batches of earlier runs" in got.stderr
    assert "output.py" not in got.stderr
    assert "upload run" in got.stdout and "duplicate" in got.stdout  # the table
    assert "complete (exit 0)" in got.stdout


def test_json_logs_parse_and_hide_phones_and_token(
    emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    token = campaign["token"]
    got = upload(tmp_path, emulator, token, "--log-level", "DEBUG", "--log-format", "json")
    assert got.exit_code == 0, got.output
    entries = [json.loads(line) for line in got.stderr.splitlines()]
    assert len(entries) > 5
    for entry in entries:
        assert {"ts", "level", "logger", "message"} <= set(entry)
    assert any(e["level"] == "DEBUG" for e in entries)  # the DEBUG records are really there
    everything = got.output
    assert token not in everything and token.rsplit(".", 1)[-1] not in everything
    for i in range(12):
        assert phone(i) not in everything
        assert phone(i)[1:] not in everything  # not even without the country code


def test_text_logs_at_debug_hide_phones_and_token(
    emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    got = upload(tmp_path, emulator, campaign["token"], "--log-level", "DEBUG")
    assert got.exit_code == 0, got.output
    assert " DEBUG " in got.stderr
    assert campaign["token"] not in got.output
    assert not any(phone(i)[1:] in got.output for i in range(12))


def test_quiet_shows_only_the_summary(
    emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    got = upload(tmp_path, emulator, campaign["token"], "--quiet", "--log-level", "DEBUG")
    assert got.exit_code == 0, got.output
    assert got.stderr == ""
    assert "complete (exit 0)" in got.stdout


def test_quiet_still_shows_errors(emulator: Emulator, tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(CONFIG.format(ledger=tmp_path / "l.sqlite3"), encoding="utf-8")
    got = CliRunner().invoke(
        cli,
        ["--quiet", "upload", "--config", str(config), str(tmp_path / "missing.csv")],
        env={"JAICP_TOKEN": "1.2.abcdefabcdefabcdefabcdef", "JAICP_BASE_URL": emulator.base_url},
    )
    assert got.exit_code == 6
    assert "missing.csv: file not found" in got.stderr


def test_progress_every_reaches_the_plain_view(
    emulator: Emulator, campaign: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[output.ProgressView] = []

    def spy(*args: Any, **kwargs: Any) -> output.ProgressView:
        made.append(output.progress_view(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(upload_cmd, "progress_view", spy)
    config = tmp_path / "c.yaml"
    config.write_text(CONFIG.format(ledger=tmp_path / "l.sqlite3"), encoding="utf-8")
    data = write_csv(tmp_path / "export.csv", [(phone(i), f"Anna {i}") for i in range(3)])
    env = {"JAICP_TOKEN": campaign["token"], "JAICP_BASE_URL": emulator.base_url}
    args = ["upload", "--config", str(config), "--progress-every", "2.5", str(data)]
    got = CliRunner().invoke(cli, args, env={**env, "JAICP_PROGRESS": None})
    assert got.exit_code == 0, got.output
    [view] = made
    assert isinstance(view, output.PlainProgress) and view.every_s == 2.5
