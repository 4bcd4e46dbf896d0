"""The rejects file: original columns plus reasons, in the input's own format."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from pipeline.errors import OutputFormatError
from pipeline.extract import ReadOptions
from pipeline.records import Duplicate, Rejection, SourceInfo
from pipeline.reports import REASON_COLUMNS, RejectsWriter
from tests.extract.helpers import read_all

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"


def _rows_of(path: Path, options: ReadOptions | None = None) -> dict[int, list[str]]:
    return dict(read_all(path, options)[1])


def test_csv_input_gets_a_csv_in_its_delimiter_as_utf8_with_bom(tmp_path: Path) -> None:
    # A cp1251 ";" export (Russian Excel): the rejects keep ";" and are UTF-8 with BOM, which
    # Excel opens with Cyrillic intact and which can hold characters cp1251 cannot.
    source, rows, _ = read_all(SAMPLES / "cp1251_semicolon.csv")
    out = tmp_path / "rejects.csv"
    with RejectsWriter(out, source) as rejects:
        rejects.add_rejection(rows[1][1], Rejection(2, "Телефон", "phone_invalid", "неверный"))
        rejects.add_duplicate(rows[2][1], Duplicate(row=3, duplicate_of=1))
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    info, back, _ = read_all(out)
    assert (info.encoding, info.delimiter) == ("utf-8-sig", ";")
    assert list(info.header) == [*source.header, *REASON_COLUMNS]
    assert back == [
        (1, [*rows[1][1], "2", "phone_invalid", "Телефон", "неверный", ""]),
        (2, [*rows[2][1], "3", "duplicate", "", back[1][1][-2], "1"]),
    ]
    assert "row 1" in back[1][1][-2]
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_formula_like_cells_are_neutralised_but_phones_stay_readable(tmp_path: Path) -> None:
    source, rows, _ = read_all(SAMPLES / "formula_names.csv")
    out = tmp_path / "rejects.csv"
    with RejectsWriter(out, source) as rejects:
        for number, cells in rows:
            rejects.add_rejection(cells, Rejection(number, "name", "test", "x"))
    back = _rows_of(out)
    assert back[1][1] == "'" + rows[0][1][1]  # =HYPERLINK(...)
    assert back[2][1] == "'+SUM(1;2)"
    assert back[3][1] == "'@cmd"
    assert back[4][1] == "'-2+3"
    assert back[5][0] == "+79160000505"  # a genuine phone is untouched


def test_a_configured_delimiter_wins_over_the_inputs(tmp_path: Path) -> None:
    source, rows, _ = read_all(SAMPLES / "cp1251_semicolon.csv")
    out = tmp_path / "rejects.csv"
    with RejectsWriter(out, source, delimiter="\t") as rejects:
        rejects.add_rejection(rows[0][1], Rejection(1, None, "empty_row", "blank"))
    info, back, _ = read_all(out)
    assert (info.encoding, info.delimiter) == ("utf-8-sig", "\t")
    assert back[0][1] == [*rows[0][1], "1", "empty_row", "", "blank", ""]


def test_an_unknown_suffix_is_refused_not_guessed(tmp_path: Path) -> None:
    source, _, _ = read_all(SAMPLES / "xlsx_numeric_phones.xlsx")
    with pytest.raises(OutputFormatError, match=r"\.pdf") as caught:
        RejectsWriter(tmp_path / "rejects.pdf", source)
    assert caught.value.exit_code == 2
    assert list(tmp_path.iterdir()) == []


def test_xlsx_input_gets_an_xlsx(tmp_path: Path) -> None:
    source, rows, _ = read_all(SAMPLES / "xlsx_numeric_phones.xlsx")
    out = tmp_path / "rejects.xlsx"
    with RejectsWriter(out, source) as rejects:
        rejects.add_rejection(rows[5][1], Rejection(6, "Телефон", "phone_lossy", "lost digits"))
    assert rejects.format == "xlsx"
    info, back, _ = read_all(out)
    assert info.format == "xlsx"
    assert info.sheet == source.sheet
    assert back == [(1, [*rows[5][1], "6", "phone_lossy", "Телефон", "lost digits", ""])]


def test_the_output_extension_wins_over_the_input_format(tmp_path: Path) -> None:
    source, rows, _ = read_all(SAMPLES / "xlsx_numeric_phones.xlsx")
    out = tmp_path / "rejects.csv"
    with RejectsWriter(out, source) as rejects:
        rejects.add_rejection(rows[0][1], Rejection(1, None, "empty_row", "blank"))
    assert (rejects.format, rejects.encoding, rejects.delimiter) == ("csv", "utf-8-sig", ",")
    info, back, _ = read_all(out)
    assert (info.format, info.encoding) == ("csv", "utf-8-sig")
    assert back[0][1][-5:] == ["1", "empty_row", "", "blank", ""]


def test_reason_columns_do_not_clash_with_input_columns(tmp_path: Path) -> None:
    source = SourceInfo(path="x.csv", format="csv", header=("Phone", "Reason"), delimiter=",")
    out = tmp_path / "rejects.csv"
    with RejectsWriter(out, source) as rejects:
        rejects.add_rejection(["1", "why"], Rejection(1, "Phone", "c", "m"))
    info, back, _ = read_all(out)  # the reader refuses duplicate names, so this proves none
    assert list(info.header) == ["Phone", "Reason", *(f"rejected_{c}" for c in REASON_COLUMNS)]
    assert back == [(1, ["1", "why", "1", "c", "Phone", "m", ""])]


def test_a_rejects_file_can_be_read_back_as_input(tmp_path: Path) -> None:
    # Operators fix rows in the rejects file and feed it again; its rejects must work too.
    source, rows, _ = read_all(SAMPLES / "bad_phones.csv")
    first = tmp_path / "rejects1.csv"
    with RejectsWriter(first, source) as rejects:
        for number, cells in rows:
            rejects.add_rejection(cells, Rejection(number, "phone", "phone_invalid", "bad"))
    again, rows2, _ = read_all(first)
    second = tmp_path / "rejects2.csv"
    with RejectsWriter(second, again) as rejects:
        for number, cells in rows2:
            rejects.add_rejection(cells, Rejection(number, "phone", "phone_invalid", "bad"))
    info, back, _ = read_all(second)
    assert len(back) == len(rows)
    assert info.header[-1] == "rejected_duplicate_of"
