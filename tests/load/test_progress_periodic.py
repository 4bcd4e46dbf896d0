"""Headless progress on a slow upload: a line at least every ``every_s`` seconds while rows go
out, with rising ``done`` counts, before the run ends (cron logs see it move).

"Slow" is injected time, not real time: every request the emulator answers moves the view's
clock by 4 s, so the test does not depend on machine speed.
"""

from __future__ import annotations

import io
import json
import random
from typing import Any

from pipeline.api import CallsApiClient
from pipeline.cli.output import PlainProgress
from pipeline.ledger import open_ledger
from pipeline.load.upload.progress import Progress
from pipeline.load.upload.run import run_upload
from tests.load.conftest import Uploader

SECONDS_PER_REQUEST = 4.0


def _slow_run(uploader: Uploader, view: PlainProgress, clock: list[float]) -> list[Progress]:
    """200 rows in batches of 10 (one file, planned in one chunk: all sent while planning)."""
    uploader.pass_campaign_check()
    cfg = uploader.config()
    seen: list[Progress] = []

    def tick(response: Any, *args: Any, **kwargs: Any) -> None:
        clock[0] += SECONDS_PER_REQUEST

    def client() -> CallsApiClient:
        made = CallsApiClient.from_config(cfg, uploader.token)
        made.session.hooks["response"].append(tick)
        return made

    def both(p: Progress) -> None:
        seen.append(p)
        view.update(p)

    with open_ledger(uploader.ledger_url, clock=uploader.clock) as ledger:
        summary = run_upload(
            cfg,
            [uploader.csv(200)],
            token=uploader.token,
            ledger=ledger,
            client=client,
            clock=uploader.clock,
            sleep=uploader.sleep,
            rng=random.Random(0),
            on_progress=both,
        )
    assert summary.exit_code == 0 and summary.sent == 200, summary.lines()
    return seen


def test_plain_lines_come_every_n_seconds_with_rising_counts(uploader: Uploader) -> None:
    clock = [0.0]
    out = io.StringIO()
    view = PlainProgress(stream=out, every_s=10.0, clock=lambda: clock[0])
    _slow_run(uploader, view, clock)
    lines = out.getvalue().splitlines()
    during = [line for line in lines if "sent while planning" in line]
    # 20 requests x 4 s = 80 s: a line every 3 batches (12 s >= 10 s), before the last one.
    done = [int(line.split("sending: ")[1].split()[0]) for line in during]
    assert done == [30, 60, 90, 120, 150, 180], lines
    assert lines[-1].endswith("sending: 200 of 200 row(s) settled, 2 rows/s"), lines


def test_json_lines_carry_done_total_and_rate_as_numbers(uploader: Uploader) -> None:
    clock = [0.0]
    out = io.StringIO()
    view = PlainProgress(stream=out, json_lines=True, every_s=10.0, clock=lambda: clock[0])
    _slow_run(uploader, view, clock)
    entries = [json.loads(line) for line in out.getvalue().splitlines()]
    sends = [e for e in entries if e.get("stage") == "send" and e["done"] > 0]
    assert [e["done"] for e in sends] == [30, 60, 90, 120, 150, 180, 200]
    assert all(e["total"] is None for e in sends[:-1])  # planning still adds rows
    assert sends[-1]["total"] == 200
    assert sends[0]["rate"] == 30 / 12  # 30 rows in 12 s of injected time
    assert all(isinstance(e["rate"], float) for e in sends)


def test_a_long_interval_prints_no_line_between_start_and_end(uploader: Uploader) -> None:
    clock = [0.0]
    out = io.StringIO()
    view = PlainProgress(stream=out, every_s=1000.0, clock=lambda: clock[0])
    seen = _slow_run(uploader, view, clock)
    assert sum(1 for p in seen if p.stage == "send" and p.growing and p.done) == 20
    assert "sent while planning" not in out.getvalue()
