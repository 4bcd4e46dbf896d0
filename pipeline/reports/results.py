"""The results file for the CRM: one line per source row with its call outcome.

Columns, left to right:

* the *leading* columns: the source file's own header when the caller could re-read the
  original cells, else one ``payload.<key>`` column per payload field the ledger stored;
* :data:`RESULT_COLUMNS` (prefixed ``result_`` when the leading columns already use one of
  these names, e.g. a source file with a ``phone`` column, so the file reads back): file,
  row, phone, state (sent/rejected/duplicate/pending), reason,
  duplicate_of, job_id, job_status, attempts, call_result, call_duration_s, finished_at
  (in the operator's time zone, ISO-8601 with its offset), fetched_at (same zone);
* ``phone_column`` (prefixed like the others) only when some row's number came from a listed
  phone column other than the first (``columns.phone`` with several headers): that header,
  empty for the rows whose number came from the first;
* one ``report.<key>`` column per key of the bots' ``reportData`` (nested values as JSON).

The suffix names the format (:func:`~pipeline.reports.formats.choose_format`): ``.xlsx`` →
a workbook with typed cells (row, duplicate_of, attempts, call_duration_s and integer/decimal
payload fields are numbers, finished_at/fetched_at and date payload fields are dates; phones,
ids and source cells are text); ``.csv``/``.txt`` → CSV in UTF-8 with BOM, delimited like the
source file (or ``reports.delimiter``), ``.tsv`` → tab-separated; ``.jsonl``/``.json`` →
JSON objects. CSV cells are formula-safe; the file is 0600, written atomically.

Usage::

    with ResultsWriter(Path("results.xlsx"), leading=["payload.name"],
                       report_keys=["callResult"], tz=ZoneInfo("Europe/Moscow")) as out:
        out.write(["Anna"], ResultFields(file="a.csv", row=1, phone="79160000001",
                                         state="sent", job_id="5", job_status="noAnswer"))
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from pipeline.records import SourceInfo, header_key
from pipeline.reports.files import CommitOnExit
from pipeline.reports.formats import AUTO, CellKind, choose_format
from pipeline.reports.tables import Format, TableWriter, open_output

RESULT_COLUMNS = (
    "file",
    "row",
    "phone",
    "state",
    "reason",
    "duplicate_of",
    "job_id",
    "job_status",
    "attempts",
    "call_result",
    "call_duration_s",
    "finished_at",
    "fetched_at",
)
RESULT_KINDS: tuple[CellKind, ...] = (
    "text",  # file
    "integer",  # row
    "text",  # phone: never a number (leading zeros, 11+ digits)
    "text",  # state
    "text",  # reason
    "integer",  # duplicate_of
    "text",  # job_id: an id, not a quantity
    "text",  # job_status
    "integer",  # attempts
    "text",  # call_result
    "integer",  # call_duration_s
    "datetime",  # finished_at
    "datetime",  # fetched_at
)
PAYLOAD_PREFIX = "payload."
PHONE_COLUMN = "phone_column"
REPORT_PREFIX = "report."


@dataclass(frozen=True, slots=True)
class ResultFields:
    """Everything of one result line except the leading columns."""

    file: str
    row: int
    phone: str | None
    state: str
    reason: str | None = None
    duplicate_of: int | None = None
    job_id: str | None = None
    job_status: str | None = None
    attempts: int | None = None
    call_result: str | None = None
    call_duration_s: int | None = None
    finished_at: datetime | None = None
    fetched_at: datetime | None = None
    report_data: Any = None
    phone_column: str | None = None


def report_columns(report_data: Any) -> dict[str, str]:
    """``reportData`` flattened one level: key → cell text (nested values as JSON)."""
    if report_data is None:
        return {}
    if not isinstance(report_data, dict):
        return {"": _text(report_data)}  # a bot wrote a bare value: one "report" column
    return {str(k): _text(v) for k, v in report_data.items()}


def report_header(key: str) -> str:
    """The column name of a ``reportData`` key."""
    return REPORT_PREFIX + key if key else REPORT_PREFIX.rstrip(".")


def result_columns(leading: Sequence[str]) -> list[str]:
    """Our column names, prefixed when a leading column already uses one of them."""
    taken = {header_key(h) for h in leading}
    if not taken.intersection(RESULT_COLUMNS):
        return list(RESULT_COLUMNS)
    prefix = "result_"
    while taken.intersection(header_key(prefix + c) for c in RESULT_COLUMNS):
        prefix = "_" + prefix
    return [prefix + c for c in RESULT_COLUMNS]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


class ResultsWriter(CommitOnExit):
    """Streams result lines to ``path`` (columns and formats in the module docstring)."""

    def __init__(
        self,
        path: Path,
        *,
        leading: Sequence[str],
        report_keys: Sequence[str],
        tz: tzinfo,
        sheet_title: str = "results",
        leading_kinds: Sequence[CellKind] = (),
        delimiter: str = AUTO,
        source: SourceInfo | None = None,
        phone_column: bool = False,
    ) -> None:
        """``leading_kinds``: how the leading columns are typed (text when not given);
        ``delimiter``: ``reports.delimiter``; ``source``: the file the leading columns come
        from, whose CSV delimiter ``auto`` copies; ``phone_column``: add that column."""
        self.path = path
        self.tz = tz
        fmt = choose_format(path, delimiter=delimiter, source=source)
        self.format: Format = fmt.kind
        self._leading = len(leading)
        self._report_keys = list(report_keys)
        ours = result_columns(leading)
        self._phone_column = phone_column
        if phone_column:  # with the prefix the others got, if any
            ours.append(ours[0].removesuffix(RESULT_COLUMNS[0]) + PHONE_COLUMN)
        header = [*leading, *ours, *(report_header(k) for k in report_keys)]
        kinds = list(leading_kinds[: len(leading)])
        kinds += ["text"] * (len(leading) - len(kinds))
        ours_kinds: list[CellKind] = [*RESULT_KINDS]
        if phone_column:
            ours_kinds.append("text")
        self._out: TableWriter = open_output(
            path, header, fmt, kinds=[*kinds, *ours_kinds], sheet_title=sheet_title
        )

    @property
    def rows_written(self) -> int:
        return self._out.rows_written

    def write(self, leading: Sequence[str], f: ResultFields) -> None:
        """One line: the leading cells (padded/cut to the leading header), then the outcome."""
        cells = list(leading[: self._leading])
        cells.extend([""] * (self._leading - len(cells)))
        report = report_columns(f.report_data)
        cells.extend(
            [
                f.file,
                str(f.row),
                f.phone or "",
                f.state,
                f.reason or "",
                _opt(f.duplicate_of),
                f.job_id or "",
                f.job_status or "",
                _opt(f.attempts),
                f.call_result or "",
                _opt(f.call_duration_s),
                self._time(f.finished_at),
                self._time(f.fetched_at),
                *([f.phone_column or ""] if self._phone_column else []),
                *(report.get(k, "") for k in self._report_keys),
            ]
        )
        self._out.write_row(cells)

    def _time(self, value: datetime | None) -> str:
        return "" if value is None else value.astimezone(self.tz).isoformat(timespec="seconds")

    def close(self) -> None:
        """Finish the file (it appears at ``path`` only now)."""
        self._out.close()

    def abort(self) -> None:
        """Discard the partial file."""
        self._out.abort()


def _opt(value: int | None) -> str:
    return "" if value is None else str(value)
