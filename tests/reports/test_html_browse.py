"""Auditors without the CLI: the packaged Datasette metadata's canned queries, run against a
real upload's ledger, and ``ledger browse`` serving one of them over loopback."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pipeline.cli.main import cli
from pipeline.emulator import Emulator
from pipeline.errors import ExitCode
from pipeline.ledger.admin.browse import datasette_metadata
from tests.browser.made_run import MadeRun, make_run
from tests.conftest import phone

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def made(emulator: Emulator, campaign: dict[str, Any], tmp_path: Path) -> MadeRun:
    return make_run(tmp_path, emulator, campaign["token"])


def _queries() -> dict[str, str]:
    queries = datasette_metadata()["databases"]["ledger"]["queries"]
    return {name: str(q["sql"]) for name, q in queries.items()}


def _run(path: Path, sql: str, **params: object) -> list[dict[str, Any]]:
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute(sql, params)]


def test_every_canned_query_runs_on_a_real_ledger_and_answers_right(made: MadeRun) -> None:
    q, path, run = _queries(), made.path, made.run_id
    assert set(q) == {
        "runs",
        "phone_history",
        "run_decisions",
        "rejected_why",
        "rejected_rows",
        "sends_per_day",
        "call_results",
        "batch_troubles",
        "do_not_call",
    }  # a new query needs its own check below

    runs = _run(path, q["runs"])
    assert [r["run_id"] for r in runs] == sorted((r["run_id"] for r in runs), reverse=True)
    upload = next(r for r in runs if r["run_id"] == run)
    assert (upload["command"], upload["sent"], upload["retries"]) == ("upload", 25, 2)

    # Typed the way people write numbers: the query keeps only the digits.
    history = _run(path, q["phone_history"], phone="+7 (916) 000-00-20")
    assert [h["state"] for h in history] == ["sent", "duplicate"]
    sent = history[0]
    assert sent["job_id"] and sent["request_key"] and sent["job_status"] and sent["attempts"] >= 1
    assert history[1]["duplicate_of"] == sent["row_id"]
    assert _run(path, q["phone_history"], phone=phone(999)) == []

    decisions = _run(path, q["run_decisions"], run_id=run)
    with closing(sqlite3.connect(path)) as conn:
        events = conn.execute("SELECT count(*) FROM events WHERE run_id = ?", (run,)).fetchone()
    assert len(decisions) == events[0] > 10
    assert decisions[0]["to_state"] == "running"
    assert any(d["request_key"] and d["to_state"] == "unknown" for d in decisions)

    why = _run(path, q["rejected_why"], run_id=run)
    assert {w["reason_code"]: w["rows"] for w in why} == made.expected_reasons
    every = _run(path, q["rejected_why"], run_id="")  # empty: all runs (run 1 rejected none)
    assert {w["reason_code"]: w["rows"] for w in every} == made.expected_reasons
    assert _run(path, q["rejected_why"], run_id=made.first_run_id) == []
    rows = _run(path, q["rejected_rows"], run_id=str(run))  # Datasette passes text
    assert len(rows) == sum(made.expected_reasons.values())
    assert [r["row"] for r in rows] == sorted(r["row"] for r in rows)

    days = _run(path, q["sends_per_day"])
    assert sum(d["rows_sent"] for d in days) == 5 + 25 and all(d["day"] for d in days)

    results = _run(path, q["call_results"], run_id=run)
    assert sum(r["jobs"] for r in results) == 25
    assert sum(r["jobs"] for r in _run(path, q["call_results"], run_id="")) == 25

    troubles = _run(path, q["batch_troubles"])
    assert [t["attempts"] for t in troubles] == [3]  # the batch retried twice, nothing else

    listed = _run(path, q["do_not_call"])
    assert [(d["phone"], d["source"]) for d in listed] == [(phone(90), "manual")]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get_json(url: str, deadline: float) -> Any:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as reply:
                return json.loads(reply.read())
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.mark.skipif(
    importlib.util.find_spec("datasette") is None, reason="datasette (dev extra) not installed"
)
def test_ledger_browse_serves_a_canned_query_from_a_snapshot(made: MadeRun) -> None:
    before = made.path.read_bytes()
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipeline",
            "ledger",
            "browse",
            "--ledger",
            made.ledger_url,
            "--port",
            str(port),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "JAICP_TOKEN": ""},
    )
    try:
        url = f"http://127.0.0.1:{port}/ledger/rejected_why.json?run_id={made.run_id}&_shape=array"
        rows = _get_json(url, time.monotonic() + 120)  # a bound for a loaded machine
        assert {r["reason_code"]: r["rows"] for r in rows} == made.expected_reasons
        meta = _get_json(f"http://127.0.0.1:{port}/-/metadata.json", time.monotonic() + 30)
        assert "phone_history" in meta["databases"]["ledger"]["queries"]
    finally:
        proc.send_signal(signal.SIGTERM)  # the CLI stops Datasette and removes the snapshot
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    snapshot = Path(re.search(r"ledger snapshot: (\S+) \(", err).group(1))  # type: ignore[union-attr]
    assert snapshot.name == "ledger.sqlite3" and not snapshot.parent.exists()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=5):
        pass  # Datasette is gone too
    assert made.path.read_bytes() == before  # the ledger itself was only read


def test_browse_without_datasette_says_how_to_install_it(
    made: MadeRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "datasette" else real(name, *a),
    )
    result = CliRunner().invoke(cli, ["ledger", "browse", "--ledger", made.ledger_url])
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert "pip install 'jaicp-pipeline[browse]'" in result.output


def test_browse_refuses_a_postgresql_ledger_with_exit_4(pg_url: str) -> None:
    from pipeline.ledger import open_ledger

    open_ledger(pg_url).close()
    result = CliRunner().invoke(cli, ["ledger", "browse", "--ledger", pg_url])
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert "needs a SQLite ledger file" in result.output and "postgresql" in result.output
