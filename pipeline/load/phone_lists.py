"""Do-not-call files (``suppress.files``) read into sets of phones.

Usage::

    phones = read_phone_list(Path("dnc.csv"), cfg)      # frozenset of normalised phones
    for chunk in phone_chunks(Path("dnc.csv"), cfg):    # the same, streamed (suppress import)
        ...

A list file is a CSV or XLSX table (read as text by the same readers as an export: encoding
and delimiter detected, numbers in XLSX cells exact) whose header names the phone column
``suppress.column`` (default ``phone``), or which has only one column; a file without a header
is read from its first line. Each phone is normalised with the config's ``phone:`` rules,
exactly as rows are, so ``8 (916) 123-45-67`` in the list stops ``+7 916 123 45 67`` in the
export. A cell that is no phone (a typo, a number Excel turned into ``7,9E+10``) is a
:class:`~pipeline.errors.ConfigError` naming file and row: a list that silently lost numbers
would let someone be called. Blank rows are skipped.

Speed: a plain CSV is read column-wise by the range reader validate uses and each chunk's
cells are normalised in one ``normalize_many`` call (validate's own column path), so a
1,000,000-phone list costs about what validate's phone column of 1M rows costs.

No database code is imported here: ``validate`` reads the lists without loading the ledger.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import chain
from pathlib import Path

from pipeline.config import Config
from pipeline.errors import ConfigError, InputFileError
from pipeline.extract import ReadOptions, open_table
from pipeline.extract.csv_reader import CsvTable
from pipeline.extract.ranges import plan_ranges, read_range
from pipeline.records import header_key
from pipeline.transform.phones import PhoneNormalizer, PhoneProblem

__all__ = ["phone_chunks", "read_phone_list"]


def read_phone_list(path: Path, cfg: Config, *, name: str | None = None) -> frozenset[str]:
    """The normalised phones of one list file (rules in the module docstring)."""
    # built once from the chunks as they come: no second copy of the set at any moment
    return frozenset(chain.from_iterable(phone_chunks(path, cfg, name=name)))


def phone_chunks(
    path: Path, cfg: Config, *, name: str | None = None, importing: bool = False
) -> Iterator[list[str]]:
    """The normalised phones of one list file, a chunk (tens of thousands) at a time, in file
    order, repeats kept; a bad cell raises :class:`ConfigError` when its chunk is reached, so
    a consumer that writes as it reads must do so in one transaction (``suppress import``,
    which passes ``importing=True`` so the messages speak of the import, not of an upload)."""
    shown = name or str(path)
    where, outcome = (
        ("suppress import", "nothing was added to the list")
        if importing
        else ("suppress.files", "nothing was uploaded")
    )
    # No cache: a list names each phone once, and the answers are the same without it.
    norm = PhoneNormalizer(cfg.phone, cache_size=0)
    try:
        with open_table(path, ReadOptions(), name=shown) as table:
            info = table.info
            index = _phone_column(info.header, cfg.suppress.column, shown, where)
            first = norm.normalize(info.header[index])
            if isinstance(first, str):  # no header: the first line is a phone of the list
                yield [first]
            if not isinstance(table, CsvTable) or not table.plain:
                # a workbook, or a gzip/zip/UTF-16 CSV: the table's own rows
                for chunk in table.chunks():
                    cells = [row[index] for row in chunk.rows]
                    yield _normalised(
                        norm, chunk.row_numbers, cells, shown, where=where, outcome=outcome
                    )
                return
            data_line, detected = table.data_line, table.encoding_detected
        # A plain CSV is read column-wise, as validate reads an export (a third of the cost).
        for part in plan_ranges(path, info, data_line, 1) or ():  # None: no data rows
            limits = ReadOptions().limits
            for row, columns, _ in read_range(path, info, part, detected=detected, limits=limits):
                cells = columns[index]
                rows = range(row, row + len(cells))
                yield _normalised(norm, rows, cells, shown, where=where, outcome=outcome)
    except InputFileError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _normalised(
    norm: PhoneNormalizer,
    rows: Sequence[int],
    cells: list[str],
    shown: str,
    *,
    where: str,
    outcome: str,
) -> list[str]:
    """The phones of the cells of ``rows`` (blank cells skipped), normalised in
    one call as validate normalises a column; the first cell that is no phone is an error."""
    got = norm.normalize_many(cells)
    phones = [phone for phone in got if type(phone) is str]
    if len(phones) == len(got):
        return phones
    for row, cell, phone in zip(rows, cells, got, strict=True):
        if isinstance(phone, PhoneProblem) and cell.strip():  # a blank row: nothing to list
            raise ConfigError(
                f"{where}: {shown} row {row} (after the header): "
                f"{phone.message} ({phone.code}). Fix or delete that row of the "
                f"do-not-call list; {outcome}."
            )
    return phones


def _phone_column(header: tuple[str, ...], column: str, shown: str, where: str) -> int:
    keys = [header_key(cell) for cell in header]
    wanted = header_key(column)
    if wanted in keys:
        return keys.index(wanted)
    if len(keys) == 1:
        return 0
    raise ConfigError(
        f"{where}: {shown} has no column {column!r} (its header: "
        f"{', '.join(map(repr, header))}); name the phone column with suppress.column."
    )
