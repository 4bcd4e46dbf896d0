"""JSON outputs (reports/jsonout.py): JSON Lines for .jsonl, one array for .json; one object
per line, UTF-8 without BOM, verbatim text, integers as numbers, empty cells as null."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.reports.formats import choose_format
from pipeline.reports.tables import open_output

HEADER = ["row", "phone", "name", "name"]
ROWS = [["1", "0079160000001", '=HYPERLINK("x")', "Иванов"], ["2", "79160000002", "", "b"]]
OBJECTS = [
    {"row": 1, "phone": "0079160000001", "name": '=HYPERLINK("x")', "name (2)": "Иванов"},
    {"row": 2, "phone": "79160000002", "name": None, "name (2)": "b"},
]


def _write(path: Path, rows: list[list[str]]) -> bytes:
    with open_output(path, HEADER, choose_format(path), kinds=["integer"]) as out:
        for row in rows:
            out.write_row(row)
    return path.read_bytes()


def test_jsonl_is_one_object_per_line_in_utf8_without_bom(tmp_path: Path) -> None:
    data = _write(tmp_path / "r.jsonl", ROWS)
    assert not data.startswith(b"\xef\xbb\xbf")
    assert "Иванов".encode() in data  # not \u escapes
    lines = data.decode("utf-8").splitlines()
    assert [json.loads(line) for line in lines] == OBJECTS


def test_json_is_one_array_that_json_load_reads_with_an_object_per_line(tmp_path: Path) -> None:
    data = _write(tmp_path / "r.json", ROWS)
    assert json.loads(data) == OBJECTS
    lines = data.decode("utf-8").splitlines()
    assert lines[0] == "[" and lines[-1] == "]" and len(lines) == 2 + len(ROWS)
    assert json.loads(_write(tmp_path / "empty.json", [])) == []
    assert (tmp_path / "empty.json").stat().st_mode & 0o077 == 0
