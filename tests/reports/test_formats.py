"""The one place that decides an output's format, delimiter and BOM (reports/formats.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import Config
from pipeline.errors import ExitCode, OutputFormatError
from pipeline.records import SourceInfo
from pipeline.reports.formats import OutputFormat, choose_format, stream_format

SEMICOLON = SourceInfo(path="x.csv", format="csv", header=("a",), delimiter=";")
XLSX = SourceInfo(path="x.xlsx", format="xlsx", header=("a",), sheet="S")


@pytest.mark.parametrize(
    ("name", "setting", "source", "expected"),
    [
        ("r.csv", "auto", SEMICOLON, OutputFormat("csv", ";")),  # the input's own
        ("r.CSV", "auto", SEMICOLON, OutputFormat("csv", ";")),
        ("r.txt", "auto", SEMICOLON, OutputFormat("csv", ";")),
        ("r.csv", "auto", XLSX, OutputFormat("csv", ",")),  # no CSV to copy: RFC 4180
        ("r.csv", "auto", None, OutputFormat("csv", ",")),
        ("r.csv", ";", None, OutputFormat("csv", ";")),  # configured
        ("r.csv", ",", SEMICOLON, OutputFormat("csv", ",")),  # configured wins
        ("r.tsv", ";", SEMICOLON, OutputFormat("csv", "\t")),  # the suffix is explicit
        ("r.xlsx", "auto", SEMICOLON, OutputFormat("xlsx")),
        ("r.jsonl", "auto", None, OutputFormat("jsonl")),
        ("r.ndjson", "auto", None, OutputFormat("jsonl")),
        ("r.json", "auto", None, OutputFormat("json")),
    ],
)
def test_the_suffix_names_the_format_and_auto_copies_the_input(
    name: str, setting: str, source: SourceInfo | None, expected: OutputFormat
) -> None:
    fmt = choose_format(Path(name), delimiter=setting, source=source)
    assert fmt == expected
    assert fmt.bom == (fmt.kind == "csv")  # every CSV file starts with a BOM


@pytest.mark.parametrize("name", ["results.pdf", "results", "results.xls", "r.xlsm", "r.csv.gz"])
def test_other_suffixes_are_refused_with_the_usage_exit_code(name: str) -> None:
    with pytest.raises(OutputFormatError, match=r"\.csv, \.tsv, \.txt, \.xlsx, \.jsonl or \.json"):
        choose_format(Path(name))
    assert OutputFormatError.exit_code == ExitCode.USAGE == 2


def test_a_stream_is_csv_without_bom() -> None:
    assert stream_format(delimiter=";") == OutputFormat("csv", ";", "utf-8")
    assert not stream_format().bom


@pytest.mark.parametrize(
    ("written", "value"), [("auto", "auto"), (";", ";"), ("tab", "\t"), ("\\t", "\t"), ("\t", "\t")]
)
def test_reports_delimiter_accepts_tab_spelled_three_ways(written: str, value: str) -> None:
    assert Config.model_validate({"reports": {"delimiter": written}}).reports.delimiter == value


def test_reports_delimiter_refuses_others() -> None:
    with pytest.raises(ValueError, match="delimiter"):
        Config.model_validate({"reports": {"delimiter": "|"}})
