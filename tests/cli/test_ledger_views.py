"""``ledger show RUN`` lists the run's audit events a page at a time; ``ledger runs`` prints a
table per kind of run, with a header row and that kind's columns. Real uploads to the
emulator make the runs; the CLI reads a real SQLite ledger."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from pipeline.cli.main import cli
from pipeline.emulator import Emulator
from tests.cli.test_summary_json import _run

EVENT = re.compile(r"^  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d  (\w+) (\d+)")


def _ledger(tmp_path: Path, *args: str) -> list[str]:
    url = f"sqlite:///{tmp_path / 'l.sqlite3'}"
    got = CliRunner().invoke(cli, ["ledger", *args, "--ledger", url], catch_exceptions=False)
    assert got.exit_code == 0, got.output
    return got.stdout.splitlines()


def test_show_lists_every_event_of_the_run_in_pages(
    emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    token = campaign["token"]
    assert _run(tmp_path, emulator, token).exit_code == 0  # 12 rows, batches of 5
    whole = _ledger(tmp_path, "show", "1", "--limit", "1000")
    total = int(next(x for x in whole if "audit events:" in x).split(":")[1].split()[0])
    events = [line for line in whole if EVENT.match(line)]
    assert len(events) == total > 5
    assert "run 1" in events[0] and "- → running" in events[0] and "upload started" in events[0]
    assert any("run 1" in e and "running → finished" in e for e in events[-3:]), events
    confirmed = [e for e in events if "batch" in e and "→ confirmed" in e]
    assert len(confirmed) == 3 and all(" key " in e for e in confirmed)
    assert token not in "\n".join(whole) and token.rsplit(".", 1)[-1] not in "\n".join(whole)
    # A page of 4 from the 3rd event, and the hint for the next page.
    page = _ledger(tmp_path, "show", "1", "--limit", "4", "--offset", "2")
    assert [line for line in page if EVENT.match(line)] == events[2:6]
    assert f"{total - 6} more event(s): add --offset 6 (--limit 4 per page)" in page[-1]
    assert not any("more event(s)" in x for x in whole)


def test_runs_has_a_header_and_columns_per_kind(
    emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    token = campaign["token"]
    assert _run(tmp_path, emulator, token).exit_code == 0
    assert _run(tmp_path, emulator, token).exit_code == 0  # the re-run sends nothing
    config = tmp_path / "c.yaml"
    env = {"JAICP_TOKEN": token, "JAICP_BASE_URL": emulator.base_url}
    got = CliRunner().invoke(cli, ["reconcile", "--config", str(config)], env=env)
    assert got.exit_code == 0, got.output
    lines = _ledger(tmp_path, "runs")
    assert lines[0] == "reconcile runs"  # the newest run's kind first
    assert lines[1].split() == ["run", "started", "took", "exit"]
    assert lines[2].split()[0] == "3"
    assert lines[3] == "" and lines[4] == "upload runs"
    header = lines[5]
    for name in ("read", "sent", "of them earlier", "rejected", "pending", "retries", "files"):
        assert name in header
    rerun, first = lines[6].split(), lines[7].split()
    # run, date, time, took, exit, read, sent, of them earlier, ...
    assert rerun[0] == "2" and rerun[5:8] == ["12", "12", "12"]
    assert first[0] == "1" and first[5:8] == ["12", "12", "0"]
