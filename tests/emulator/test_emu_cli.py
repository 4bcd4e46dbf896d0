"""The ``jaicp-pipeline emulator`` command as a real process: port 0, one line, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

from tests.conftest import random_token


def _start(token: str, *args: str) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "JAICP_TOKEN": token}
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "emulator", "--port", "0", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    assert line.startswith("listening on http://127.0.0.1:"), line
    return process, line.removeprefix("listening on ")


def _stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    return out, err


def test_cli_serves_the_token_campaign_and_stops_on_sigterm() -> None:
    token = random_token()
    process, base = _start(token, "--seed", "3")
    try:
        status = requests.get(f"{base}/api/calls/campaign/{token}/status", timeout=10)
        assert status.json() == "inProgress"
        added = requests.post(
            f"{base}/api/calls/campaign/{token}/addPhones",
            json=[{"phone": "79990000001"}],
            timeout=10,
        )
        assert added.status_code == 200
        log = requests.get(f"{base}/__emulator__/requests", timeout=10).text
        assert token not in log
    finally:
        out, err = _stop(process)
    assert token not in out + err
    assert out.count("\n") == 0  # the one line was already read


def test_cli_faults_from_a_file(tmp_path: Path) -> None:
    token = random_token()
    rules = tmp_path / "faults.json"
    rules.write_text(json.dumps([{"kind": "error_before_commit", "status": 502, "times": 1}]))
    process, base = _start(token, "--faults", f"@{rules}")
    try:
        url = f"{base}/api/calls/campaign/{token}/status"
        assert requests.get(url, timeout=10).status_code == 502
        assert requests.get(url, timeout=10).status_code == 200
    finally:
        _stop(process)


def test_cli_refuses_a_malformed_token_without_echoing_it() -> None:
    secret = "not a token " + "s" * 40
    env = {**os.environ, "JAICP_TOKEN": secret}
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "emulator", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert secret not in done.stdout + done.stderr
    assert "token" in done.stderr
