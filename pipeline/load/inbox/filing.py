"""Moving a file of the inbox into ``done/`` or ``failed/``: never over another file, and safe
to repeat after a crash at any point.

Usage::

    where = file_away(Path("inbox/export.csv"), Path("inbox/failed"), note="why, what to do")
    where       # inbox/failed/export.csv, or inbox/failed/export.2.csv when that name was taken;
                # the note beside it: inbox/failed/export.csv.note.txt

How: the file is hard-linked under the first free name (``link`` fails rather than replace a
file that exists, so two runs or a same-named later export never overwrite one another), the
note is written beside it, and only then is the inbox's name removed. A crash between those
steps leaves the file in the inbox too; the next run files it again, finds its own link (same
inode) under the first name it tries and only removes the inbox's name. Where hard links are
not possible (some network shares), it is renamed after checking that the name is free.
Folders are created 0700 and notes 0600 (DESIGN §2.6).
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

from pipeline.private import make_private_dirs

# Suffixes kept whole when a number is put before them: export.2.csv.gz, not export.csv.2.gz.
DOUBLE_SUFFIXES = (".csv.gz", ".tsv.gz", ".txt.gz")
NOTE_SUFFIX = ".note.txt"
_NO_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK}


def numbered(name: str, n: int) -> str:
    """``name`` with ``n`` before its suffix (``n`` 1: the name itself)."""
    if n == 1:
        return name
    lower = name.lower()
    suffix = next((s for s in DOUBLE_SUFFIXES if lower.endswith(s)), Path(name).suffix)
    stem = name[: len(name) - len(suffix)] if suffix else name
    return f"{stem}.{n}{suffix}"


def file_away(source: Path, folder: Path, *, note: str | None = None) -> Path | None:
    """Move ``source`` into ``folder`` under a free name (see the module doc); returns it, or
    None when ``source`` is gone (another run filed it meanwhile)."""
    make_private_dirs(folder)
    try:
        target = _link(source, folder)
    except FileNotFoundError:
        return None
    if note is not None:
        _write_note(target.with_name(target.name + NOTE_SUFFIX), note)
    with contextlib.suppress(FileNotFoundError):
        source.unlink()  # its link in ``folder`` holds the bytes now
    return target


def _link(source: Path, folder: Path) -> Path:
    n = 1
    while True:
        target = folder / numbered(source.name, n)
        try:
            os.link(source, target, follow_symlinks=False)
            return target
        except FileExistsError:
            if _same(source, target):
                return target  # linked by a run that died before removing the inbox's name
        except OSError as exc:
            if exc.errno not in _NO_LINKS:
                raise
            if not target.exists():
                source.rename(target)  # no links here: checked, then renamed
                return target
        n += 1


def _same(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


def _write_note(path: Path, text: str) -> None:
    """Write the note whole or not at all (a crash leaves no half note behind)."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text.rstrip("\n") + "\n")
    partial.replace(path)
