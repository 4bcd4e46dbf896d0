"""``validate`` rejects rows whose phone is on a do-not-call list — the config's files and a
local SQLite ledger's list, read without writing — the same way in one process, in several,
and the row way upload reads; a PostgreSQL ledger is not read (no network in a dry run)."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest

import pipeline
from pipeline.config import parse_config
from pipeline.errors import ConfigError
from pipeline.front.checking import suppressed_phones
from pipeline.ledger import open_ledger
from pipeline.load.dryrun import ValidateSummary, run_validate, run_validate_rows
from pipeline.records import RowChunk
from pipeline.transform.assembly import RowTransformer
from pipeline.transform.listed_rows import SUPPRESSED_MESSAGE

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


# (cells, verdict without a list, verdict with 79160000001 and 79160000002 listed): a listed
# row is `suppressed` (naming the column its number came from) after the shape check and
# before any payload problem; rows that repeat a listed row are listed themselves.
ROWS = [
    ("89160000001,,A,1", None, ("phone", "suppressed")),
    ("89160000003,,B,2", None, None),
    ("89160000002,,,3", ("name", "payload_missing"), ("phone", "suppressed")),
    ("нет,+7 916 000 00 02,D,4", None, ("work", "suppressed")),
    ("89160000001,,E,5,spill", (None, "extra_cells"), (None, "extra_cells")),
    ("12,,F,6", ("phone", "phone_too_short"), ("phone", "phone_too_short")),
    ("89160000001,,A,1", ("duplicate", 1), ("phone", "suppressed")),
    ("89160000004,,H,x", ("debt", "payload_invalid"), ("debt", "payload_invalid")),
    (",,,", (None, "empty_row"), (None, "empty_row")),
    ("89160000003,,B,2", ("duplicate", 2), ("duplicate", 2)),
]


def _verdicts(rejects: Path) -> dict[int, tuple[str | None, str | int]]:
    with rejects.open(encoding="utf-8") as fh:
        got: dict[int, tuple[str | None, str | int]] = {}
        for line in csv.DictReader(fh):
            if line["reason"] == "duplicate":
                got[int(line["row"])] = ("duplicate", int(line["duplicate_of"]))
            else:
                got[int(line["row"])] = (line["column"] or None, line["reason"])
    return got


def test_listed_rows_leave_the_fast_lane_with_the_row_paths_verdicts(tmp_path: Path) -> None:
    """Listed rows are rejected in bulk before the other rows are classified column-wise;
    their verdicts, reason text and row numbers are those the row-by-row checks give (the
    expectations here are written out by hand, in the row path's order of checks), in one
    process, several, the row way, and whatever the chunk boundaries."""
    export = tmp_path / "export.csv"
    export.write_text(
        "phone,work,name,debt\n" + "".join(cells + "\n" for cells, *_ in ROWS), encoding="utf-8"
    )
    cfg = parse_config(
        {
            "ledger": {"url": f"sqlite:///{tmp_path / 'none.sqlite3'}"},
            "columns": {
                "phone": ["phone", "work"],
                "payload": {
                    "name": {"column": "name", "required": True},
                    "debt": {"column": "debt", "type": "int"},
                },
            },
            "dedupe": {"key": "phone"},
        },
        environ={},
    )
    plain = run_validate(cfg, export, now=NOW, rejects=tmp_path / "plain.csv")
    expected = {n: v for n, (_, v, _) in enumerate(ROWS, start=1) if v is not None}
    assert _verdicts(tmp_path / "plain.csv") == expected, plain.reasons
    listed = frozenset({"79160000001", "79160000002"})
    expected = {n: v for n, (_, _, v) in enumerate(ROWS, start=1) if v is not None}
    outputs = []
    ways: dict[str, Callable[..., ValidateSummary]] = {
        "one": partial(run_validate, workers=1),
        "rows": run_validate_rows,
        "two": partial(run_validate, workers=2),
    }
    for name, run in ways.items():
        out = tmp_path / f"{name}.csv"
        summary = run(cfg, export, now=NOW, rejects=out, suppressed=listed)
        assert _verdicts(out) == expected, name
        assert summary.reasons["suppressed"] == 4
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] == outputs[2]
    with (tmp_path / "one.csv").open(encoding="utf-8") as fh:
        texts = {line["message"] for line in csv.DictReader(fh) if line["reason"] == "suppressed"}
    assert texts == {SUPPRESSED_MESSAGE}
    assert SUPPRESSED_MESSAGE == (
        "the phone is on the do-not-call list (suppress.files or the ledger's list)"
    )
    # chunks of 1, 3 and 10 rows: a listed row first, last or alone in its chunk
    header = ["phone", "work", "name", "debt"]
    cells = [line.split(",") for line, *_ in ROWS]
    for size in (1, 3, 10):
        rows = RowTransformer(cfg, header, now=NOW, suppressed=listed)
        got: dict[int, tuple[str | None, str | int]] = {}
        for start in range(0, len(cells), size):
            part = cells[start : start + size]
            numbers = list(range(start + 1, start + 1 + len(part)))
            extra = {n: c[4:] for n, c in zip(numbers, part, strict=True) if len(c) > 4}
            result = rows.transform(RowChunk(numbers, [c[:4] for c in part], extra))
            got.update((r.row, (r.column, r.code)) for r in result.rejections)
            got.update((d.row, ("duplicate", d.duplicate_of)) for d in result.duplicates)
            assert [r.row for r in result.rejections] == sorted(r.row for r in result.rejections)
        assert got == expected, size
