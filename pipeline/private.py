"""Files and folders only this user can read (DESIGN.md §2, invariant 6): the ledger and the
reports hold phone numbers.

Usage::

    make_private_dirs(Path("out/reports"))   # each folder it creates is 0700, whatever the umask
    old = narrow_file(Path("ledger.sqlite3"))  # 0600 if others could read it; the old mode

Folders that already exist are left as they are (they are the operator's); a folder created
here gets 0700 even under a umask that would have given it less or more.
"""

from __future__ import annotations

import stat
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def make_private_dirs(path: Path) -> None:
    """Create ``path`` and its missing parents, each 0700 (OSError when that fails)."""
    missing: list[Path] = []
    here = path
    while not here.exists() and here != here.parent:
        missing.append(here)
        here = here.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(DIR_MODE)
        except FileExistsError:
            continue  # made by another process meanwhile: not ours to change
        # mkdir's mode passes through the umask; say exactly what we mean.
        folder.chmod(DIR_MODE)


def narrow_file(path: Path) -> int | None:
    """Make an existing file 0600 when its group or others have any access to it.

    Returns the mode it had when it was narrowed; None when it was private already or does not
    exist.
    """
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None
    if not mode & 0o077:
        return None
    path.chmod(FILE_MODE)
    return mode
