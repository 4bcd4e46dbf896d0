"""``results`` retries transient API failures like an upload does, and keeps what it fetched.

The emulator's seeded fault injection answers report requests with 503, drops connections
and sends 429 with ``Retry-After``; the export must still be complete. Where it must give up
(attempts used, ``Retry-After`` above the cap) it exits 3 with every chunk fetched before
that stored. The library-level tests inject ``sleep`` to see each wait the policy chose.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.api import CallsApiClient
from pipeline.config import load_config
from pipeline.emulator import Emulator
from pipeline.errors import ExitCode, RateLimitedError, ServerError
from pipeline.ledger import Ledger, open_ledger
from pipeline.load.results_run import run_results
from tests.conftest import phone
from tests.results.support import Operator, read_csv

FINAL = {"longCallWithResult", "longCallWithNoResult", "noAnswer", "nonexistentNumber"}


def _rows(n: int) -> list[tuple[str, str, str]]:
    return [(phone(i), f"Name{i}", "note") for i in range(n)]


def _report_requests(emulator: Emulator, endpoint: str) -> list[dict[str, Any]]:
    return [e for e in emulator.requests_log() if e["path"].endswith(f"/{endpoint}/getReport")]


def test_transient_faults_are_retried_and_the_results_are_complete(
    op_each: Operator, emulator: Emulator, tmp_path: Path
) -> None:
    op = op_each  # SQLite and PostgreSQL ledgers
    run = op.upload(op.csv("a.csv", _rows(25)))
    emulator.advance(8 * 3600)
    emulator.set_faults(
        [
            {"kind": "error_before_commit", "endpoint": "jobReport", "status": 503, "times": 2},
            {"kind": "drop_before_commit", "endpoint": "jobReport", "times": 1},
            {"kind": "rate_limit", "endpoint": "attemptReport", "retryAfter": 0.4, "times": 1},
        ],
        seed=3,
    )
    out = tmp_path / "r.csv"

    started = time.monotonic()
    result = op.invoke(
        "results", "--run", str(run), "--attempts", "--chunk-size", "10", "--out", str(out)
    )
    elapsed = time.monotonic() - started

    assert result.exit_code == 0, result.output
    assert "4 report request(s) retried after a transient failure" in result.output
    lines = read_csv(out)
    assert len(lines) == 25 and all(r["job_status"] in FINAL for r in lines)
    assert all(r["attempts"] not in ("", "0") for r in lines)
    jobs = _report_requests(emulator, "callJob")
    assert [e["fault"] for e in jobs] == [
        "error_before_commit", "error_before_commit", "drop_before_commit", None, None, None,
    ]  # fmt: skip
    attempts = _report_requests(emulator, "callAttempt")
    assert [e["fault"] for e in attempts] == ["rate_limit", None, None, None]
    assert elapsed >= 0.4  # the server's Retry-After was waited out, not cut short
    assert op.sql("SELECT count(*) FROM job_outcomes")[0][0] == 25


@pytest.fixture
def library(op: Operator) -> Iterator[tuple[Operator, Ledger, CallsApiClient]]:
    """The results run's parts as the CLI builds them, for injecting ``sleep``."""
    cfg = load_config(op.config)
    client = CallsApiClient.from_config(cfg, op.token)
    with open_ledger(op.ledger_url) as ledger:
        yield op, ledger, client


def _config_with(op: Operator, upload_section: str) -> Any:
    op.config.write_text(
        op.config.read_text(encoding="utf-8").replace(
            "upload: {batch_size: 10}", f"upload: {upload_section}"
        ),
        encoding="utf-8",
    )
    return load_config(op.config)


def test_giving_up_keeps_the_chunks_fetched_before(
    library: tuple[Operator, Ledger, CallsApiClient], emulator: Emulator, tmp_path: Path
) -> None:
    op, ledger, client = library
    run = op.upload(op.csv("a.csv", _rows(25)))
    cfg = _config_with(op, "{batch_size: 10, max_attempts_per_request: 3, backoff_base_s: 0.5}")
    waits: list[float] = []

    def after_chunk(line: str) -> None:
        # The first chunk is stored; from now on the server keeps failing.
        if line.startswith("fetched 10 of 25"):
            emulator.set_faults([{"kind": "error_before_commit", "endpoint": "jobReport"}])

    with pytest.raises(ServerError) as info:
        run_results(
            cfg, ledger=ledger, client=client, token=op.token, out=tmp_path / "r.csv",
            run_id=run, chunk_size=10, progress=after_chunk, sleep=waits.append,
        )  # fmt: skip
    assert info.value.exit_code == ExitCode.PENDING
    # jitter from the 0.5 s base up to a doubling ceiling: 1 s, then 2 s
    assert len(waits) == 2 and 0.5 <= waits[0] <= 1.0 and 0.5 <= waits[1] <= 2.0
    assert len(_report_requests(emulator, "callJob")) == 1 + 3
    assert op.sql("SELECT count(*) FROM job_outcomes")[0][0] == 10
    assert op.sql("SELECT exit_status FROM runs WHERE command = 'results'") == [(3,)]
    assert not (tmp_path / "r.csv").exists()


def test_retry_after_is_honoured_within_the_cap_and_beyond_it_the_run_stops(
    library: tuple[Operator, Ledger, CallsApiClient], emulator: Emulator, tmp_path: Path
) -> None:
    op, ledger, client = library
    run = op.upload(op.csv("a.csv", _rows(5)))
    cfg = _config_with(op, "{batch_size: 10, retry_after_cap_s: 10}")
    waits: list[float] = []
    emulator.set_faults(
        [{"kind": "rate_limit", "endpoint": "jobReport", "retryAfter": 7, "times": 2}]
    )
    summary = run_results(
        cfg, ledger=ledger, client=client, token=op.token, out=tmp_path / "r.csv",
        run_id=run, sleep=waits.append,
    )  # fmt: skip
    assert waits == [7.0, 7.0]  # exactly what the server asked for, twice
    assert summary.retries == 2 and summary.jobs_fetched == 5

    emulator.set_faults([{"kind": "rate_limit", "endpoint": "jobReport", "retryAfter": 11}])
    waits.clear()
    with pytest.raises(RateLimitedError):
        run_results(
            cfg, ledger=ledger, client=client, token=op.token, out=tmp_path / "r2.csv",
            run_id=run, sleep=waits.append,
        )  # fmt: skip
    assert waits == []  # 11 s is above the cap: no waiting, the run stops at once


def test_the_cli_exits_3_and_says_what_to_do(op: Operator, emulator: Emulator) -> None:
    run = op.upload(op.csv("a.csv", _rows(3)))
    op.config.write_text(
        op.config.read_text(encoding="utf-8").replace(
            "upload: {batch_size: 10}", "upload: {batch_size: 10, max_attempts_per_request: 2}"
        ),
        encoding="utf-8",
    )
    emulator.set_faults([{"kind": "error_before_commit", "endpoint": "jobReport", "status": 502}])
    result = op.invoke("results", "--run", str(run), "--out", str(op.tmp_path / "r.csv"))
    assert result.exit_code == 3, result.output
    assert "giving up on a report request: 2 attempt(s) used" in result.output
    assert "run `jaicp-pipeline results` again later" in result.output
    assert len(_report_requests(emulator, "callJob")) == 2
