"""A part inflated by a thread (xlsx_ahead.Ahead) gives the blocks the plain inflate gives, the
same error when the part lies about its size, and leaves no thread behind."""

from __future__ import annotations

import threading
import zipfile
from pathlib import Path

import pytest

from pipeline.errors import InputFileError
from pipeline.extract.xlsx_ahead import BLOCK, Ahead
from pipeline.extract.xlsx_zip import inflate
from tests.extract.hostile import Repeat, workbook

SHEET = "xl/worksheets/sheet1.xml"
ROW = b'<row r="2"><c r="A2" t="inlineStr"><is><t>79160000001</t></is></c></row>'


def _threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "xlsx-inflate"]


def test_the_blocks_are_the_part(tmp_path: Path) -> None:
    path = workbook(tmp_path / "big.xlsx", Repeat(ROW, 60_000))  # ~4.4 MB: several blocks
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(SHEET)
        with Ahead(archive, info, "big.xlsx") as blocks:
            got = list(blocks)
        assert len(got) > 2 and max(map(len, got)) <= BLOCK
        assert b"".join(got) == b"".join(inflate(archive, info, "big.xlsx"))
    assert _threads() == []


def test_a_part_inflating_past_its_size_raises_the_plain_error(tmp_path: Path) -> None:
    path = workbook(tmp_path / "liar.xlsx", Repeat(b" " * (1 << 20), 64), declare={SHEET: 3 << 20})
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(SHEET)
        with pytest.raises(InputFileError) as plain:
            list(inflate(archive, info, "liar.xlsx"))
        seen = 0
        with pytest.raises(InputFileError) as threaded, Ahead(archive, info, "liar.xlsx") as blocks:
            for block in blocks:
                seen += len(block)
    assert str(threaded.value) == str(plain.value)
    assert "inflates beyond the 3,145,728 bytes it declares" in str(threaded.value)
    assert seen <= 3 << 20  # the blocks before the lie, not one byte past it
    assert _threads() == []


def test_leaving_early_stops_the_thread_and_frees_the_archive(tmp_path: Path) -> None:
    path = workbook(tmp_path / "big.xlsx", Repeat(ROW, 200_000))  # ~15 MB
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(SHEET)
        with Ahead(archive, info, "big.xlsx") as blocks:
            next(iter(blocks))
        assert _threads() == []
        # the file position is the main thread's again: a second read is whole and checked
        assert sum(map(len, inflate(archive, info, "big.xlsx"))) == info.file_size
