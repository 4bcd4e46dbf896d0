"""CSV size bounds (input.max_record_chars / max_cell_chars / max_columns) and mixed encodings:
each stops the read naming the line, the bound and its setting, whichever way the text is
parsed (plain split or the csv module) and wherever the reads happen to fall."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest

from pipeline.errors import InputFileError
from pipeline.extract import Limits, ReadOptions, check_structure, open_table
from pipeline.extract import text as text_module
from pipeline.extract.csv_reader import CsvTable
from pipeline.extract.ranges import plan_ranges, read_range
from tests.extract.helpers import read_all, write_bytes

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"
SMALL = Limits(max_record_chars=60, max_cell_chars=20, max_columns=5)


def _fails_the_same(path: Path, options: ReadOptions, pattern: str) -> str:
    """Reading the file whole and check_structure both fail with the same message."""
    with pytest.raises(InputFileError, match=pattern) as read:
        read_all(path, options)
    with pytest.raises(InputFileError) as checked:
        check_structure(path, options)
    assert str(checked.value) == str(read.value)
    return str(read.value)


@pytest.mark.parametrize("block", [7, 64, 1 << 19])  # bytes per read: tiny reads split lines
@pytest.mark.parametrize(
    ("body", "pattern"),
    [
        # a plain line, and a quoted record (its own bound includes the quotes) on line 3
        ("a;b\n" + "x" * 61 + "\n", r"line 3: a record longer than input\.max_record_chars = 60"),
        ('a;b\n"' + "y\n" * 40 + '"\n', r"line 3: a record longer than input\.max_record_chars"),
        # a quoted record never closed is long before it is broken: the bound speaks first,
        # and only the bound's worth of it is held (on one line, or on many)
        ('a;b\n"' + "z" * 200, r"line 3: a record longer than input\.max_record_chars"),
        ('a;b\n"' + "z\n" * 200, r"line 3: a record longer than input\.max_record_chars"),
        ("a;b\n" + "c" * 21 + ";d\n", r"line 3: cell 1 holds 21 characters, more than input\.max_"),
        (
            'a;b\nd;"' + "q" * 21 + '"\n',
            r"line 3: cell 2 holds 21 characters, more than input\.max_",
        ),
        ("a;b\n1;2;3;4;5;6\n", r"line 3: the record has 6 cells, more columns than input\.max_col"),
        ('a;b\n1;2;3;4;5;"6\n"\n', r"line 3: the record has 6 cells, more columns than input\.max"),
    ],
)
def test_a_record_beyond_a_bound_stops_the_read_naming_line_and_setting(
    tmp_path: Path, block: int, body: str, pattern: str
) -> None:
    path = write_bytes(tmp_path, "in.csv", ("h1;h2\n" + body).encode())
    with mock.patch.object(text_module, "READ_BYTES", block):
        message = _fails_the_same(path, ReadOptions(delimiter=";", limits=SMALL), pattern)
    assert str(path) in message and "raise input." in message


def test_the_first_offending_record_is_reported_whatever_bound_it_breaks(tmp_path: Path) -> None:
    body = "h1;h2\nok;ok\n1;2;3;4;5;6\n" + "c" * 30 + "\n"
    path = write_bytes(tmp_path, "in.csv", body.encode())
    _fails_the_same(path, ReadOptions(delimiter=";", limits=SMALL), r"line 3: the record has 6")


def test_a_header_beyond_a_bound_is_refused_too(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "in.csv", ("h;" * 10 + "\n1\n").encode())
    _fails_the_same(path, ReadOptions(delimiter=";", limits=SMALL), r"line 1: the record has 11")


def test_records_at_the_bounds_are_read(tmp_path: Path) -> None:
    # 60 characters exactly (the quotes count), five cells, a 20-character cell
    record = '"' + "v" * 20 + '";' + "w" * 20 + ";1;2;" + "x" * 12
    assert len(record) == 60
    path = write_bytes(tmp_path, "in.csv", f"a;b;c;d;e\n{record}\n".encode())
    info, rows, _ = read_all(path, ReadOptions(delimiter=";", limits=SMALL))
    assert rows == [(1, ["v" * 20, "w" * 20, "1", "2", "x" * 12])]
    assert check_structure(path, ReadOptions(delimiter=";", limits=SMALL)) == info


def test_a_500_mb_line_is_refused_after_reading_a_bounded_part_of_it(tmp_path: Path) -> None:
    # A sparse file: 500 MB of NUL bytes without a line end costs no disk. The default bound
    # stops the read within the first few MiB, as a record that is too long, not as quoting.
    path = tmp_path / "in.csv"
    with path.open("wb") as fh:
        fh.write(b"phone;name\n1;a\n")
        fh.seek(500 << 20)
        fh.write(b"\n")
    with (
        mock.patch.object(text_module, "READ_BYTES", 1 << 19),
        pytest.raises(InputFileError, match=r"line 3: a record longer than input\.max_record_ch"),
        open_table(path) as table,
    ):
        for _ in table.chunks():
            pass


def test_default_bounds_pass_every_sample_file() -> None:
    for path in sorted(SAMPLES.iterdir()):
        if path.suffix in (".csv", ".tsv", ".txt", ".xlsx"):
            assert check_structure(path).header, path


def test_name_replaces_the_path_in_messages_and_picks_the_file_type(tmp_path: Path) -> None:
    snapshot = write_bytes(tmp_path, "snapshot-0001", b'phone;name\n1;"open\n')
    with pytest.raises(InputFileError, match=r"^export\.csv: line 2: the CSV quoting") as err:
        check_structure(snapshot, name="export.csv")
    assert "snapshot" not in str(err.value)
    good = write_bytes(tmp_path, "snapshot-0002", b"phone;name\n1;a\n")
    info = check_structure(good, name="export.csv")
    assert (info.path, info.format, info.header) == ("export.csv", "csv", ("phone", "name"))
    with open_table(good, name="export.csv") as table:
        assert table.info == info


# ---- mixed encodings -------------------------------------------------------------------------


def test_a_utf8_line_in_a_file_detected_as_cp1251_is_refused_naming_it(tmp_path: Path) -> None:
    head = "phone;name\r\n" + "7916;Иванов\r\n" * 50_000
    data = head.encode("cp1251") + "7917;Петров\r\n".encode() + "7918;Ок\r\n".encode("cp1251")
    path = write_bytes(tmp_path, "in.csv", data)
    message = _fails_the_same(path, ReadOptions(), r"line 50002 is UTF-8 text.*mixes encodings")
    assert "input.encoding: cp1251" in message


def test_the_mixed_line_is_found_before_any_row_is_used(tmp_path: Path) -> None:
    # check_structure reads no rows, and the same file's rows are never handed out after it
    head = "phone;name\r\n" + "7916;Иванов\r\n" * 40_000
    data = head.encode("cp1251") + "7917;Петров\r\n".encode()
    path = write_bytes(tmp_path, "in.csv", data)
    with pytest.raises(InputFileError, match="line 40002 is UTF-8"):
        check_structure(path)


def test_a_cp1251_line_in_a_utf8_file_is_refused_naming_it_too(tmp_path: Path) -> None:
    head = "phone;name\r\n" + "7916;Иванов\r\n" * 60_000  # past the 1 MiB detection reads
    data = head.encode() + "7917;Петров\r\n".encode("cp1251")
    _fails_the_same(write_bytes(tmp_path, "in.csv", data), ReadOptions(), r"line 60002 .*utf-8")


def test_a_utf8_line_early_in_a_cp1251_file_is_named_as_utf8(tmp_path: Path) -> None:
    # "И" in UTF-8 holds byte 0x98, which cp1251 cannot decode: the message says why
    data = "phone;name\r\n7916;Иванов\r\n".encode() + "7917;Петров\r\n".encode("cp1251")
    path = write_bytes(tmp_path, "in.csv", data)
    _fails_the_same(path, ReadOptions(), r"line 2 is UTF-8 text.*detected as cp1251")


def test_configured_cp1251_reads_such_a_line_as_cp1251(tmp_path: Path) -> None:
    data = "phone;name\r\n1;Иванов\r\n".encode("cp1251") + "2;Рђ\r\n".encode("cp1251")
    path = write_bytes(tmp_path, "in.csv", data)
    with pytest.raises(InputFileError, match="line 3 is UTF-8"):
        read_all(path)  # detected: "Рђ" in cp1251 bytes is valid UTF-8
    _, rows, _ = read_all(path, ReadOptions(encoding="cp1251"))
    assert rows[1] == (2, ["2", "Рђ"])


def test_cp1251_punctuation_after_letters_is_not_mistaken_for_utf8(tmp_path: Path) -> None:
    # ё, №, « » after a letter form a UTF-8-looking byte pair; the whole line never is UTF-8
    text = "phone;name\r\n1;Всё ещё «Ромашка» №5 Алёна — Фёдор\r\n2;ЛЁВА\r\n"
    _, rows, _ = read_all(write_bytes(tmp_path, "in.csv", text.encode("cp1251")))
    assert rows[1] == (2, ["2", "ЛЁВА"])


def test_byte_ranges_hold_the_same_bounds(tmp_path: Path) -> None:
    body = "h1;h2\n" + "ok;ok\n" * 5_000 + "c" * 30 + ";x\n" + "ok;ok\n" * 5_000
    path = write_bytes(tmp_path, "in.csv", body.encode())
    with open_table(path) as table:  # the default bounds let the opening through
        assert isinstance(table, CsvTable)
        info, data_line = table.info, table.data_line
    parts = plan_ranges(path, info, data_line, 3)
    assert parts is not None
    with pytest.raises(InputFileError, match=r"line 5002: cell 1 holds 30 characters"):
        for part in parts:
            for _ in read_range(path, info, part, limits=SMALL):
                pass
