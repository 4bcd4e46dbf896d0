"""`results --out` as an operator names it: the suffix picks the format, a CSV keeps the
source's delimiter with a BOM (or reports.delimiter), JSON is JSON, and a suffix that names
no format is refused (exit 2) before any request or ledger write."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from pipeline.emulator import Emulator
from tests.conftest import phone
from tests.results.support import Operator

BOM = b"\xef\xbb\xbf"


def _semicolon_export(op: Operator) -> Path:
    """A Russian Excel export: ';'-separated, cp1251 (no BOM), Cyrillic names."""
    path = op.tmp_path / "crm.csv"
    lines = ["phone;name;note", *(f"{phone(i)};Иванов {i};n" for i in range(3))]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1251"))
    return path


def test_a_suffix_that_names_no_format_is_refused_before_any_request(
    op: Operator, emulator: Emulator, tmp_path: Path
) -> None:
    run = op.upload(op.csv("a.csv", [(phone(1), "A", "n")]))
    before = len(emulator.requests_log())
    runs = op.sql("SELECT count(*) FROM runs")[0][0]
    for name in ("results.pdf", "results"):
        result = op.invoke("results", "--run", str(run), "--out", str(tmp_path / name))
        assert result.exit_code == 2, result.output
        assert ".csv, .tsv, .txt, .xlsx, .jsonl or .json" in result.output
    assert len(emulator.requests_log()) == before  # no report was fetched
    assert op.sql("SELECT count(*) FROM runs")[0][0] == runs  # no results run recorded
    assert not (tmp_path / "results.pdf").exists()


def test_csv_results_keep_the_sources_semicolon_and_carry_a_bom(
    op: Operator, tmp_path: Path
) -> None:
    source = _semicolon_export(op)
    run = op.upload(source)
    out = tmp_path / "results.csv"
    result = op.invoke("results", "--run", str(run), "--source", str(source), "--out", str(out))
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data.startswith(BOM)
    with out.open(encoding="utf-8-sig", newline="") as fh:
        lines = list(csv.DictReader(fh, delimiter=";"))
    assert [r["name"] for r in lines] == [f"Иванов {i}" for i in range(3)]
    assert [r["result_state"] for r in lines] == ["sent"] * 3


def test_reports_delimiter_applies_without_a_source(op: Operator, tmp_path: Path) -> None:
    run = op.upload(op.csv("a.csv", [(phone(1), "A", "n")]))
    out = tmp_path / "results.txt"
    assert op.invoke("results", "--run", str(run), "--out", str(out)).exit_code == 0
    assert out.read_bytes().startswith(BOM + b"payload.name,payload.note,file,")  # auto: ","
    text = op.config.read_text(encoding="utf-8")
    op.config.write_text(
        text.replace("'Europe/Moscow'}", "'Europe/Moscow', delimiter: ';'}"), encoding="utf-8"
    )
    assert op.invoke("results", "--run", str(run), "--out", str(out)).exit_code == 0
    assert out.read_bytes().startswith(BOM + b"payload.name;payload.note;file;")


def test_jsonl_and_json_results_are_typed_objects(
    op: Operator, emulator: Emulator, tmp_path: Path
) -> None:
    run = op.upload(op.csv("a.csv", [(phone(1), "A", "n"), ("123", "Bad", "x")]))
    emulator.advance(8 * 3600)
    jsonl, array = tmp_path / "r.jsonl", tmp_path / "r.json"
    for out in (jsonl, array):
        result = op.invoke("results", "--run", str(run), "--attempts", "--out", str(out))
        assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    objects = json.loads(array.read_bytes())  # the same objects, in one JSON document
    for line in (*lines, *objects):
        line.pop("fetched_at")  # each results run fetched again, a second apart or so
    assert objects == lines
    sent, rejected = lines
    assert sent["row"] == 1 and sent["phone"] == phone(1) and isinstance(sent["job_id"], str)
    assert isinstance(sent["attempts"], int) and sent["finished_at"].endswith("+03:00")
    assert rejected["state"] == "rejected" and rejected["job_id"] is None
    assert not jsonl.read_bytes().startswith(BOM)
