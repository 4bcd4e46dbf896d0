"""A ledger with one realistic upload run in it, for the HTML report and Datasette tests.

Two uploads against the emulator on a real SQLite file. The second one (the run the tests
report on) reads a file named ``<img src=x onerror=alert(1)>.csv`` holding new phones, invalid
cells, a duplicate, two phones over a contact cap and one on the do-not-call list; two of its
sends fail and are retried; the emulated dialer then works and ``results`` fetches the outcomes.
Finally a reason and a call result are overwritten with ``<script>`` to prove the page escapes
whatever the ledger holds.

Usage::

    made = make_run(tmp_path, emulator, campaign["token"])
    made.ledger_url, made.run_id, made.token, made.expected_reasons
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from pipeline import front
from pipeline.api import CallsApiClient
from pipeline.emulator import Emulator
from pipeline.ledger import open_ledger
from tests.conftest import phone
from tests.load.conftest import Uploader, write_csv

HOSTILE_FILE = "<img src=x onerror=alert(1)>.csv"
SCRIPT_REASON = '<script>alert("reason")</script>'
SCRIPT_RESULT = '<script>alert("result")</script>'
POLICY = {"timezone": {"from": "number", "fallback": "reject"}}


@dataclass(frozen=True)
class MadeRun:
    """The ledger and what its reported run holds."""

    ledger_url: str
    path: Path
    run_id: int
    first_run_id: int
    token: str
    expected_reasons: dict[str, int]  # reason code → rows of the reported run's file
    sent: int
    retries: int


def make_run(tmp_path: Path, emulator: Emulator, token: str) -> MadeRun:
    """Build the ledger (see the module docstring); ~2 s."""
    path = tmp_path / "ledger.sqlite3"
    up = Uploader(emulator, token, tmp_path, f"sqlite:///{path}")
    up.upload = {"contact_caps": {"day": 1}}
    up.sections = {"policy": POLICY}
    first = up.run(up.csv(5))  # phones 0..4 called today
    assert first.exit_code == 0, first.lines()
    with open_ledger(up.ledger_url) as ledger:
        ledger.suppressions.add([phone(90)], by="ops", reason="asked not to be called")
    good = [(phone(20 + i), f"N{i}") for i in range(25)]
    rows = [
        *good[:12],
        (phone(0), "capped"),
        ("12", "short"),
        (phone(1), "capped too"),
        (phone(90), "listed"),
        ("not a phone", "text"),
        (phone(20), "N0"),  # repeats the first good row exactly: a duplicate
        ("", "no phone"),
        *good[12:],
    ]
    file = write_csv(tmp_path / HOSTILE_FILE, rows)
    up.clock.advance(60)
    emulator.set_faults([{"kind": "error_before_commit", "endpoint": "addPhones", "times": 2}])
    second = up.run(file)
    assert second.exit_code == 0, second.lines()
    assert (second.sent, second.retries) == (25, 2), second.lines()
    for _ in range(48):  # the dialer works for 8 simulated hours
        emulator.advance(600)
    cfg = up.config()
    client = CallsApiClient(emulator.base_url, token)
    front.results(
        cfg,
        tmp_path / "results.csv",
        ledger=up.ledger_url,
        token=token,
        client=client,
        run=second.run_id,
    )
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(
            "UPDATE rows SET reason = ? WHERE id = (SELECT min(id) FROM rows WHERE "
            "reason_code = 'contact_cap')",
            (SCRIPT_REASON,),
        )
        conn.execute(
            "UPDATE job_outcomes SET call_result = ? WHERE row_id = (SELECT min(row_id) FROM "
            "job_outcomes)",
            (SCRIPT_RESULT,),
        )
        codes = dict(
            conn.execute(
                "SELECT coalesce(reason_code, state), count(*) FROM rows WHERE run_id = ? AND "
                "state IN ('rejected', 'duplicate') GROUP BY 1",
                (second.run_id,),
            ).fetchall()
        )
    return MadeRun(up.ledger_url, path, second.run_id, first.run_id, token, codes, second.sent, 2)
