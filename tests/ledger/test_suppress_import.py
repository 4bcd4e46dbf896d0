"""``suppress import`` in bulk, on SQLite and PostgreSQL: the phones of a list file are
normalised exactly as validate normalises rows, written in one streamed transaction (a bad
cell deep in the file adds nothing), with who/when/why/source, never deleting history, and a
re-import of the same file adds nothing."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest

import pipeline
from pipeline.config import Config, parse_config
from pipeline.errors import ConfigError, LedgerError
from pipeline.front.suppressing import DoNotCall
from pipeline.ledger import Ledger
from pipeline.load.dryrun import run_validate
from pipeline.load.phone_lists import phone_chunks, read_phone_list

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# The same numbers (and some that are none) in the forms CRM exports write them.
FORMS = [
    "8 (916) 123-45-67",
    "+7 916 123 45 67",
    "79161234568",
    "89161234569",
    "+7(916)1234570",
    "916-123-45-71",
    "8-916-123-45-72 ",
    "\t+79161234573",
    "+7 495 123-45-67",  # a Moscow landline
    "+7 (812) 123-45-67",  # St Petersburg
    "+49 30 901820",  # Berlin, allowed by the default policy
    "8\u00a0916\u00a0123\u00a045\u00a074",  # no-break spaces, as Excel copies them
    "+380 44 123 4567",
    "7.916.123.45.75",
]


def _config(ledger_url: str, files: list[str] | None = None) -> Config:
    return parse_config(
        {
            "ledger": {"url": ledger_url},
            "columns": {"phone": "phone", "payload": {"name": "name"}},
            "suppress": {"files": files or []},
        },
        environ={},
    )


def _lines(path: Path, cells: list[str], *, header: str = "phone") -> Path:
    # quoted: a form may hold the delimiter's neighbours (tabs, dots), never a quote
    path.write_text(header + "\n" + "".join(f'"{c}"\n' for c in cells), encoding="utf-8")
    return path


def test_list_phones_are_normalised_exactly_as_validate_normalises_rows(
    ledger: Ledger, ledger_url: str, tmp_path: Path
) -> None:
    export = tmp_path / "export.csv"
    export.write_text(
        "phone,name\n" + "".join(f'"{c}",N{i}\n' for i, c in enumerate(FORMS)), encoding="utf-8"
    )
    cfg = _config(ledger_url)
    accepted = tmp_path / "accepted.csv"
    report = run_validate(cfg, export, now=NOW, accepted=accepted)
    assert report.rejected == 0, report.reasons  # every form is a valid phone
    with accepted.open(encoding="utf-8") as fh:
        as_rows = {line["phone"] for line in csv.DictReader(fh)}
    assert len(as_rows) == 13  # the first two forms are one number
    dnc = _lines(tmp_path / "dnc.csv", FORMS)
    assert read_phone_list(dnc, cfg) == as_rows
    assert DoNotCall(cfg, ledger).import_file(dnc) == len(as_rows)
    assert {e.phone for e in ledger.suppressions.entries()} == as_rows
    # and the file named in the config stops every row of the export
    listed = pipeline.validate(_config(ledger_url, [str(dnc)]), export, now=NOW)
    assert listed.reasons["suppressed"] == listed.rows_read == len(FORMS)


def test_import_keeps_who_when_why_and_a_reimport_adds_nothing(
    ledger: Ledger, ledger_url: str, tmp_path: Path
) -> None:
    cells = [f"8916{n:07d}" for n in range(120_000)]
    dnc = _lines(tmp_path / "dnc.csv", [*cells, cells[5], "", "+7 916 000-00-07"])
    dnc_list = DoNotCall(_config(ledger_url), ledger)
    ledger.suppressions.add(["79160000003"], by="ann", reason="asked")  # on the list already
    added = dnc_list.import_file(dnc, by="bot", reason="CRM list")
    assert added == len(cells) - 1  # repeats and the phone listed before count once
    assert dnc_list.import_file(dnc, by="bot") == 0  # the same file again: nothing new
    entries = ledger.suppressions.entries()
    assert len(entries) == len(cells)
    first, imported = entries[0], entries[1]
    assert (first.phone, first.added_by, first.reason) == ("79160000003", "ann", "asked")
    assert (imported.added_by, imported.reason, imported.source) == ("bot", "CRM list", "file")
    assert imported.added_at == ledger.suppressions.entries()[-1].added_at
    # taken off, then imported again: listed anew, and the old entry stays as history
    ledger.suppressions.remove(["79160000003", "79160000004"], by="ann", reason="consent")
    assert dnc_list.import_file(dnc, by="bot") == 2
    history = ledger.suppressions.entries(history=True, phone="79160000004")
    assert [(e.removed_by, e.source) for e in history] == [("ann", "file"), (None, "file")]


def test_a_bad_cell_deep_in_the_file_adds_nothing(
    ledger: Ledger, ledger_url: str, tmp_path: Path
) -> None:
    cells = [f"8916{n:07d}" for n in range(150_000)]
    dnc = _lines(tmp_path / "dnc.csv", [*cells, "7,91612E+10"])
    with pytest.raises(ConfigError, match=r"dnc\.csv row 150001 \(after the header\)") as err:
        DoNotCall(_config(ledger_url), ledger).import_file(dnc)
    # the message speaks of the import, not of an upload or the config's list files
    assert str(err.value).startswith("suppress import: ")
    assert "nothing was added to the list" in str(err.value)
    assert ledger.suppressions.entries(history=True) == []


def test_the_file_is_streamed_in_chunks_and_only_digits_are_taken(
    ledger: Ledger, ledger_url: str, tmp_path: Path
) -> None:
    dnc = _lines(tmp_path / "dnc.csv", [f"8916{n:07d}" for n in range(150_000)])
    sizes = [len(chunk) for chunk in phone_chunks(dnc, _config(ledger_url))]
    assert len(sizes) > 1 and sum(sizes) == 150_000  # written while the file is still read
    with pytest.raises(LedgerError, match="normalised phones"):
        ledger.suppressions.import_chunks([["79160000001", "+79160000002"]], by="x")
    assert ledger.suppressions.entries() == []


def test_a_list_without_header_and_a_workbook_list_read_the_same(tmp_path: Path) -> None:
    from openpyxl import Workbook

    cfg = _config(f"sqlite:///{tmp_path / 'none.sqlite3'}")
    bare = tmp_path / "bare.csv"
    bare.write_text("8 916 000-00-01\n+79160000002\n\n79160000003\n", encoding="utf-8")
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (["Name", "Phone"], ["A", 79160000001], ["B", "+7 916 000-00-02"], ["", ""]):
        sheet.append(row)
    sheet.append(["C", "8 (916) 000-00-03"])
    book.save(tmp_path / "list.xlsx")
    wanted = {"79160000001", "79160000002", "79160000003"}
    assert read_phone_list(bare, cfg) == wanted
    assert read_phone_list(tmp_path / "list.xlsx", cfg) == wanted
