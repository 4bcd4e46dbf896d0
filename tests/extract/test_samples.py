"""Every file in sample_data/ reads exactly as its expected/<file>.rows.json says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipeline.extract import ReadOptions
from tests.extract.helpers import read_all

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"
EXPECTED = sorted((SAMPLES / "expected").glob("*.rows.json"))


def _read_as_document(path: Path, options: ReadOptions) -> dict[str, Any]:
    info, rows, extra = read_all(path, options)
    return {
        "file": path.name,
        "format": info.format,
        "encoding": info.encoding,
        "delimiter": info.delimiter,
        "sheet": info.sheet,
        "header_row": info.header_row,
        "header": list(info.header),
        "extra": {str(k): v for k, v in extra.items()},
        "rows": [{"row": n, "cells": cells} for n, cells in rows],
    }


def test_every_sample_has_an_expected_file() -> None:
    samples = {p.name for p in SAMPLES.iterdir() if p.suffix in (".csv", ".tsv", ".xlsx")}
    assert samples == {p.name.removesuffix(".rows.json") for p in EXPECTED}
    assert len(samples) >= 12


def _cases() -> list[tuple[Path, str]]:
    cases = []
    for expected in EXPECTED:
        is_workbook = expected.name.split(".rows")[0].endswith(".xlsx")
        # Workbooks are read by both engines: the fallback must give the same text.
        for engine in ("calamine", "openpyxl") if is_workbook else ("auto",):
            cases.append((expected, engine))
    return cases


@pytest.mark.parametrize(
    ("expected_file", "engine"),
    _cases(),
    ids=lambda v: v.name.split(".rows")[0] if isinstance(v, Path) else v,
)
def test_sample_reads_as_expected(expected_file: Path, engine: str) -> None:
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    path = SAMPLES / expected["file"]
    # The data of the two-sheet sample is on the second sheet: choose it by name here (by
    # index in test_xlsx); every other sample uses detection and the first sheet.
    sheet = expected["sheet"] if path.name == "xlsx_two_sheets.xlsx" else None
    options = ReadOptions(sheet=sheet, xlsx_engine=engine)  # type: ignore[arg-type]
    assert _read_as_document(path, options) == expected
