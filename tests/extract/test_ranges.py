"""Byte ranges of a CSV read on their own give exactly the records of the whole file; forked
workers stream their items back, raise their errors in the parent, and a dead one is noticed."""

from __future__ import annotations

import csv
import io
import os
import random
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import InputFileError, WorkerError
from pipeline.extract import ReadOptions, open_table
from pipeline.extract.blocks import mixed_columns, plain_columns, plain_lines, quoted_columns
from pipeline.extract.csv_reader import CsvTable
from pipeline.extract.forked import Forked
from pipeline.extract.options import Limits
from pipeline.extract.ranges import _find_cuts, _skip_lines, plan_ranges, read_range
from tests.extract.helpers import read_all

Records = tuple[list[tuple[int, list[str]]], dict[int, list[str]]]
_CELLS = ["", "a", "b c", 'q"uote', "7916", "x\ny", ";", '"', " ", "x\r\ny", "д", "=1+2"]


def _by_ranges(path: Path, parts: int, first_share: float | None = None) -> Records | None:
    with open_table(path, ReadOptions()) as table:
        assert isinstance(table, CsvTable)
        info, data_line = table.info, table.data_line
    plan = plan_ranges(path, info, data_line, parts, first_share=first_share)
    if plan is None:
        return None
    rows: list[tuple[int, list[str]]] = []
    extra: dict[int, list[str]] = {}
    shift = 0
    for part in plan:
        last = 0
        for first, columns, part_extra in read_range(path, info, part):
            assert len(columns) == len(info.header)
            rows.extend(
                (shift + first + i, list(cells))
                for i, cells in enumerate(zip(*columns, strict=True))
            )
            extra.update({shift + row: tail for row, tail in part_extra.items()})
            last = first + len(columns[0]) - 1
        shift += last
    return rows, extra


def _random_csv(rnd: random.Random) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator=rnd.choice(["\n", "\r\n"]))
    writer.writerow(["phone", "name", "note"])
    for _ in range(rnd.randint(0, 80)):
        writer.writerow([rnd.choice(_CELLS) for _ in range(rnd.choice([3, 3, 3, 2, 4, 0]))])
    text = out.getvalue()
    if rnd.random() < 0.3:
        text = text.replace("7916", 'a"b', 1)  # a literal quote inside an unquoted field
    return text


@pytest.mark.parametrize("seed", range(60))
def test_ranges_read_the_same_records_as_the_whole_file(seed: int, tmp_path: Path) -> None:
    rnd = random.Random(seed)
    path = tmp_path / "in.csv"
    path.write_bytes(_random_csv(rnd).encode("utf-8"))
    try:
        _, rows, extra = read_all(path, ReadOptions(chunk_size=7))
    except InputFileError:
        return  # a broken random file: tests/cli covers errors
    for parts in (1, 2, 3, 5):
        for share in (None, 0.1, 0.42):
            got = _by_ranges(path, parts, share)
            if got is not None:
                assert got == (rows, extra)


def test_the_first_range_takes_its_share(tmp_path: Path) -> None:
    # the process that also settles every chunk reads less than its workers
    path = tmp_path / "in.csv"
    path.write_text("phone;name\n" + "".join(f"7916{n:07d};name {n}\n" for n in range(20_000)))
    with open_table(path, ReadOptions()) as table:
        assert isinstance(table, CsvTable)
        info, data_line = table.info, table.data_line
    for parts, share in ((2, 0.415), (3, 0.2), (4, 0.1)):
        plan = plan_ranges(path, info, data_line, parts, first_share=share)
        assert plan is not None and len(plan) == parts
        sizes = [part.end - part.start for part in plan]
        data = sum(sizes)
        assert abs(sizes[0] / data - share) < 0.01
        rest = (1 - share) / (parts - 1)
        assert all(abs(size / data - rest) < 0.01 for size in sizes[1:])


