"""Refuse a hostile or oversized workbook before a spreadsheet library opens it.

:func:`guard_workbook` runs when an XLSX table opens (``XlsxTable``), for either engine, and
keeps memory bounded whatever the file holds:

1. the archive: entry count, declared sizes and their total, compression ratio
   (:mod:`.xlsx_zip`); every part is then inflated once, in blocks, and refused the moment
   it runs past the size it declared (a lying size is how a bomb slips past step 1); the
   sheet and the shared strings are inflated by a thread while the blocks before are scanned
   (:mod:`.xlsx_ahead`);
2. the sheet that will be read: the rectangle its cells really span (not the ``<dimension>``
   it declares, which calamine ignores and a file can fake) against ``max_columns`` and
   ``max_cells``, and the text of each cell against ``max_cell_chars`` (:mod:`.xlsx_scan`);
3. the shared strings (loaded whole by both libraries): each text against ``max_cell_chars``.

Each refusal is an :class:`InputFileError` naming the bound, the value found and the
``input.*`` setting that raises it.

Usage::

    guard_workbook(Path("export.xlsx"), sheet=None, limits=Limits(), name="export.xlsx")
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from pathlib import Path
from xml.parsers import expat

from pipeline.errors import InputFileError
from pipeline.extract.options import Limits
from pipeline.extract.xlsx_ahead import Ahead
from pipeline.extract.xlsx_exact import Malformed, TooBig, exact_sheet, exact_strings
from pipeline.extract.xlsx_scan import Irregular, LongText, SheetScan, StringsScan, within
from pipeline.extract.xlsx_zip import MIB, bound_error, inflate, open_archive, unreadable

_SMALL = 16 * MIB  # workbook.xml and its relationships are a few KB in any real workbook
_DIMENSION = re.compile(rb'<(?:[\w.-]+:)?dimension\s+ref\s*=\s*["\']([^"\']*)')


def guard_workbook(path: Path, sheet: str | int | None, limits: Limits, name: str) -> None:
    """Raise InputFileError when the workbook, or the sheet ``sheet`` of it (a name, a 0-based
    index, None for the first), is beyond ``limits`` (module docstring).

    A file that passed is not scanned again while it is the same file (device, inode, size,
    modification time): ``upload`` checks a file's structure, then opens it to read it.
    """
    stat = path.stat()
    key = (str(path), stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, sheet, limits)
    if key in _PASSED:
        return
    _check(path, sheet, limits, name)
    if len(_PASSED) >= 64:
        _PASSED.clear()
    _PASSED.add(key)


_PASSED: set[tuple[object, ...]] = set()


def _check(path: Path, sheet: str | int | None, limits: Limits, name: str) -> None:
    with open_archive(path, limits, name) as archive:
        sheets, strings = _parts_to_scan(archive, sheet, name)
        for info in archive.infolist():
            if info.filename in sheets:
                _check_sheet(archive, info, sheets[info.filename], limits, name)
            elif info.filename in strings:
                _check_strings(archive, info, limits, name)
            else:
                for _ in inflate(archive, info, name):
                    pass  # only its size is checked


def _check_sheet(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str, limits: Limits, name: str
) -> None:
    declared = ""
    scan = SheetScan(limits)
    try:
        try:
            with Ahead(archive, info, name) as blocks:
                for block in blocks:
                    if not declared:
                        found = _DIMENSION.search(block, 0, 1 << 16)
                        declared = found.group(1).decode("ascii", "replace") if found else "-"
                    scan.feed(block)
            scan.finish()
            rows, columns = scan.rows, scan.columns
        except Irregular:
            with Ahead(archive, info, name) as blocks:
                rows, columns = exact_sheet(blocks, limits)
    except TooBig as exc:
        rows, columns = exc.rows, exc.columns
    except LongText as exc:
        # without a cell: text with no tag in it for 16 times the bound, in a cell or not
        count = f"{exc.chars:,} characters or more"
        what = f"cell {exc.cell} holds {count}" if exc.cell else f"holds a text of {count}"
        raise _long_text(name, f"sheet {label!r}, {what}", limits) from None
    except Malformed as exc:
        raise unreadable(name, f"part {info.filename} is not well-formed XML: {exc}") from None
    if within(rows, columns, limits):
        return
    span = f"A1:{_cell_name(rows, columns)}"
    claim = f"; the sheet declares {declared} as its size" if declared not in ("", "-") else ""
    what = f"sheet {label!r}: its cells span {span} ({rows:,} rows x {columns:,} columns{claim})"
    if columns > limits.max_columns:
        raise bound_error(name, what, "max_columns", limits.max_columns, " columns")
    raise bound_error(
        name, f"{what}, {rows * columns:,} cells to hold", "max_cells", limits.max_cells, " cells"
    )


def _check_strings(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits, name: str
) -> None:
    try:
        try:
            scan = StringsScan(limits)
            with Ahead(archive, info, name) as blocks:
                for block in blocks:
                    scan.feed(block)
            scan.finish()
        except Irregular:
            with Ahead(archive, info, name) as blocks:
                exact_strings(blocks, limits)
    except LongText as exc:
        what = f"a text of its shared strings holds {exc.chars:,} characters or more"
        raise _long_text(name, what, limits) from None
    except Malformed as exc:
        raise unreadable(name, f"part {info.filename} is not well-formed XML: {exc}") from None


def _long_text(name: str, what: str, limits: Limits) -> InputFileError:
    return InputFileError(
        f"{name}: {what}, more than input.max_cell_chars = {limits.max_cell_chars:,} allows "
        f"(Excel's own limit is 32,767). Check that cell in Excel; if the text is real, raise "
        f"input.max_cell_chars."
    )


def _cell_name(row: int, column: int) -> str:
    letters = ""
    while column:
        column, rem = divmod(column - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters or 'A'}{max(row, 1)}"


# ---- which parts hold the chosen sheet and the shared strings -------------------------------


def _parts_to_scan(
    archive: zipfile.ZipFile, wanted: str | int | None, name: str
) -> tuple[dict[str, str], set[str]]:
    """``({part: sheet label}, {shared-strings parts})``. When the workbook's own index cannot
    be followed, every XML part is scanned as a sheet: slower, never less safe."""
    members = {info.filename: info for info in archive.infolist()}
    strings = {n for n in members if n.lower().endswith("sharedstrings.xml")}
    try:
        sheets = _index(archive, members, "xl/workbook.xml", name)
        targets = _index(archive, members, "xl/_rels/workbook.xml.rels", name)
    except (LookupError, Malformed):
        sheets, targets = [], []
    relations = {rid: (kind, target) for rid, kind, target in targets}
    for kind, target in relations.values():
        if kind.endswith("/sharedStrings"):
            strings.add(_resolve(target))
    chosen = _choose(sheets, wanted)
    part = _resolve(relations.get(chosen[1], ("", ""))[1]) if chosen else ""
    if chosen and part in members:
        return {part: chosen[0]}, strings
    if chosen and not part:
        return {}, strings  # a chart or other sheet without cells: nothing to hold
    every = {n: n for n in members if n.lower().endswith(".xml") and n not in strings}
    return every, strings


def _choose(sheets: list[tuple[str, str, str]], wanted: str | int | None) -> tuple[str, str] | None:
    """``(name, relation id)`` of the sheet the reader will pick (see ``pick_sheet``)."""
    names = [sheet_name for sheet_name, _, _ in sheets]
    index: int | None = None
    if wanted is None or isinstance(wanted, int):
        index = wanted or 0
    elif wanted in names:
        index = names.index(wanted)
    else:
        key = wanted.strip().casefold()
        folded = [i for i, n in enumerate(names) if n.strip().casefold() == key]
        index = folded[0] if len(folded) == 1 else None
    if index is None or not 0 <= index < len(sheets):
        return None
    return sheets[index][0], sheets[index][1]


def _resolve(target: str) -> str:
    """A relationship target of the workbook part as a part name of the archive."""
    if not target:
        return ""
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join("xl", target))


def _index(
    archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], part: str, name: str
) -> list[tuple[str, str, str]]:
    """The ``sheet`` (name, r:id) or ``Relationship`` (Id, Type, Target) entries of a small
    workbook part."""
    info = members.get(part)
    if info is None or info.file_size > _SMALL:
        raise LookupError(part)
    found: list[tuple[str, str, str]] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        local = tag.rpartition(":")[2]
        if local == "sheet":  # the relationship id is "r:id" whatever the prefix is
            rid = next((v for k, v in attrs.items() if k.rpartition(":")[2] == "id"), "")
            found.append((attrs.get("name", ""), rid, ""))
        elif local == "Relationship":
            found.append((attrs.get("Id", ""), attrs.get("Type", ""), attrs.get("Target", "")))

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = _refuse
    try:
        parser.Parse(b"".join(inflate(archive, info, name)), True)
    except expat.ExpatError as exc:
        raise Malformed(str(exc)) from None
    return found


def _refuse(*_: object) -> None:
    raise expat.ExpatError("a DOCTYPE, which no workbook part has")
