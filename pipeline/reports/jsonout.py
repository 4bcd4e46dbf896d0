"""JSON outputs: JSON Lines (``.jsonl``) or one JSON array (``.json``), one object per line.

Each row is an object keyed by the header (a repeated header name gets `` (2)``, `` (3)``…
so no value is lost to a duplicate key). Values are verbatim text, integers as numbers and
empty cells as null (:func:`~pipeline.reports.typed_cells.json_value`). UTF-8 without BOM, ``\\n``
line ends, non-ASCII characters as they are (``ensure_ascii=False``). The array form writes
``[`` and ``]`` on lines of their own, so it is still one object per line and streams in
constant memory like JSON Lines, while ``json.load`` reads the whole file.

Usage::

    with JsonTableWriter(Path("results.jsonl"), ["row", "phone"], kinds=["integer"]) as out:
        out.write_row(["1", "79160000001"])      # {"row": 1, "phone": "79160000001"}
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from pipeline.reports.formats import CellKind
from pipeline.reports.table_base import TableWriter
from pipeline.reports.typed_cells import json_value


class JsonTableWriter(TableWriter):
    """Rows as JSON objects, one per line (``array``: inside one JSON array)."""

    def __init__(
        self,
        path: Path,
        header: Sequence[str],
        *,
        kinds: Sequence[CellKind] | None = None,
        array: bool = False,
    ) -> None:
        super().__init__(path, header, kinds)
        self._keys = unique_keys(self.header)
        self._array = array
        self._encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        if array:
            self._file.fh.write(b"[\n")

    def write_row(self, cells: Sequence[str]) -> None:
        values = self._pad(cells)
        line = self._encode(
            {
                key: json_value(kind, text)
                for key, kind, text in zip(self._keys, self.kinds, values, strict=True)
            }
        )
        if self._array and self.rows_written:
            line = "," + line  # the separator leads, so the last object needs no look-ahead
        self._file.fh.write(line.encode("utf-8") + b"\n")
        self.rows_written += 1

    def close(self) -> None:
        if self._file.fh.closed:
            return
        if self._array:
            self._file.fh.write(b"]\n")
        self._file.commit()


def unique_keys(header: Sequence[str]) -> list[str]:
    """``header`` with repeats numbered: ``["a", "a"]`` → ``["a", "a (2)"]``."""
    seen: set[str] = set()
    out: list[str] = []
    for name in header:
        key, n = name, 1
        while key in seen:
            n += 1
            key = f"{name} ({n})"
        seen.add(key)
        out.append(key)
    return out