def test_a_big_quoted_file_is_cut_and_read_back_exactly(tmp_path: Path) -> None:
    rnd = random.Random(7)
    path = tmp_path / "in.csv"
    text = _random_csv(rnd) + "".join(_random_csv(rnd).split("\n", 1)[1] for _ in range(300))
    path.write_bytes(text.encode("cp1251", errors="replace"))
    _, rows, extra = read_all(path)
    got = _by_ranges(path, 4)
    assert got is not None
    assert got == (rows, extra)
    # one part: the whole data as one range, which one process reads column by column
    assert _by_ranges(path, 1) == (rows, extra)


def test_bare_carriage_returns_are_not_cut(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(b"phone;name\r" + b"79160000001;a\r" * 100)
    with open_table(path, ReadOptions()) as table:
        assert isinstance(table, CsvTable)
        assert plan_ranges(path, table.info, table.data_line, 2) is None


@pytest.mark.parametrize("scan", range(40, 58))
def test_a_bare_carriage_return_in_the_data_is_seen_at_any_block_edge(
    scan: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # small scan blocks (a few lines each) put CRLF pairs and the bare CR across block edges
    monkeypatch.setattr("pipeline.extract.ranges.SCAN_BYTES", scan)
    lines = [f"7916{n:07d};n{n}" for n in range(60)]
    clean = tmp_path / "clean.csv"
    clean.write_bytes(("phone;name\r\n" + "".join(f"{line}\r\n" for line in lines)).encode())
    with open_table(clean, ReadOptions()) as table:
        assert isinstance(table, CsvTable)
        info, data_line = table.info, table.data_line
    assert plan_ranges(clean, info, data_line, 2) is not None  # split pairs are not bare CRs
    for at in range(3, 20):  # a bare CR early in the data: csv would end a record there
        bad = tmp_path / f"bad{at}.csv"
        text = "phone;name\r\n" + "".join(f"{line}\r\n" for line in lines)
        cut = len("phone;name\r\n") + at
        bad.write_bytes((text[:cut] + "\r" + text[cut:]).encode())
        assert plan_ranges(bad, info, data_line, 2) is None, at


@pytest.mark.parametrize("scan", range(2, 14))
def test_header_lines_are_skipped_across_block_edges(
    scan: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pipeline.extract.ranges.SCAN_BYTES", scan)
    path = tmp_path / "in.csv"
    head = b"title\r\nphone;name\r\n"
    path.write_bytes(head + b"79160000001;a\r\n")
    with path.open("rb") as fh:
        assert _skip_lines(fh, 2) == len(head)
    for at in range(len(head)):  # a bare CR in the lines before the data
        path.write_bytes(head[:at] + b"\rx" + head[at:] + b"79160000001;a\r\n")
        with path.open("rb") as fh:
            assert _skip_lines(fh, 2) is None, at


def _quoted_csv(rnd: random.Random) -> str:
    """A CSV as exports write it: every cell quoted, or only those that need it; escaped
    quotes, line breaks and delimiters inside cells; sometimes a literal quote in a bare cell."""
    out = io.StringIO()
    every = rnd.random() < 0.5
    ending = rnd.choice(["\n", "\r\n"])
    if every:
        writer = csv.writer(out, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator=ending)
    else:
        writer = csv.writer(out, delimiter=";", lineterminator=ending)
    writer.writerow(["phone", "name", "note"])
    cells = [*_CELLS, '""', 'a""b', '"x"', "\r\n", ';"']
    for _ in range(rnd.randint(20, 60)):
        writer.writerow([rnd.choice(cells) for _ in range(rnd.choice([3, 3, 3, 2]))])
    text = out.getvalue()
    if not every and rnd.random() < 0.2:
        text = text.replace("7916", 'a"b', 1)  # a literal quote inside an unquoted field
    return text


@pytest.mark.parametrize("seed", range(40))
def test_quote_parity_finds_the_cuts_the_quote_walk_finds(
    seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # small blocks put quotes, escaped pairs and CRLFs on every kind of block edge
    rnd = random.Random(seed)
    path = tmp_path / "in.csv"
    path.write_bytes(_quoted_csv(rnd).encode())
    size = path.stat().st_size
    for scan in rnd.sample(range(24, 160), 6):
        monkeypatch.setattr("pipeline.extract.ranges.SCAN_BYTES", scan)
        with path.open("rb") as fh:
            start = _skip_lines(fh, 1)
            assert start is not None
            targets = sorted(rnd.sample(range(start, size), 3))
            fast = _find_cuts(fh, start, targets, b";")
            walked = _find_cuts(fh, start, targets, b";", fast=False)
        assert fast == walked, scan


@pytest.mark.parametrize("seed", range(30))
def test_quoted_files_cut_in_small_blocks_read_back_exactly(
    seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rnd = random.Random(seed)
    path = tmp_path / "in.csv"
    path.write_bytes(_quoted_csv(rnd).encode())
    try:
        _, rows, extra = read_all(path, ReadOptions(chunk_size=7))
    except InputFileError:
        return  # a broken random file: tests/cli covers errors
    for scan in (31, 47, 64, 97):
        monkeypatch.setattr("pipeline.extract.ranges.SCAN_BYTES", scan)
        for parts in (2, 3):
            got = _by_ranges(path, parts, 0.3)
            if got is not None:
                assert got == (rows, extra), (scan, parts)


def test_a_file_that_quotes_every_cell_is_cut_without_walking_its_quotes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # millions of quotes visited one by one took seconds before any worker started
    path = tmp_path / "in.csv"
    path.write_text(
        '"phone";"name"\r\n' + "".join(f'"7916{n:07d}";"n ""{n}"""\r\n' for n in range(5000))
    )

    def walked(*args: object) -> int:
        raise AssertionError("quotes walked one by one")

    monkeypatch.setattr("pipeline.extract.ranges._walk_quotes", walked)
    monkeypatch.setattr("pipeline.extract.ranges.SCAN_BYTES", 4096)
    _, rows, extra = read_all(path)
    assert _by_ranges(path, 3) == (rows, extra)


_CLEAN_CELLS = st.text(alphabet="ab;\t д", max_size=5)
# mostly cells the fast cut takes (so damage is judged), some with what it must refuse
_QUOTED_CELLS = st.one_of(*[_CLEAN_CELLS] * 6, st.text(alphabet='ab;\t"\n\r д', max_size=5))


def _csv_columns(text: str, delimiter: str) -> list[list[str]]:
    """What the csv module reads from ``text`` (strict), as columns."""
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    return [list(column) for column in zip(*records, strict=True)]


@settings(max_examples=300)
@given(
    st.lists(st.lists(_QUOTED_CELLS, min_size=3, max_size=3), min_size=1, max_size=6),
    st.sampled_from([";", "\t"]),
    st.sampled_from(["\n", "\r\n"]),
    st.sampled_from(["", "x", '"', ";", " "]),
    st.sampled_from(["insert", "first", "last"]),
)
def test_quoted_columns_are_what_csv_reads_or_none(
    rows: list[list[str]], delimiter: str, ending: str, damage: str, where: str
) -> None:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, quoting=csv.QUOTE_ALL, lineterminator=ending).writerows(
        rows
    )
    text = out.getvalue()
    if damage:  # a character where the quoting may no longer hold
        at = {"insert": len(text) // 2, "first": 0, "last": len(text) - len(ending) - 1}[where]
        cut = at + (where != "insert")  # the first or the last quote is replaced
        text = text[:at] + damage + text[cut:]
    got = quoted_columns(text, delimiter, 3, Limits())
    if got is None:
        return
    assert got == _csv_columns(text, delimiter)


def test_quoted_columns_take_every_quoted_export_without_quotes_inside() -> None:
    text = '"79161234567";"Иванов; Иван";""\r\n"8 916";"";"долг, пени"\r\n'
    assert quoted_columns(text, ";", 3, Limits()) == [
        ["79161234567", "8 916"],
        ["Иванов; Иван", ""],
        ["", "долг, пени"],
    ]
    assert quoted_columns(text, ";", 4, Limits()) is None  # not the header's width
    assert quoted_columns('"a";"b""c";"d"\n', ";", 3, Limits()) is None  # an escaped quote
    assert quoted_columns('"a";b;"d"\n', ";", 3, Limits()) is None  # a bare cell
    assert quoted_columns(text, ";", 3, Limits(max_cell_chars=10)) is None  # near a bound


@settings(max_examples=300)
@given(
    st.lists(st.lists(_QUOTED_CELLS, min_size=3, max_size=3), min_size=1, max_size=8),
    st.sampled_from([";", ","]),
    st.sampled_from(["\n", "\r\n"]),
    st.sampled_from(["", "x", '"', ";", ",", "\n", "\r"]),
    st.floats(0, 1),
)
def test_mixed_columns_are_what_csv_reads_or_none(
    rows: list[list[str]], delimiter: str, ending: str, damage: str, where: float
) -> None:
    # quoted only where a cell needs it, as spreadsheets write CSV
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=ending).writerows(rows)
    text = out.getvalue()
    at = int(where * len(text))
    text = text[:at] + damage + text[at:]
    got = mixed_columns(text, delimiter, 3, Limits())
    if got is None:
        return
    assert got == _csv_columns(text, delimiter)


def test_mixed_columns_read_a_few_quoted_cells_among_plain_lines() -> None:
    text = '7916;a;b\r\n7903;"перезвонить; после 18:00";"сказал ""нет"""\r\n7926;c;\r\n'
    assert mixed_columns(text, ";", 3, Limits()) == [
        ["7916", "7903", "7926"],
        ["a", "перезвонить; после 18:00", "c"],
        ["b", 'сказал "нет"', ""],
    ]
    assert mixed_columns('7916;"a\nb";c\n', ";", 3, Limits()) is None  # a cell over 2 lines
    assert mixed_columns('7916;"a\nb\nc";d\n', ";", 3, Limits()) is None  # a line without quotes
    # every amount quoted for its decimal comma: the csv module reads such a block faster
    assert mixed_columns('7916,"12,50"\n7903,"7,00"\n', ",", 2, Limits()) is None
    assert mixed_columns('7916,"12,50"\n7903,7\n', ",", 2, Limits()) == [
        ["7916", "7903"],
        ["12,50", "7"],
    ]
    assert mixed_columns('1;2;3\n"a";b\n4;5;6\n', ";", 3, Limits()) is None  # a short record


def test_plain_columns_only_for_uniform_plain_text() -> None:
    assert plain_columns("a;b\r\nc;d\r\n", ";", 2) == [["a", "c"], ["b", "d"]]
    assert plain_columns("a;b\nc\n", ";", 2) is None  # a short line
    assert plain_columns('a;"b"\n', ";", 2) is None  # quoting: the csv module decides
    assert plain_columns("a;b\rc;d\n", ";", 2) is None  # a bare CR ends a record for csv


def _squares() -> Iterator[int]:
    yield from (n * n for n in range(5))


def _fails() -> Iterator[int]:
    yield 1
    raise InputFileError("line 7: broken")


def _dies() -> Iterator[int]:
    yield 1
    os.kill(os.getpid(), signal.SIGKILL)
    yield 2  # pragma: no cover


def test_forked_worker_streams_items_and_errors() -> None:
    child = Forked(_squares)
    try:
        assert list(child) == [0, 1, 4, 9, 16]
    finally:
        child.close()
    child = Forked(_fails)
    try:
        stream = iter(child)
        assert next(stream) == 1
        with pytest.raises(InputFileError, match="line 7: broken"):
            next(stream)
    finally:
        child.close()


def test_a_worker_that_dies_is_an_error_not_a_short_result() -> None:
    child = Forked(_dies)
    try:
        with pytest.raises(WorkerError, match="ended with exit code -9"):
            list(child)
    finally:
        child.close()


@pytest.mark.parametrize(
    "text",
    [
        "a;b\r\nc;d\r\n",  # a Windows export: every line ends with CRLF
        "a;b\r\nc;d",  # ... but the last
        "a;b\nc;d\r\ne;f\n",  # mixed line ends
        "a;b\nc;d\n",
        "\r\n\r\n",
        "a\r\n\nb\r\n",
    ],
)
def test_plain_lines_split_as_csv_does(text: str) -> None:
    expected = [";".join(row) for row in csv.reader(io.StringIO(text, newline=""), delimiter=";")]
    assert plain_lines(text) == expected
