"""``jaicp-pipeline emulator`` takes its token from JAICP_TOKEN only, never from argv.

A real process: an argument would sit in ``/proc/<pid>/cmdline`` for every user to read, so
``--token`` must refuse to start the server (it could not undo the exposure, but it must not
make ``--token`` a habit), and say what to do instead without repeating the value.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

from tests.conftest import random_token


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # A server that starts anyway would never exit: the timeout turns that into a failure.
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "emulator", "--port", "0", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def _env_without_token() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "JAICP_TOKEN"}


def test_token_option_is_refused_without_echoing_the_value() -> None:
    token = random_token()
    done = _run(["--token", token], {**os.environ, "JAICP_TOKEN": random_token()})
    assert done.returncode == 2, done.stdout + done.stderr
    assert "listening on" not in done.stdout
    assert token not in done.stdout + done.stderr
    assert "process list" in done.stderr and "JAICP_TOKEN" in done.stderr


def test_token_option_is_refused_even_without_the_variable() -> None:
    token = random_token()
    done = _run(["--token", token], _env_without_token())
    assert done.returncode == 2, done.stdout + done.stderr
    assert token not in done.stdout + done.stderr
    assert "--token is no longer accepted" in done.stderr


def test_a_missing_variable_is_a_configuration_error_naming_it() -> None:
    done = _run([], _env_without_token())
    assert done.returncode == 4, done.stdout + done.stderr
    assert "listening on" not in done.stdout
    assert "JAICP_TOKEN is not set" in done.stderr


def test_the_served_campaign_uses_the_variable_and_argv_holds_no_token() -> None:
    token = random_token()
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "emulator", "--port", "0"],
        env={**os.environ, "JAICP_TOKEN": token},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:"), line
        base = line.removeprefix("listening on ")
        reply = requests.get(f"{base}/api/calls/campaign/{token}/status", timeout=10)
        assert reply.status_code == 200 and reply.json() == "inProgress"
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes().decode("utf-8", "replace")
        assert "emulator" in cmdline and token not in cmdline
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert token not in out + err
