"""Which files of an inbox folder are ready: settled, not temporary, in order of arrival.

Usage::

    ready, busy = settled_files(Path("/srv/exports"), settle_s=10, sleep=control.sleep)
    for arrival in ready:            # oldest first (mtime, then name)
        arrival.path, arrival.unchanged()   # False once it was touched after the look

A file is *settled* when two looks ``settle_s`` apart saw the same size, modification time and
inode: a CRM or an SMB copy still writing it changes one of them. Never taken, whatever their
age: hidden files (``.name``, which includes LibreOffice's ``.~lock.*#``), Office's ``~$*``
owner files, partial downloads and temporary files (:data:`NEVER`), anything that is not a
regular file (the ``done/`` and ``failed/`` folders), and names matching ``inbox.ignore``.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

# Names writers use while a file is not whole yet, or for their own scratch files.
NEVER = (
    ".*",  # hidden: also .~lock.x.xlsx# (LibreOffice) and rsync's .x.csv.AbCdEf
    "~$*",  # Excel/Word owner file beside an open workbook
    "*~",  # editors' backups
    "*.part",  # Firefox, wget, many sync tools
    "*.partial",
    "*.crdownload",  # Chrome
    "*.download",  # Safari
    "*.filepart",  # WinSCP
    "*.tmp",
    "*.temp",
    "*.swp",
)


@dataclass(frozen=True, slots=True)
class Arrival:
    """One look at a file of the inbox."""

    path: Path
    size: int
    mtime_ns: int
    inode: int

    def unchanged(self) -> bool:
        """Whether the file is still there exactly as this look saw it."""
        again = look(self.path)
        return again is not None and again.key == self.key

    @property
    def key(self) -> tuple[int, int, int]:
        """What a writer changes: size, modification time, inode."""
        return (self.size, self.mtime_ns, self.inode)


def look(path: Path) -> Arrival | None:
    """The file's size, time and inode now; None when it is gone or no regular file."""
    try:
        st = path.stat()
    except OSError:
        return None
    if not path.is_file():
        return None
    return Arrival(path, st.st_size, st.st_mtime_ns, st.st_ino)


def ignored(name: str, extra: Sequence[str] = ()) -> bool:
    """Whether a file named ``name`` is never taken (see the module doc)."""
    folded = name.casefold()
    return any(fnmatch.fnmatchcase(folded, p.casefold()) for p in (*NEVER, *extra))


def candidates(folder: Path, ignore: Sequence[str] = ()) -> list[Arrival]:
    """The files of ``folder`` (not below it) that may be taken, oldest first."""
    found = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if ignored(entry.name, ignore) or not entry.is_file():
                continue
            seen = look(Path(entry.path))
            if seen is not None:
                found.append(seen)
    return sorted(found, key=lambda a: (a.mtime_ns, a.path.name))


def settled_files(
    folder: Path,
    *,
    settle_s: float,
    sleep: Callable[[float], None],
    ignore: Sequence[str] = (),
) -> tuple[list[Arrival], list[Path]]:
    """The settled files of ``folder`` oldest first, and the ones still changing.

    Looks, waits ``settle_s`` (with ``sleep``: a stop cuts it short, and then the second look
    finds what it finds), looks again. With ``settle_s`` 0 every candidate is settled.
    """
    first = candidates(folder, ignore)
    if not first or settle_s <= 0:
        return first, []
    sleep(settle_s)
    second = {a.path: a for a in candidates(folder, ignore)}
    ready, busy = [], []
    for arrival in first:
        later = second.get(arrival.path)
        if later is not None and later.key == arrival.key:
            ready.append(later)
        elif later is not None:
            busy.append(arrival.path)
    # A file that appeared during the wait waits for the next run: it had no first look.
    busy += [p for p in second if p not in {a.path for a in first}]
    return ready, busy
