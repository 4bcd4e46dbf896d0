"""Fixtures of the uploader tests: the emulator over a socket, a real SQLite ledger file in
tmp_path, a clock that only moves when the test (or an injected sleep) moves it.

``uploader`` runs :func:`pipeline.load.run_upload` in-process; ``uploader.sleeps`` records every
wait the uploader asked for (and each one moves the clock, so budgets work without waiting).

Usage::

    def test_x(uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]) -> None:
        csv = uploader.csv(100)
        summary = uploader.run(csv)
        assert summary.exit_code == 0 and len(emulator.jobs(campaign["id"])) == 100
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pipeline.api import CallsApiClient
from pipeline.config import Config, parse_config
from pipeline.emulator import Emulator
from pipeline.ledger import open_ledger
from pipeline.load import UploadSummary, run_upload
from tests.conftest import EMULATOR_START_MS, FakeClock, phone


def write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    """A CSV with columns phone,name."""
    lines = ["phone,name", *(f"{p},{name}" for p, name in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass
class Uploader:
    """Runs uploads against the emulator with a fake clock and a recording sleep."""

    emulator: Emulator
    token: str
    tmp_path: Path
    ledger_url: str
    clock: FakeClock = field(
        default_factory=lambda: FakeClock(datetime.fromtimestamp(EMULATOR_START_MS / 1000, UTC))
    )
    sleeps: list[float] = field(default_factory=list)
    upload: dict[str, Any] = field(default_factory=dict)
    api: dict[str, Any] = field(default_factory=dict)
    input: dict[str, Any] = field(default_factory=dict)
    sections: dict[str, Any] = field(default_factory=dict)  # other config sections (dedupe…)
    files: int = 0

    def config(self, **upload: Any) -> Config:
        return parse_config(
            {
                "api": {"base_url": self.emulator.base_url, "timeout_s": 5, **self.api},
                "ledger": {"url": self.ledger_url},
                "columns": {"phone": "phone", "payload": {"name": "name"}},
                "input": {**self.input},
                "upload": {"batch_size": 10, "backoff_base_s": 0.5, **self.upload, **upload},
                **self.sections,
            },
            environ={},
        )

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.clock.advance(seconds)

    def csv(self, n: int, *, start: int = 0, name: str = "A") -> Path:
        self.files += 1
        rows = [(phone(start + i), f"{name}{start + i}") for i in range(n)]
        return write_csv(self.tmp_path / f"input{self.files}.csv", rows)

    def run(
        self,
        *files: Path,
        token: str | None = None,
        client: Callable[[], CallsApiClient] | None = None,
        seed: int = 0,
        new_ledger: bool = False,
        **upload: Any,
    ) -> UploadSummary:
        cfg = self.config(**upload)
        use = token or self.token
        with open_ledger(
            self.ledger_url, clock=self.clock, key_safety_margin_s=cfg.upload.key_safety_margin_s
        ) as ledger:
            return run_upload(
                cfg,
                list(files),
                token=use,
                ledger=ledger,
                client=client or (lambda: CallsApiClient.from_config(cfg, use)),
                clock=self.clock,
                sleep=self.sleep,
                rng=random.Random(seed),
                new_ledger=new_ledger,
            )

    def pass_campaign_check(self, token: str | None = None) -> None:
        """Leave the ledger as a first run against an empty campaign leaves it: checked, so
        the next run's first request is a batch (tests of the send path)."""
        with open_ledger(self.ledger_url, clock=self.clock) as ledger:
            campaign = ledger.campaigns.ensure(token or self.token)
            ledger.campaigns.record_check(campaign.id, total_numbers=0, accepted=False, run_id=None)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows of one SQL query, read from the SQLite ledger file without the ledger's code."""
        path = Path(self.ledger_url.removeprefix("sqlite:///"))
        with closing(sqlite3.connect(path)) as conn:
            return conn.execute(sql).fetchall()

    def add_phones_log(self) -> list[dict[str, Any]]:
        return [e for e in self.emulator.requests_log() if e["path"].endswith("/addPhones")]


@pytest.fixture
def uploader(emulator: Emulator, campaign: dict[str, Any], tmp_path: Path) -> Uploader:
    return Uploader(emulator, campaign["token"], tmp_path, f"sqlite:///{tmp_path / 'l.sqlite3'}")


def jobs_per_phone(emulator: Emulator, campaign_id: int) -> dict[str, int]:
    """How many jobs each phone has in the campaign."""
    counts: dict[str, int] = {}
    for job in emulator.jobs(campaign_id):
        counts[job["phone"]] = counts.get(job["phone"], 0) + 1
    return counts
