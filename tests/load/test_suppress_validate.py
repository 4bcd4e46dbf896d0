"""``validate`` rejects rows whose phone is on a do-not-call list — the config's files and a
local SQLite ledger's list, read without writing — the same way in one process, in several,
and the row way upload reads; a PostgreSQL ledger is not read (no network in a dry run)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest

import pipeline
from pipeline.config import parse_config
from pipeline.errors import ConfigError
from pipeline.front.checking import suppressed_phones
from pipeline.ledger import open_ledger
from pipeline.load.dryrun import run_validate, run_validate_rows

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _export(path: Path, n: int) -> Path:
    lines = ["phone,name", *(f"8916{i:07d},N{i}" for i in range(n))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _config(tmp_path: Path, ledger_url: str, files: list[str]) -> pipeline.Config:
    return parse_config(
        {
            "ledger": {"url": ledger_url},
            "columns": {"phone": "phone", "payload": {"name": "name"}},
            "suppress": {"files": files},
        },
        environ={},
    )


def test_listed_phones_are_rejected_in_every_way_validate_reads(tmp_path: Path) -> None:
    export = _export(tmp_path / "export.csv", 30_000)
    dnc = tmp_path / "dnc.csv"
    dnc.write_text("phone\n+7 916 000-00-07\n89160029999\n", encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    with open_ledger(url) as ledger:
        ledger.suppressions.add(["79160000011"], by="ops")
        ledger.suppressions.add(["79160000012"], by="ops")
        ledger.suppressions.remove(["79160000012"], by="ops")  # taken off: called again
    cfg = _config(tmp_path, url, [str(dnc)])
    before = (tmp_path / "ledger.sqlite3").stat().st_mtime_ns
    rejects = tmp_path / "rejects.csv"
    report = pipeline.validate(cfg, export, rejects=rejects, now=NOW)
    assert (tmp_path / "ledger.sqlite3").stat().st_mtime_ns == before  # read only
    assert report.reasons["suppressed"] == report.rejected == 3
    with rejects.open(encoding="utf-8-sig") as fh:  # every CSV we write has a BOM
        listed = [line for line in csv.DictReader(fh) if "suppressed" in str(line)]
    assert sorted(line["phone"] for line in listed) == [
        "89160000007",
        "89160000011",
        "89160029999",
    ]
    phones = suppressed_phones(cfg)
    assert phones is not None
    rows = run_validate_rows(cfg, export, now=NOW, suppressed=phones)
    several = run_validate(cfg, export, now=NOW, workers=2, suppressed=phones)
    for other in (rows, several):
        assert (other.accepted, other.rejected, other.reasons) == (
            report.accepted,
            report.rejected,
            report.reasons,
        )


def test_no_ledger_file_is_created_and_a_postgres_ledger_is_not_read(tmp_path: Path) -> None:
    export = _export(tmp_path / "export.csv", 10)
    missing = tmp_path / "none.sqlite3"
    report = pipeline.validate(_config(tmp_path, f"sqlite:///{missing}", []), export, now=NOW)
    assert report.rejected == 0 and not missing.exists()
    far = _config(tmp_path, "postgresql+psycopg://nobody@192.0.2.1/none", [])
    assert pipeline.validate(far, export, now=NOW).rejected == 0  # nothing was dialled


def test_a_malformed_list_names_the_file_and_row(tmp_path: Path) -> None:
    export = _export(tmp_path / "export.csv", 3)
    dnc = tmp_path / "dnc.csv"
    dnc.write_text("phone\n79160000001\nabc\n", encoding="utf-8")
    cfg = _config(tmp_path, f"sqlite:///{tmp_path / 'l.sqlite3'}", [str(dnc)])
    with pytest.raises(ConfigError, match=r"dnc\.csv row 2"):
        pipeline.validate(cfg, export, now=NOW)
