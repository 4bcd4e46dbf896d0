"""Property: any table of text written by our CSV writer reads back identically.

For every delimiter and encoding, with row numbers 1..n, chunked at random sizes. The only
changes allowed are the documented ones: formula-like cells carry the writer's apostrophe, and
blank rows at the very end of the file are not records.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.extract import ReadOptions
from pipeline.records import header_key
from pipeline.reports import neutralise, open_table_writer
from tests.extract.helpers import read_all

CP1251_CHARS = "".join(
    ch for ch in bytes(range(1, 256)).decode("cp1251", errors="ignore") if ch != "\ufeff"
)
UNICODE = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
ENCODINGS = ["utf-8", "utf-8-sig", "cp1251"]


def _cell(encoding: str) -> st.SearchStrategy[str]:
    alphabet = st.sampled_from(CP1251_CHARS) if encoding == "cp1251" else UNICODE
    return st.text(alphabet, max_size=12)


@st.composite
def tables(draw: st.DrawFn) -> tuple[str, str, list[str], list[list[str]]]:
    encoding = draw(st.sampled_from(ENCODINGS))
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    width = draw(st.integers(1, 4))
    # Header names: distinct for matching, not blank, no BOM (the reader strips a BOM).
    names = st.text(st.sampled_from("abcxyz\u0410\u0411\u0412_ 1"), min_size=1, max_size=6).filter(
        str.strip
    )
    header = draw(st.lists(names, min_size=width, max_size=width, unique_by=header_key))
    rows = draw(st.lists(st.lists(_cell(encoding), min_size=width, max_size=width), max_size=12))
    return encoding, delimiter, header, rows


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=tables(), chunk_size=st.integers(1, 5))
def test_written_csv_reads_back_identically(
    table: tuple[str, str, list[str], list[list[str]]], chunk_size: int
) -> None:
    encoding, delimiter, header, rows = table
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.csv"
        with open_table_writer(path, header, encoding=encoding, delimiter=delimiter) as out:
            for row in rows:
                out.write_row(row)
        # The delimiter is given: random text can make any layout ambiguous. cp1251 is given
        # too: short cp1251 byte runs can be valid UTF-8. UTF-8 (with or without BOM) is
        # detected.
        options = ReadOptions(
            delimiter=delimiter,  # type: ignore[arg-type]
            encoding="cp1251" if encoding == "cp1251" else "auto",
            chunk_size=chunk_size,
        )
        info, got, extra = read_all(path, options)
    expected = [[neutralise(c) for c in row] for row in rows]
    while expected and not any(expected[-1]):
        expected.pop()
    assert info.encoding == encoding
    assert list(info.header) == [neutralise(h) for h in header]
    assert got == list(enumerate(expected, start=1))
    assert extra == {}
