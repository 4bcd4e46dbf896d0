"""check_structure agrees with the reader: a file passes it if and only if reading it whole
raises no InputFileError, and then both report the same SourceInfo; when it fails, it fails
with the reader's message. Generated CSV bytes mix quotes, line breaks inside and outside
quotes, bare carriage returns, bytes of two encodings and undecodable ones, ragged records
and long cells, read in blocks of every size."""

from __future__ import annotations

import tempfile
from pathlib import Path
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import InputFileError
from pipeline.extract import Limits, ReadOptions, check_structure
from pipeline.extract import text as text_module
from pipeline.records import SourceInfo
from tests.extract.helpers import read_all

FRAGMENTS = [
    b"a",
    b"7916",
    b";",
    b",",
    b"\n",
    b"\r\n",
    b"\r",
    b'"',
    b'""',
    b'"x\ny"',
    b"x" * 13,
    b"y" * 45,
    "д".encode(),
    "д".encode("cp1251"),
    "Рђ".encode("cp1251"),  # cp1251 bytes that are valid UTF-8
    b"\xff",
    b"\x98",
    b"\x00",
    b" ",
]
HEADERS = [b"", b"h1;h2;h3\n", b"phone,name\r\n", b'"h\n1";h2\n', b"\n\nh1;h2\n"]
SMALL = Limits(max_record_chars=40, max_cell_chars=12, max_columns=4)

Outcome = tuple[str, SourceInfo | str]


def _outcome(read: object) -> Outcome:
    assert callable(read)
    try:
        info = read()
    except InputFileError as exc:
        return "error", str(exc)
    assert isinstance(info, SourceInfo)
    return "ok", info


@settings(max_examples=400, deadline=None)
@given(
    header=st.sampled_from(HEADERS),
    body=st.lists(st.sampled_from(FRAGMENTS), max_size=60),
    block=st.sampled_from([3, 8, 21, 1 << 19]),
    encoding=st.sampled_from(["auto", "utf-8", "cp1251"]),
    delimiter=st.sampled_from(["auto", ";"]),
    limits=st.sampled_from([SMALL, Limits()]),
)
def test_check_structure_fails_exactly_when_reading_fails(
    *,
    header: bytes,
    body: list[bytes],
    block: int,
    encoding: str,
    delimiter: str,
    limits: Limits,
) -> None:
    options = ReadOptions(encoding=encoding, delimiter=delimiter, limits=limits)  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "in.csv"
        path.write_bytes(header + b"".join(body))
        with mock.patch.object(text_module, "READ_BYTES", block):
            read = _outcome(lambda: read_all(path, options)[0])
            checked = _outcome(lambda: check_structure(path, options))
    assert checked == read


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.lists(st.sampled_from(FRAGMENTS[:14]), max_size=6), min_size=1, max_size=40),
    block=st.sampled_from([5, 64, 1 << 19]),
)
def test_agreement_holds_on_files_larger_than_a_read(rows: list[list[bytes]], block: int) -> None:
    body = b"h1;h2;h3\n" + b"".join(b";".join(row) + b"\n" for row in rows) * 20
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "in.csv"
        path.write_bytes(body)
        options = ReadOptions(limits=SMALL)
        with mock.patch.object(text_module, "READ_BYTES", block):
            assert _outcome(lambda: check_structure(path, options)) == _outcome(
                lambda: read_all(path, options)[0]
            )
