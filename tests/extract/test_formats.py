"""Legacy and wrapped exports: .xls, .ods (made by real writers), UTF-16 text, gzip and zip
CSV, files recognised by their bytes, and the bounds on each container."""

from __future__ import annotations

import codecs
import datetime as dt
import gzip
import struct
import zipfile
from pathlib import Path
from typing import Any

import pytest

from pipeline.errors import InputFileError
from pipeline.extract import Limits, ReadOptions, check_structure, is_spreadsheet, open_table
from tests.extract.helpers import read_all, write_bytes, write_xlsx
from tests.extract.writers import write_ods, write_xls

ROWS: list[list[Any]] = [
    ["Телефон", "ФИО", "Дата"],
    [79161234567, "Иванов", dt.date(2026, 1, 2)],
    ["+7 916 123-45-68", "Петров", None],
]
EXPECTED = [(1, ["79161234567", "Иванов", "2026-01-02"]), (2, ["+7 916 123-45-68", "Петров", ""])]


@pytest.mark.parametrize("writer,suffix", [(write_xls, ".xls"), (write_ods, ".ods")])
def test_legacy_and_open_workbooks_read_with_xlsx_cell_rules(
    tmp_path: Path, writer: object, suffix: str
) -> None:
    path = writer(tmp_path / f"export{suffix}", {"Данные": ROWS})  # type: ignore[operator]
    info, rows, extra = read_all(path)
    assert info.format == suffix[1:]
    assert info.header == ("Телефон", "ФИО", "Дата")
    assert info.sheet == "Данные"
    assert rows == EXPECTED  # a numeric phone as digits, a date as ISO
    assert extra == {}
    assert is_spreadsheet(path)
    assert check_structure(path).header == info.header


def test_format_is_judged_by_bytes_not_suffix(tmp_path: Path) -> None:
    xls = write_xls(tmp_path / "a.xls", {"S": ROWS})
    misnamed = tmp_path / "export.csv"
    misnamed.write_bytes(xls.read_bytes())
    assert read_all(misnamed)[0].format == "xls"
    xlsx = write_xlsx(tmp_path, "b.xlsx", {"S": [["phone"], ["79161234567"]]})
    copy = tmp_path / "snapshot-without-suffix"
    copy.write_bytes(xlsx.read_bytes())
    with open_table(copy, name="export.xls") as table:
        assert table.info.format == "xlsx"
    # 1C and Bitrix save tab-separated text as .xls: it is read as the CSV it is
    tsv = write_bytes(tmp_path, "report.xls", b"phone\tname\n79161234567\tIvan\n")
    info, rows, _ = read_all(tsv)
    assert (info.format, info.delimiter, rows) == ("csv", "\t", [(1, ["79161234567", "Ivan"])])


@pytest.mark.parametrize(
    "head", [b"<html><body><table>", b"\xef\xbb\xbf\r\n<!DOCTYPE html><html>", b"<table border=1>"]
)
def test_a_web_page_saved_as_xls_is_refused_with_what_to_do(tmp_path: Path, head: bytes) -> None:
    path = write_bytes(tmp_path, "export.xls", head + b"<tr><td>79161234567</td></tr></table>")
    with pytest.raises(InputFileError, match=r"this is a web page saved as \.xls.*CSV or XLSX"):
        open_table(path)


def test_excel_unicode_text_is_decoded_from_utf16(tmp_path: Path) -> None:
    text = "Телефон\tФИО\r\n79161234567\tИванов\r\n79161234568\tПётр\r\n"  # noqa: RUF001
    for bom, codec in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        path = write_bytes(tmp_path, "unicode.txt", bom + text.encode(codec))
        with open_table(path) as table:
            assert table.info.header == ("Телефон", "ФИО")
            assert table.info.delimiter == "\t"
            assert [r for c in table.chunks() for r in c.rows][1] == ["79161234568", "Пётр"]
            assert table.notes == ["read as CSV from utf-16"]


def test_gzip_and_zip_csv_are_read_and_their_copy_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    body = "Телефон;ФИО\n79161234567;Иванов\n".encode("cp1251")
    gz = write_bytes(tmp_path, "export.csv.gz", gzip.compress(body))
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("folder/", "")
        z.writestr(
            "folder/export.csv", codecs.BOM_UTF16_LE + body.decode("cp1251").encode("utf-16-le")
        )
    for path in (gz, archive):
        info, rows, _ = read_all(path)
        assert info.header == ("Телефон", "ФИО")
        assert rows == [(1, ["79161234567", "Иванов"])]
        assert not is_spreadsheet(path)
    assert list((tmp_path / "tmp").iterdir()) == []


