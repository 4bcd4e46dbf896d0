"""The ``input:`` config section and ReadOptions built from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import load_config, parse_config
from pipeline.errors import ConfigError
from pipeline.extract import ReadOptions

EXAMPLE = Path(__file__).resolve().parents[2] / "configs" / "example.yaml"


def test_defaults_detect_everything() -> None:
    options = ReadOptions.from_config(parse_config({}).input)
    assert options == ReadOptions()
    assert (options.encoding, options.delimiter, options.sheet) == ("auto", "auto", None)


def test_example_config_documents_the_defaults() -> None:
    assert load_config(EXAMPLE, environ={}).input == parse_config({}).input


def test_overrides_reach_the_reader_options() -> None:
    cfg = parse_config(
        {"input": {"encoding": "cp1251", "delimiter": ";", "sheet": "Данные", "chunk_size": 500}}
    )
    options = ReadOptions.from_config(cfg.input)
    assert (options.encoding, options.delimiter, options.sheet) == ("cp1251", ";", "Данные")
    assert options.chunk_size == 500


def test_tab_may_be_written_as_a_word_and_sheet_as_an_index() -> None:
    cfg = parse_config({"input": {"delimiter": "tab", "sheet": 1, "xlsx_engine": "openpyxl"}})
    assert (cfg.input.delimiter, cfg.input.sheet, cfg.input.xlsx_engine) == ("\t", 1, "openpyxl")


@pytest.mark.parametrize(
    "section",
    [{"encoding": "latin-1"}, {"delimiter": ":"}, {"sheet": -1}, {"chunk_size": 0}, {"sheets": 1}],
)
def test_bad_values_are_config_errors_naming_the_key(section: dict[str, object]) -> None:
    with pytest.raises(ConfigError, match=r"input\."):
        parse_config({"input": section})


def test_read_options_refuse_values_the_readers_do_not_know() -> None:
    with pytest.raises(ValueError, match="encoding"):
        ReadOptions(encoding="latin-1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="chunk_size"):
        ReadOptions(chunk_size=0)
