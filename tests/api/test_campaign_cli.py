"""``jaicp-pipeline campaign ...`` against the emulator, through click's CliRunner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pipeline.cli.main import cli
from pipeline.errors import ExitCode
from tests.conftest import random_token


@pytest.fixture
def config_file(tmp_path: Path, emulator: Any) -> Path:
    path = tmp_path / "campaign.yaml"
    path.write_text(f"version: 1\napi:\n  base_url: {emulator.base_url}\n", encoding="utf-8")
    return path


def run(config: Path, token: str, *args: str, stdin: str | None = None) -> Result:
    runner = CliRunner()
    return runner.invoke(
        cli,
        ["campaign", *args, "--config", str(config)],
        env={"JAICP_TOKEN": token, "JAICP_BASE_URL": ""},
        input=stdin,
    )


def test_info_table_and_json(config_file: Path, campaign: dict[str, Any]) -> None:
    table = run(config_file, campaign["token"], "info")
    assert table.exit_code == 0, table.output
    assert str(campaign["id"]) in table.output and "status" in table.output
    as_json = run(config_file, campaign["token"], "info", "--json")
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    assert data["id"] == str(campaign["id"])
    assert data["status"] == "inProgress"
    assert data["shortReport"]["totalNumbers"] == 0


def test_status_pause_resume_stop(config_file: Path, campaign: dict[str, Any]) -> None:
    token = campaign["token"]
    assert run(config_file, token, "status").output.strip() == "inProgress"
    paused = run(config_file, token, "pause", "--json")
    assert json.loads(paused.output) == {"action": "pause", "ok": True, "status": "paused"}
    assert json.loads(run(config_file, token, "status", "--json").output) == {"status": "paused"}
    resumed = run(config_file, token, "resume")
    assert resumed.exit_code == 0 and "inProgress" in resumed.output
    refused = run(config_file, token, "stop", stdin="n\n")
    assert refused.exit_code != 0
    assert run(config_file, token, "status").output.strip() == "inProgress"
    stopped = run(config_file, token, "stop", "--yes")
    assert stopped.exit_code == 0 and "finished" in stopped.output


def test_refused_control_action_exits_nonzero(config_file: Path, campaign: dict[str, Any]) -> None:
    result = run(config_file, campaign["token"], "resume")  # it is running, not paused
    assert result.exit_code == ExitCode.FAILED
    assert "HTTP 400" in result.output
    assert campaign["token"] not in result.output


def test_unknown_token_is_a_config_exit(config_file: Path) -> None:
    token = random_token(777, 1)
    result = run(config_file, token, "status")
    assert result.exit_code == ExitCode.CONFIG
    assert "invalid.token" in result.output
    assert token not in result.output


def test_missing_token_is_a_config_exit(config_file: Path) -> None:
    result = run(config_file, "", "info")
    assert result.exit_code == ExitCode.CONFIG
    assert "JAICP_TOKEN" in result.output


def test_debug_logs_of_a_real_process_hide_the_token(
    config_file: Path, campaign: dict[str, Any]
) -> None:
    token = campaign["token"]
    env = {**os.environ, "JAICP_TOKEN": token, "JAICP_BASE_URL": ""}
    args = ["--log-level", "DEBUG", "campaign", "info", "--config", str(config_file), "--json"]
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "urllib3" in done.stderr and "campaign/***" in done.stderr
    assert token not in done.stderr + done.stdout
    assert token.rsplit(".", 1)[1] not in done.stderr + done.stdout