def test_zip_with_several_files_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a.csv", "phone\n1\n")
        z.writestr("b.csv", "phone\n2\n")
    with pytest.raises(InputFileError, match=r"holds 2 files .*exactly one CSV"):
        open_table(archive)


def test_gzip_bomb_is_refused_by_the_workbook_bounds(tmp_path: Path) -> None:
    bomb = write_bytes(tmp_path, "bomb.csv.gz", gzip.compress(b"phone\n" + b"0" * (64 << 20)))
    with pytest.raises(InputFileError, match="max_xlsx_ratio"):
        open_table(bomb)
    small = ReadOptions(limits=Limits(max_xlsx_mb=1, max_xlsx_ratio=100_000))
    with pytest.raises(InputFileError, match="max_xlsx_mb"):
        open_table(bomb, small)


def test_zip_csv_bomb_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("export.csv", b"phone\n" + b"0" * (64 << 20))
    with pytest.raises(InputFileError, match="max_xlsx_ratio"):
        open_table(archive)


def test_ods_bomb_is_refused_before_calamine(tmp_path: Path) -> None:
    path = write_ods(tmp_path / "export.ods", {"S": ROWS})
    bomb = tmp_path / "bomb.ods"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            out.writestr(item, src.read(item.filename))
        out.writestr("padding.xml", b" " * (64 << 20))
    with pytest.raises(InputFileError, match="max_xlsx_ratio"):
        open_table(bomb)


def test_xls_sheet_beyond_the_cell_bounds_is_refused(tmp_path: Path) -> None:
    path = write_xls(tmp_path / "wide.xls", {"S": [["phone", *(f"c{i}" for i in range(30))]]})
    with pytest.raises(InputFileError, match="max_columns"):
        open_table(path, ReadOptions(limits=Limits(max_columns=20)))
    with pytest.raises(InputFileError, match="max_cells"):
        open_table(path, ReadOptions(limits=Limits(max_cells=30)))
    long = write_ods(tmp_path / "long.ods", {"S": [["phone"], ["x" * 50]]})
    with pytest.raises(InputFileError, match=r"cell A2 holds 50 characters.*max_cell_chars"):
        open_table(long, ReadOptions(limits=Limits(max_cell_chars=40)))


def test_zip_workbooks_are_told_apart_by_their_parts(tmp_path: Path) -> None:
    # no PyPI package writes .xlsb, so only the recognition is tested here (calamine reads it)
    from pipeline.extract.sniff import sniff

    def archive(name: str, parts: dict[str, bytes]) -> Path:
        path = tmp_path / name
        with zipfile.ZipFile(path, "w") as z:
            for part, data in parts.items():
                z.writestr(part, data)
        return path

    limits = Limits()
    xlsb = archive("a.xlsb", {"[Content_Types].xml": b"<x/>", "xl/workbook.bin": b"\x83\x01\x00"})
    assert sniff(xlsb, limits, "a.xlsb") == "xlsb"
    odt = archive("a.ods", {"mimetype": b"application/vnd.oasis.opendocument.text"})
    assert sniff(odt, limits, "a.ods") == "zip"  # a text document is no spreadsheet
    nested = tmp_path / "nested.zip"
    with zipfile.ZipFile(nested, "w") as z:
        z.write(write_xlsx(tmp_path, "in.xlsx", {"S": [["phone"]]}), "in.xlsx")
    with pytest.raises(InputFileError, match="holds a xlsx file, not a CSV"):
        open_table(nested)


def test_ods_part_inflating_past_its_declared_size_is_refused(tmp_path: Path) -> None:
    # the sizes a bomb declares pass the archive bounds; what it really inflates to must not
    source = write_ods(tmp_path / "export.ods", {"S": ROWS})
    lying = tmp_path / "lying.ods"
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(lying, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "content.xml":
                data = data.replace(b"</office:body>", b" " * (4 << 20) + b"</office:body>")
            out.writestr(item, data)
    blob = bytearray(lying.read_bytes())
    with zipfile.ZipFile(lying) as z:
        info = z.getinfo("content.xml")
    real = struct.pack("<I", info.file_size)
    small = struct.pack("<I", 1000)
    local = info.header_offset
    assert blob[local + 22 : local + 26] == real
    blob[local + 22 : local + 26] = small
    for at in _central_entries(bytes(blob)):
        if blob[at + 46 : at + 46 + len(b"content.xml")] == b"content.xml":
            blob[at + 24 : at + 28] = small
    lying.write_bytes(bytes(blob))
    with pytest.raises(InputFileError, match=r"content\.xml inflates beyond the 1,000 bytes"):
        open_table(lying)


def _central_entries(blob: bytes) -> list[int]:
    found, at = [], blob.find(b"PK\x01\x02")
    while at >= 0:
        found.append(at)
        at = blob.find(b"PK\x01\x02", at + 4)
    return found
