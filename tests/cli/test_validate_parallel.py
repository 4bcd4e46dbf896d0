"""``validate`` in several processes gives the same counts and byte-identical outputs as one.

Real files and real forked workers: the sample files, and a generated CSV whose records hold
quoted line breaks, literal quotes, blank and over-long records, and duplicates on both sides
of every cut point; broken quoting in a worker's range fails with the same message.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli.main import cli
from pipeline.config import Config, load_config
from pipeline.errors import InputFileError
from pipeline.extract import ReadOptions, open_table
from pipeline.extract.csv_reader import CsvTable
from pipeline.extract.ranges import plan_ranges
from pipeline.load.dryrun import ValidateSummary, choose_workers, run_validate, run_validate_rows

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_data"
HERE = Path(__file__).parent
NOW = datetime(2026, 1, 1, tzinfo=UTC)

CASES = [
    ("bitrix24_export.csv", ROOT / "configs" / "bitrix24.yaml"),
    ("bad_phones.csv", HERE / "validate_samples.yaml"),
    ("duplicates.csv", HERE / "validate_debt.yaml"),
    ("blank_rows.csv", HERE / "validate_samples.yaml"),
    ("xlsx_numeric_phones.xlsx", HERE / "validate_xlsx.yaml"),
]


def _run(
    config: Config, path: Path, folder: Path, workers: int
) -> tuple[ValidateSummary, dict[str, bytes]]:
    folder.mkdir()
    suffix = ".xlsx" if path.suffix == ".xlsx" else ".csv"
    outputs = {
        "accepted": folder / "accepted.csv",
        "rejects": folder / f"rejects{suffix}",
        "batches": folder / "batches",
    }
    if workers == 0:  # the row way, as upload reads: the reference for every other way
        summary = run_validate_rows(
            config,
            path,
            now=NOW,
            accepted=outputs["accepted"],
            rejects=outputs["rejects"],
            batches=outputs["batches"],
        )
    else:
        summary = run_validate(
            config,
            path,
            now=NOW,
            workers=workers,
            accepted=outputs["accepted"],
            rejects=outputs["rejects"],
            batches=outputs["batches"],
        )
    files = {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.suffix != ".xlsx"  # an XLSX zip stores its write time
    }
    return summary, files


def _assert_same(config: Config, path: Path, tmp_path: Path, workers: int) -> ValidateSummary:
    serial, serial_files = _run(config, path, tmp_path / "rows", 0)
    for count in sorted({1, workers}):  # one process takes the range way too, for a CSV
        parallel, parallel_files = _run(config, path, tmp_path / f"w{count}", count)
        assert parallel == serial
        assert parallel_files == serial_files
    counts = run_validate(config, path, now=NOW, workers=workers)  # no outputs: counting mode
    counts.batches = serial.batches
    assert counts == serial
    return serial


@pytest.mark.parametrize(("sample", "config"), CASES)
def test_samples_give_the_same_results_in_several_processes(
    sample: str, config: Path, tmp_path: Path
) -> None:
    _assert_same(load_config(config, environ={}), SAMPLES / sample, tmp_path, workers=3)


_CELLS = ["Иванов", 'say "hi"', "a;b", "line one\nline two", "", " ", "x\r\ny", 'lit"eral']
_PHONES = ["+7 916 {n}", "8 (916) {n}", "7916{n}", "bad{n}", "7,91612E+10", "", "916{n}"]


def _generated(path: Path, rows: int, seed: int) -> None:
    rnd = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["phone", "name", "debt"])
    for i in range(rows):
        kind = rnd.random()
        if kind < 0.05:
            writer.writerow(["", "", ""])  # a blank record
        elif kind < 0.08:
            writer.writerow(["79160001234", "x", "1", "surplus"])  # a cell beyond the header
        elif kind < 0.10:
            writer.writerow(["79160001234"])  # a short record
        else:
            # few distinct phones and names: many duplicates, in every range
            phone = rnd.choice(_PHONES).format(n=f"{rnd.randrange(40):07d}")
            writer.writerow([phone, rnd.choice(_CELLS), str(rnd.randrange(3))])
        if i % 97 == 0:
            out.write('79160000001;lit"eral;1\r\n')  # a literal quote in an unquoted field
    path.write_bytes(out.getvalue().encode("utf-8"))


@pytest.mark.parametrize("workers", [2, 3, 5])
def test_generated_file_with_quoted_line_breaks_and_duplicates_across_cuts(
    workers: int, tmp_path: Path
) -> None:
    path = tmp_path / "export.csv"
    _generated(path, 3000, seed=workers)
    with open_table(path, ReadOptions()) as table:
        assert isinstance(table, CsvTable)
        parts = plan_ranges(path, table.info, table.data_line, workers)
    assert parts is not None and len(parts) == workers  # the parallel path really runs
    config = load_config(HERE / "validate_debt.yaml", environ={})
    serial = _assert_same(config, path, tmp_path, workers)
    assert serial.duplicate > 100 and serial.rejected > 100 and serial.accepted > 10


def test_broken_quoting_in_a_workers_range_fails_as_in_one_process(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    _generated(path, 2000, seed=1)
    path.write_bytes(path.read_bytes() + b'79160000001;"never closed;1\r\n79160000002;a;1\r\n')
    config = load_config(HERE / "validate_debt.yaml", environ={})
    messages = []
    for workers in (1, 3):
        with pytest.raises(InputFileError) as err:
            run_validate(config, path, now=NOW, workers=workers)
        messages.append(str(err.value))
    assert messages[0] == messages[1]
    assert "the CSV quoting is broken" in messages[0]


def test_missing_columns_are_reported_before_any_worker_starts(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    _generated(path, 500, seed=2)
    config = tmp_path / "c.yaml"
    config.write_text("version: 1\ncolumns:\n  phone: mobile\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["validate", "--config", str(config), str(path), "--workers", "2"]
    )
    assert result.exit_code == 6
    assert "columns.phone ('mobile')" in result.output


def test_worker_count_is_chosen_from_the_option_the_environment_and_the_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = tmp_path / "small.csv"
    small.write_bytes(b"phone\n1\n")
    big = tmp_path / "big.csv"
    big.write_bytes(b"phone\n" + b"79160000001\n" * 400_000)  # 4.8 MB
    monkeypatch.delenv("JAICP_WORKERS", raising=False)
    assert choose_workers(small, None) == 1
    assert choose_workers(big, None) >= 1
    assert choose_workers(small, 3) == 3
    monkeypatch.setenv("JAICP_WORKERS", "2")
    assert choose_workers(small, None) == 2
    assert choose_workers(small, 1) == 1  # the option wins
    monkeypatch.setenv("JAICP_WORKERS", "many")
    with pytest.raises(Exception, match="JAICP_WORKERS='many' is not a whole number"):
        choose_workers(small, None)
