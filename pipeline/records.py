"""Plain data records passed between the stages (extract → transform → plan → report).

They hold no behaviour and import nothing from the rest of the package, so every stage can
depend on them without depending on each other.

Usage::

    for chunk in read_table(path, options):          # extract yields RowChunk
        for number, cells in zip(chunk.row_numbers, chunk.rows):
            ...                                     # cells[i] is the text under header[i]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class InputFile:
    """An input file as a run saw it: its name, and the sha256 and size of the bytes read."""

    name: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What the reader found out about one input file (stored on the run record)."""

    path: str
    format: str  # "csv" | "xlsx"
    header: tuple[str, ...]  # header cells as written in the file (BOM stripped)
    encoding: str | None = None  # csv only: "utf-8", "utf-8-sig" or "cp1251"
    delimiter: str | None = None  # csv only
    sheet: str | None = None  # xlsx only: the sheet's name
    header_row: int = 1  # 1-based line (csv) or sheet row (xlsx) of the header


@dataclass(slots=True)
class RowChunk:
    """A run of consecutive data records, every cell as text.

    ``row_numbers[i]`` is the 1-based number of the data record after the header (blank
    records included, a quoted multi-line record counted once): the number an operator finds in
    the file. ``rows[i]`` has exactly ``len(header)`` cells; missing cells are ``""``.
    ``extra`` maps a row number to the cells found beyond the header when any of them is
    non-empty (a shifted or over-long record): such a row should be rejected, not guessed.
    """

    row_numbers: list[int]
    rows: list[list[str]]
    extra: dict[int, list[str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why one input row will not be sent. ``code`` is a stable reason code (see README)."""

    row: int
    column: str | None
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A row that repeats an earlier accepted row (same phone, payload and policy)."""

    row: int
    duplicate_of: int


@dataclass(slots=True)
class CallItem:
    """One accepted row in the API's form, ready to be planned into a batch.

    ``phone`` is digits with country code and no ``+``; ``payload`` and ``policy`` hold JSON
    values under the API's field names (``policy`` keys: gmtZone, startDateTime, ...).
    ``zone_source`` says how the zone was decided (``pipeline.transform.timezones``; None:
    not decided by the tool); ``given`` is the policy as the operator gave it when the tool
    added to it (zone, preset window): the row's identity is made from that, not ``policy``.
    ``phone_column`` is the header of the column the phone came from when ``columns.phone``
    lists several and it is not the first listed one (None: the first).
    """

    row: int
    phone: str
    payload: dict[str, Any] = field(default_factory=dict)
    policy: dict[str, Any] = field(default_factory=dict)
    zone_source: str | None = None
    given: dict[str, Any] | None = None
    phone_column: str | None = None

    def to_api(self) -> dict[str, Any]:
        """The element of the ``addPhones`` JSON array for this row."""
        item: dict[str, Any] = {"phone": self.phone}
        if self.payload:
            item["payload"] = self.payload
        item.update(self.policy)
        return item


def header_key(text: str) -> str:
    """The form of a header used for matching config names to file headers.

    Strips a BOM and surrounding spaces, folds runs of inner white space to one space, and
    case-folds, so ``"\\ufeffPhone "``, ``"phone"`` and ``"PHONE"`` all match ``phone``.
    """
    return " ".join(text.replace("\ufeff", "").split()).casefold()
