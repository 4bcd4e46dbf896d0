"""CSV reader rules on real files written into tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import InputFileError
from pipeline.extract import ReadOptions, open_table
from tests.extract.helpers import read_all, write_bytes

RU = "Телефон;Имя\r\n+7 916 000-00-01;Иванов\r\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (RU.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + RU.encode("utf-8"), "utf-8-sig"),
        (RU.encode("cp1251"), "cp1251"),
        (b"phone;name\r\n1;a\r\n", "utf-8"),  # pure ASCII
    ],
)
def test_encoding_is_detected(tmp_path: Path, data: bytes, encoding: str) -> None:
    info, _, _ = read_all(write_bytes(tmp_path, "in.csv", data))
    assert info.encoding == encoding
    assert info.header[0] in ("Телефон", "phone")
    assert info.header[0].isprintable() and not info.header[0].startswith("\ufeff")


def test_cp1251_bytes_after_a_long_ascii_start_are_still_detected(tmp_path: Path) -> None:
    ascii_part = "phone;name\r\n" + "79160000001;Ivanov\r\n" * 80_000  # > 1 MiB of ASCII
    data = (ascii_part + "79160000002;Петров\r\n").encode("cp1251")
    info, rows, _ = read_all(write_bytes(tmp_path, "in.csv", data))
    assert info.encoding == "cp1251"
    assert rows[-1] == (80_001, ["79160000002", "Петров"])


def test_encoding_override_wins(tmp_path: Path) -> None:
    # These cp1251 bytes happen to be valid UTF-8 (a Cyrillic capital A), so only the override
    # reads them as written.
    path = write_bytes(tmp_path, "in.csv", "phone,name\r\n1,Рђ\r\n".encode("cp1251"))
    assert read_all(path)[1] == [(1, ["1", "\u0410"])]
    info, rows, _ = read_all(path, ReadOptions(encoding="cp1251"))
    assert (info.encoding, rows) == ("cp1251", [(1, ["1", "Рђ"])])


def test_forced_utf8_on_a_bom_file_still_strips_the_bom_from_the_header(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "in.csv", b"\xef\xbb\xbfphone,name\r\n1,a\r\n")
    info, _, _ = read_all(path, ReadOptions(encoding="utf-8"))
    assert info.header == ("phone", "name")


def test_undecodable_bytes_name_the_line(tmp_path: Path) -> None:
    data = "phone;name\r\n1;Иванов\r\n2;Петров\r\n".encode("cp1251")
    path = write_bytes(tmp_path, "in.csv", data)
    with pytest.raises(InputFileError, match=r"line 2 .*utf-8.*input\.encoding") as err:
        read_all(path, ReadOptions(encoding="utf-8"))
    assert str(path) in str(err.value)


def test_bytes_no_candidate_encoding_can_decode_are_an_error(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "in.csv", b"phone;name\r\n1;ok\r\n2;\x98\xff\r\n")
    with pytest.raises(InputFileError, match=r"line 3 .*cp1251"):
        read_all(path)


def test_an_encoding_error_deep_in_the_file_stops_the_read_at_its_line(tmp_path: Path) -> None:
    head = "phone;name\r\n1;Иванов\r\n" + "2;ascii\r\n" * 200_000
    data = head.encode("utf-8") + "3;Петров\r\n".encode("cp1251")
    path = write_bytes(tmp_path, "in.csv", data)
    with pytest.raises(InputFileError, match=r"line 200003 "):
        read_all(path)


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed_despite_other_delimiters_inside_quotes(
    tmp_path: Path, delimiter: str
) -> None:
    others = "".join(d for d in ",;\t|" if d != delimiter)
    lines = [
        ["phone", "name", "note"],
        ["79160000001", f'"a{others}b"', f'"x{others}{others}y"'],
        ["79160000002", "plain", f'"{others}"'],
    ]
    text = "".join(delimiter.join(line) + "\r\n" for line in lines)
    info, rows, _ = read_all(write_bytes(tmp_path, "in.csv", text.encode()))
    assert info.delimiter == delimiter
    assert rows[0] == (1, ["79160000001", f"a{others}b", f"x{others}{others}y"])


def test_one_column_file(tmp_path: Path) -> None:
    info, rows, extra = read_all(write_bytes(tmp_path, "in.csv", b"phone\n79160000001\n8916\n"))
    assert (info.delimiter, info.header) == (",", ("phone",))
    assert rows == [(1, ["79160000001"]), (2, ["8916"])]
    assert extra == {}


def test_one_column_file_whose_values_hold_a_comma(tmp_path: Path) -> None:
    data = "ФИО\nИванов, Иван\nПетров, Пётр\n".encode()  # noqa: RUF001
    info, rows, _ = read_all(write_bytes(tmp_path, "in.csv", data))
    assert len(info.header) == 1
    assert rows == [(1, ["Иванов, Иван"]), (2, ["Петров, Пётр"])]


def test_ragged_rows_do_not_fool_the_sniffer(tmp_path: Path) -> None:
    data = b"phone,name,city\n1,a\n2\n3,b,c,d\n4,e,f\n"
    info, rows, extra = read_all(write_bytes(tmp_path, "in.csv", data))
    assert info.delimiter == ","
    assert rows == [
        (1, ["1", "a", ""]),
        (2, ["2", "", ""]),
        (3, ["3", "b", "c"]),
        (4, ["4", "e", "f"]),
    ]
    assert extra == {3: ["d"]}


def test_delimiter_override(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "in.csv", b"a;b,c\n1;2,3\n")
    assert read_all(path)[0].delimiter == ","
    info, rows, _ = read_all(path, ReadOptions(delimiter=";"))
    assert (info.delimiter, info.header, rows) == (";", ("a", "b,c"), [(1, ["1", "2,3"])])


def test_multi_line_record_counts_once_and_numbers_continue(tmp_path: Path) -> None:
    data = b'phone,comment\r\n1,"one\r\ntwo\r\nthree"\r\n2,"x, y"\r\n\r\n3,z\r\n'
    _, rows, _ = read_all(write_bytes(tmp_path, "in.csv", data))
    assert rows == [
        (1, ["1", "one\r\ntwo\r\nthree"]),
        (2, ["2", "x, y"]),
        (3, ["", ""]),
        (4, ["3", "z"]),
    ]


def test_blank_records_in_the_middle_stay_and_trailing_ones_go(tmp_path: Path) -> None:
    data = b"\n\nphone,name\n1,a\n\n,\n2,b\n\n,\n\n"
    for chunk_size in (1, 2, 3, 100):  # blank runs across chunk borders
        info, rows, _ = read_all(
            write_bytes(tmp_path, "in.csv", data), ReadOptions(chunk_size=chunk_size)
        )
        assert info.header_row == 3  # leading blank lines are skipped, the header found
        assert rows == [(1, ["1", "a"]), (2, ["", ""]), (3, ["", ""]), (4, ["2", "b"])]


def test_trailing_delimiters_are_not_columns_and_empty_extras_are_dropped(tmp_path: Path) -> None:
    data = b"phone;name;\n1;a;\n2;b;;\n"
    info, rows, extra = read_all(write_bytes(tmp_path, "in.csv", data))
    assert info.header == ("phone", "name")
    assert rows == [(1, ["1", "a"]), (2, ["2", "b"])]
    assert extra == {}


def test_header_on_a_later_line_with_a_multi_line_header_cell(tmp_path: Path) -> None:
    data = b'\r\n"phone\r\nmobile",name\r\n1,a\r\n'
    info, rows, _ = read_all(write_bytes(tmp_path, "in.csv", data))
    assert info.header_row == 2
    assert rows == [(1, ["1", "a"])]


def test_duplicate_header_names_are_refused_naming_both_columns(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "in.csv", "Телефон,Имя, телефон \n1,2,3\n".encode())
    with pytest.raises(InputFileError, match=r"column C \(' телефон '\).*column A \('Телефон'\)"):
        read_all(path)


@pytest.mark.parametrize("data", [b"", b"\n\n", b",,\n,,\n"])
def test_a_file_without_a_header_is_refused(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(InputFileError, match=r"empty \(no header line\)"):
        read_all(write_bytes(tmp_path, "in.csv", data))


def test_an_unclosed_quote_is_an_error_not_a_swallowed_file(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "in.csv", b'phone,name\n1,"open\n2,b\n3,c\n')
    with pytest.raises(InputFileError, match=r"line \d+: the CSV quoting is broken"):
        read_all(path)


def test_text_after_a_closing_quote_is_an_error(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "in.csv", b'phone,name\n1,"a"b\n')
    with pytest.raises(InputFileError, match=r"line 2: the CSV quoting is broken"):
        read_all(path)


def test_missing_file_directory_and_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="file not found"):
        open_table(tmp_path / "nope.csv")
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(InputFileError, match="directory"):
        open_table(tmp_path / "dir.csv")
    with pytest.raises(InputFileError, match=r"unknown file type '\.json'.*\.csv"):
        open_table(write_bytes(tmp_path, "in.json", b"{}"))


def test_tsv_and_txt_extensions_are_csv(tmp_path: Path) -> None:
    for name in ("in.tsv", "in.TXT"):
        info, rows, _ = read_all(write_bytes(tmp_path, name, b"a\tb\n1\t2\n"))
        assert (info.format, info.delimiter, rows) == ("csv", "\t", [(1, ["1", "2"])])


def test_chunks_can_be_iterated_once(tmp_path: Path) -> None:
    with open_table(write_bytes(tmp_path, "in.csv", b"a,b\n1,2\n")) as table:
        assert table.engine == "csv"
        assert [c.rows for c in table.chunks()] == [[["1", "2"]]]
        with pytest.raises(RuntimeError, match="once"):
            next(table.chunks())
