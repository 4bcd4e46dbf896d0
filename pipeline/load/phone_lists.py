"""Do-not-call files (``suppress.files``) read into sets of phones.

Usage::

    phones = read_phone_list(Path("dnc.csv"), cfg)      # frozenset of normalised phones

A list file is a CSV or XLSX table (read as text by the same readers as an export: encoding
and delimiter detected, numbers in XLSX cells exact) whose header names the phone column
``suppress.column`` (default ``phone``), or which has only one column; a file without a header
is read from its first line. Each phone is normalised with the config's ``phone:`` rules,
exactly as rows are, so ``8 (916) 123-45-67`` in the list stops ``+7 916 123 45 67`` in the
export. A cell that is no phone (a typo, a number Excel turned into ``7,9E+10``) is a
:class:`~pipeline.errors.ConfigError` naming file and row: a list that silently lost numbers
would let someone be called. Blank rows are skipped.

No database code is imported here: ``validate`` reads the lists without loading the ledger.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.config import Config
from pipeline.errors import ConfigError, InputFileError
from pipeline.extract import ReadOptions, open_table
from pipeline.records import header_key
from pipeline.transform.phones import PhoneNormalizer, PhoneProblem

__all__ = ["read_phone_list"]


def read_phone_list(path: Path, cfg: Config, *, name: str | None = None) -> frozenset[str]:
    """The normalised phones of one list file (rules in the module docstring)."""
    shown = name or str(path)
    norm = PhoneNormalizer(cfg.phone)
    phones: set[str] = set()
    try:
        with open_table(path, ReadOptions(), name=shown) as table:
            index = _phone_column(table.info.header, cfg.suppress.column, shown)
            first = norm.normalize(table.info.header[index].strip())
            if isinstance(first, str):  # no header: the first line is a phone of the list
                phones.add(first)
            for chunk in table.chunks():
                cells = [row[index].strip() for row in chunk.rows]
                for row, cell, got in zip(
                    chunk.row_numbers, cells, norm.normalize_many(cells), strict=True
                ):
                    if isinstance(got, PhoneProblem):
                        if not cell:
                            continue  # a blank row: nothing to suppress
                        raise ConfigError(
                            f"suppress.files: {shown} row {row} (after the header): "
                            f"{got.message} ({got.code}). Fix or delete that row of the "
                            f"do-not-call list; nothing was uploaded."
                        )
                    phones.add(got)
    except InputFileError as exc:
        raise ConfigError(f"suppress.files: {exc}") from None
    return frozenset(phones)


def _phone_column(header: tuple[str, ...], column: str, shown: str) -> int:
    keys = [header_key(cell) for cell in header]
    wanted = header_key(column)
    if wanted in keys:
        return keys.index(wanted)
    if len(keys) == 1:
        return 0
    raise ConfigError(
        f"suppress.files: {shown} has no column {column!r} (its header: "
        f"{', '.join(map(repr, header))}); name the phone column with suppress.column."
    )
