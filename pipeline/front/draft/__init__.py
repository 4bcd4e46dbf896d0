"""``init``: draft a commented config from an export file.

The file is read by the pipeline's own readers (:func:`pipeline.extract.open_table`: CSV of
every supported encoding and delimiter, XLSX/XLSM/XLSB, XLS, ODS, gzip/zip CSV, title lines
above the header found by the header search), its first :data:`SAMPLE_ROWS` data rows are
looked at, the columns are chosen (:mod:`.column_choice`) and the config is written
(:mod:`.draft_yaml`) — after loading it back through :func:`pipeline.config.load_config`, so
a draft that would not load is never left behind.

Usage::

    import pipeline
    draft = pipeline.init_config("export.csv", "reminders.yaml")   # force=True to overwrite
    draft.path, draft.mapping.phones, draft.mapping.unmapped

Errors: an export with no column of phone numbers is an
:class:`~pipeline.errors.InputFileError` (exit 6) naming the headers it saw; an existing
output without ``force`` is an :class:`~pipeline.errors.OutputFileError` (exit 1).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

from pipeline.config import Config, load_config
from pipeline.errors import ConfigError, InputFileError, OutputFileError
from pipeline.extract import WORKBOOKS, ReadOptions, open_table
from pipeline.extract.options import DELIMITERS
from pipeline.front.draft.column_choice import Mapping, choose_columns
from pipeline.front.draft.draft_yaml import render_config
from pipeline.front.draft.known_headers import PHONE
from pipeline.private import FILE_MODE, make_private_dirs
from pipeline.records import SourceInfo, header_key

SAMPLE_ROWS = 200  # enough to tell a phone column from a notes column; read in a blink
TITLE_ROWS = 20  # rows tried as the header when the phone header is not a known name
MAX_SHEETS = 20  # sheets of a workbook tried when the first one holds no phones

__all__ = ["SAMPLE_ROWS", "Draft", "default_output", "init_config"]


@dataclass(slots=True)
class Draft:
    """A config drafted from an export: where it was written, its text, the mapping chosen
    (with the reasons), what the reader found out about the file, and the loaded config."""

    path: Path
    text: str
    mapping: Mapping
    info: SourceInfo
    config: Config
    notes: list[str] = field(default_factory=list)


def default_output(export: str | PathLike[str]) -> Path:
    """``export.csv.gz`` → ``./export.yaml``: in the current folder, named after the export."""
    name = Path(export).name
    for suffix in (".gz", ".zip"):
        name = name.removesuffix(suffix)
    return Path(Path(name).stem + ".yaml")


def init_config(
    export: str | PathLike[str],
    out: str | PathLike[str] | None = None,
    *,
    force: bool = False,
    sample_rows: int = SAMPLE_ROWS,
) -> Draft:
    """Draft a config for ``export`` and write it to ``out`` (default: :func:`default_output`).

    Refuses to overwrite an existing ``out`` unless ``force`` (and never the export itself).
    The file is written 0600 only after the text loads through the normal config loader.
    """
    source = Path(export)
    target = Path(out) if out is not None else default_output(source)
    _check_target(source, target, force=force)
    info, samples, notes = _read(source, str(export), sample_rows)
    mapping = choose_columns(info.header, samples)
    first = info
    if not mapping.phones:
        found = _below_title(source, str(export), info, samples, sample_rows) or _other_sheet(
            source, str(export), info, sample_rows
        )
        if found is None:
            raise _no_phone(str(export), info, len(samples))
        info, samples, notes, mapping = found
    text = render_config(
        mapping,
        info,
        export_name=str(export),
        config_name=str(target),
        notes=notes,
        sheet_chosen=info.sheet != first.sheet,
    )
    config = _write(target, text, force=force)
    return Draft(target, text, mapping, info, config, notes)


def _read(
    source: Path,
    name: str,
    limit: int,
    *,
    header_row: int | None = None,
    delimiter: str = "auto",
    sheet: int | None = None,
) -> tuple[SourceInfo, list[list[str]], list[str]]:
    """The header, the first ``limit`` data rows and the reader's notes. The header search
    looks for a known phone header among the first rows (title lines above it are skipped)."""
    phone_names = frozenset(header_key(header) for header, _ in PHONE.names)
    options = ReadOptions(
        header_names=(phone_names,),
        header_row=header_row,
        delimiter=delimiter,  # type: ignore[arg-type]
        sheet=sheet,
    )
    samples: list[list[str]] = []
    with open_table(source, options, name=name) as table:
        for chunk in table.chunks():
            # with the cells beyond the header: under a title line taken for the header they
            # are the real columns (see _below_title)
            for number, row in zip(chunk.row_numbers, chunk.rows, strict=True):
                samples.append(row + chunk.extra.get(number, []))
                if len(samples) >= limit:
                    break
            if len(samples) >= limit:
                break
        return table.info, samples, list(table.notes)


def _below_title(
    source: Path,
    name: str,
    info: SourceInfo,
    samples: list[list[str]],
    limit: int,
    *,
    sheet: int | None = None,
) -> tuple[SourceInfo, list[list[str]], list[str], Mapping] | None:
    """When the header chosen holds no phone column and no known phone header was found, the
    real header may lie below title lines: try the first rows as the header. A CSV's
    delimiter was sniffed without knowing the header then (a one-cell title line fits any),
    so each delimiter is tried in turn."""
    tries: list[str] = ["auto"]
    if info.format == "csv":
        tries += [d for d in DELIMITERS if d != info.delimiter]
    for delimiter in tries:
        if delimiter != "auto":
            try:
                info, samples, _ = _read(source, name, limit, delimiter=delimiter)
            except InputFileError:
                continue
        number = _header_among(samples)
        if number is None:
            continue
        # Row n after the header is line/sheet row header_row + n (title lines hold no
        # quoted line breaks); read again from there so the reader agrees.
        try:
            again, rows, notes = _read(
                source,
                name,
                limit,
                header_row=info.header_row + number,
                delimiter=delimiter,
                sheet=sheet,
            )
        except InputFileError:
            continue
        mapping = choose_columns(again.header, rows)
        if mapping.phones:
            return again, rows, notes, mapping
    return None


def _other_sheet(
    source: Path, name: str, info: SourceInfo, limit: int
) -> tuple[SourceInfo, list[list[str]], list[str], Mapping] | None:
    """A workbook whose first sheet holds no phones (a cover sheet, "data on the second
    sheet"): the first of the next sheets that does, as its header or below title lines."""
    if info.format not in WORKBOOKS:
        return None
    for index in range(1, MAX_SHEETS):
        try:
            other, rows, notes = _read(source, name, limit, sheet=index)
        except InputFileError:
            continue  # no such sheet (the loop is bounded), or an empty one
        mapping = choose_columns(other.header, rows)
        if mapping.phones:
            return other, rows, notes, mapping
        found = _below_title(source, name, other, rows, limit, sheet=index)
        if found is not None:
            return found
    return None


def _header_among(samples: list[list[str]]) -> int | None:
    """The number of the first of the first rows that, taken as the header, has a phone
    column in the rows below it."""
    for number, row in enumerate(samples[:TITLE_ROWS], start=1):
        if sum(1 for cell in row if cell.strip()) < 2:
            continue  # a title, a blank line: not a header
        if choose_columns(row, samples[number:]).phones:
            return number
    return None


def _no_phone(name: str, info: SourceInfo, looked: int) -> InputFileError:
    where = "line" if info.format == "csv" else "sheet row"
    headers = ", ".join(repr(h) for h in info.header if h.strip()) or "(none)"
    return InputFileError(
        f"{name}: no column holds phone numbers. Headers seen ({where} {info.header_row}): "
        f"{headers}; in the {looked} data row(s) looked at no column has mostly callable "
        f"numbers. Check that this is the export with the phones; if the phone column has an "
        f"unusual name or its numbers lack the country code of another country, copy "
        f"configs/example.yaml and set columns.phone (and phone.default_region) by hand."
    )


def _check_target(source: Path, target: Path, *, force: bool) -> None:
    with contextlib.suppress(OSError):
        if target.exists() and target.samefile(source):
            raise OutputFileError(
                f"{target}: that is the export itself; pass --out with the config's path"
            )
    if target.exists() and not force:
        raise OutputFileError(
            f"{target}: the file exists; pass --force to overwrite it, or --out another path"
        )
    if target.is_dir():
        raise OutputFileError(f"{target}: is a folder; pass --out with the config file's path")


def _write(target: Path, text: str, *, force: bool) -> Config:
    """Write ``text`` to ``target`` (0600) once it loads as a config; the loaded config."""
    try:
        make_private_dirs(target.parent)
        fd, temp_name = tempfile.mkstemp(prefix=".init-", suffix=".yaml", dir=target.parent)
    except OSError as exc:
        raise OutputFileError(
            f"{target}: cannot create the config: {exc.strerror or exc}"
        ) from None
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        temp.chmod(FILE_MODE)
        try:
            config = load_config(temp, environ={})
        except ConfigError as exc:  # a bug of the draft, not of the user's file
            raise OutputFileError(f"{target}: the drafted config does not load: {exc}") from None
        if force:
            temp.replace(target)
        else:
            # O_EXCL: fails if the file appeared since the check (never clobber it)
            try:
                out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
            except FileExistsError:
                raise OutputFileError(
                    f"{target}: the file exists; pass --force to overwrite it"
                ) from None
            with os.fdopen(out, "w", encoding="utf-8") as fh:
                fh.write(text)
    except OSError as exc:
        raise OutputFileError(f"{target}: cannot write the config: {exc.strerror or exc}") from None
    finally:
        temp.unlink(missing_ok=True)
    return config
