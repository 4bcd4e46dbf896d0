"""What the results and cancel tests share: a config file pointing at the emulator, a real
SQLite ledger file, CSV inputs, and the CLI invoked as an operator would (CliRunner, token in
the environment).

Usage::

    op = Operator(emulator, campaign["token"], tmp_path)
    run_id = op.upload(op.csv("a.csv", [("79160000001", "Anna", "n")]))
    result = op.invoke("results", "--run", str(run_id), "--out", str(tmp_path / "r.csv"))

    @pytest.fixture(params=BACKENDS)               # the same test on SQLite and PostgreSQL
    def op_each(request, emulator, campaign, tmp_path) -> Iterator[Operator]:
        yield from operators(request.param, emulator, campaign["token"], tmp_path)
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from click.testing import CliRunner, Result

from pipeline.cli.main import cli
from pipeline.emulator import Emulator
from tests.conftest import postgres_database

BACKENDS = ["sqlite", "postgresql"]


def read_csv(path: Path) -> list[dict[str, str]]:
    """A results file written as CSV, one dict per line."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@dataclass
class Operator:
    """Runs the CLI against the emulator with one config and one ledger file."""

    emulator: Emulator
    token: str
    tmp_path: Path
    timezone: str = "Europe/Moscow"
    ledger_url: str = ""
    upload_section: str = "{batch_size: 10}"  # the config's upload: section (retries too)

    def __post_init__(self) -> None:
        if not self.ledger_url:
            self.ledger_url = f"sqlite:///{self.tmp_path / 'ledger.sqlite3'}"
        self.config = self.tmp_path / "config.yaml"
        self.config.write_text(
            "version: 1\n"
            f"api: {{base_url: '{self.emulator.base_url}', timeout_s: 5}}\n"
            f"ledger: {{url: '{self.ledger_url}'}}\n"
            "columns:\n"
            "  phone: phone\n"
            "  payload: {name: name, note: note}\n"
            f"upload: {self.upload_section}\n"
            f"reports: {{timezone: '{self.timezone}'}}\n",
            encoding="utf-8",
        )

    def invoke(self, *args: str, input: str | None = None) -> Result:
        """``jaicp-pipeline ARGS --config CONFIG`` with JAICP_TOKEN set."""
        return CliRunner().invoke(
            cli,
            [*args, "--config", str(self.config)],
            env={"JAICP_TOKEN": self.token},
            input=input,
        )

    def csv(self, name: str, rows: list[tuple[str, str, str]]) -> Path:
        """A CSV with the columns phone,name,note."""
        path = self.tmp_path / name
        lines = ["phone,name,note", *(",".join(r) for r in rows)]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def upload(self, path: Path) -> int:
        """Upload ``path`` through the CLI; return the run id the ledger gave it."""
        result = self.invoke("upload", str(path))
        assert result.exit_code == 0, result.output
        return int(self.sql("SELECT max(id) FROM runs WHERE command = 'upload'")[0][0])

    def sql(self, query: str, **params: Any) -> list[tuple[Any, ...]]:
        """Read the ledger directly (what an operator's sqlite3 would show)."""
        engine = sa.create_engine(self.ledger_url)
        try:
            with engine.connect() as conn:
                return [tuple(r) for r in conn.execute(sa.text(query), params)]
        finally:
            engine.dispose()


def operators(
    backend: str, emulator: Emulator, token: str, tmp_path: Path, **options: Any
) -> Iterator[Operator]:
    """One Operator whose ledger is a SQLite file or a fresh PostgreSQL database.

    The PostgreSQL database is created at 127.0.0.1:5432 and dropped after the test (skipped
    when the server is unreachable, failed under ``JAICP_REQUIRE_POSTGRES=1``).
    """
    if backend == "sqlite":
        yield Operator(emulator, token, tmp_path, **options)
        return
    for url in postgres_database():
        yield Operator(emulator, token, tmp_path, ledger_url=url, **options)
