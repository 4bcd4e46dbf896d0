"""``jaicp-pipeline upload`` / ``reconcile`` through click: exit codes, summary, no token shown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner

from pipeline.cli.main import cli
from pipeline.emulator import Emulator
from pipeline.errors import ExitCode
from tests.conftest import random_token
from tests.load.conftest import Uploader

CONFIG = """\
ledger:
  url: sqlite:///{ledger}
columns:
  phone: phone
  payload: {{name: name}}
upload:
  batch_size: 7
"""


def _invoke(tmp_path: Path, emulator: Emulator, token: str, *args: str) -> tuple[int, str]:
    config = tmp_path / "c.yaml"
    config.write_text(CONFIG.format(ledger=tmp_path / "cli.sqlite3"), encoding="utf-8")
    env = {"JAICP_TOKEN": token, "JAICP_BASE_URL": emulator.base_url}
    result = CliRunner().invoke(cli, [args[0], "--config", str(config), *args[1:]], env=env)
    return result.exit_code, result.output


def test_upload_prints_a_summary_and_exits_0(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    code, out = _invoke(tmp_path, emulator, campaign["token"], "upload", str(uploader.csv(20)))
    assert code == ExitCode.OK, out
    assert "rows read 20 = sent 20 + rejected 0 + duplicate 0 + pending 0" in out
    assert "rows/s" in out and "complete (exit 0)" in out
    assert campaign["token"] not in out
    assert len(emulator.jobs(campaign["id"])) == 20
    code, out = _invoke(tmp_path, emulator, campaign["token"], "reconcile")
    assert code == ExitCode.OK, out
    assert "reconciled 0 batch(es)" in out


def test_an_unknown_token_stops_the_run_with_exit_4(
    uploader: Uploader, emulator: Emulator, tmp_path: Path
) -> None:
    wrong = random_token()
    code, out = _invoke(tmp_path, emulator, wrong, "upload", str(uploader.csv(3)))
    assert code == ExitCode.CONFIG, out
    assert "invalid.token" in out and "pending 3" in out
    assert wrong not in out


def test_a_missing_file_exits_6_before_anything_is_sent(
    emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    code, out = _invoke(tmp_path, emulator, campaign["token"], "upload", str(tmp_path / "no.csv"))
    assert code == ExitCode.INPUT, out
    assert emulator.requests_log() == []


def test_a_file_without_the_phone_column_exits_6_with_a_summary(
    emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("name\nAnna\n", encoding="utf-8")
    code, out = _invoke(tmp_path, emulator, campaign["token"], "upload", str(bad))
    assert code == ExitCode.INPUT, out
    assert "rows read 0" in out and "stopped:" in out and "phone" in out
    assert emulator.requests_log() == []
