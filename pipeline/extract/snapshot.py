"""One reading of an input file: a private copy, hashed while it is copied, checked for change.

Usage::

    with Snapshots() as snapshots:
        snap = snapshots.take(Path("export.csv"))   # InputFileError (exit 6) if it changed
        snap.info                                    # InputFile(name, sha256, size) of the copy
        plan(snap.path)                              # read the copy, never the original again
        snapshots.release(snap)                      # the copy is deleted (also by close)

    file_info(Path("export.csv"))                    # InputFile of a file read where it is
                                                     # (results, cancel: they plan nothing)

Why: the operator's file may change while it is read — a CRM sync job that truncates and
rewrites it in place, an export still being written. Reading it twice (once to hash, once to
plan) would record the digest of one version and plan the rows of another; the next run of the
same bytes would then find the file "complete" and never send what the first one missed. So
the file is read exactly once, into a copy only this process can read (a folder 0700, the file
0600, under ``TMPDIR``); the sha256 recorded is the copy's; and the original is compared before
and after (size, modification time, inode): if it changed while it was copied the run stops
(exit 6) and nothing of it is planned. Everything after that — the structural check, planning,
a forked reader — reads the copy, which nobody else writes.

A copy left behind by a killed run is removed by the next run on this host (its folder names
a process that no longer exists).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from pipeline.errors import InputFileError
from pipeline.records import InputFile

_PREFIX = "jaicp-inputs-"
_BLOCK = 1 << 20


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A private copy of an input file and what was recorded of it."""

    source: Path  # the operator's file, as given
    path: Path  # the copy every later stage reads
    info: InputFile  # name of the source, sha256 and size of the copy


def _changed(before: os.stat_result, after: os.stat_result, copied: int) -> str:
    """What differs between two looks at a file of which ``copied`` bytes were read (empty
    when nothing did)."""
    if (before.st_dev, before.st_ino) != (after.st_dev, after.st_ino):
        return "it was replaced by another file"
    if copied != before.st_size or after.st_size != before.st_size:
        return f"its size changed ({before.st_size} bytes when opened, {copied} read)"
    if after.st_mtime_ns != before.st_mtime_ns:
        return "it was modified"
    return ""


def copy_file(
    source: Path, target: Path, *, after_block: Callable[[int], None] | None = None
) -> InputFile:
    """Copy ``source`` to ``target`` (created 0600), hashing the bytes as they are copied.

    Raises :class:`InputFileError` when ``source`` cannot be read or changes meanwhile.
    ``after_block`` (tests) is called with the bytes copied so far after every block.
    """
    fd = _open(source)
    try:
        before = os.fstat(fd)
        if stat.S_ISDIR(before.st_mode):
            raise InputFileError(f"{source}: is a directory; pass the export file itself.")
        if not stat.S_ISREG(before.st_mode):
            raise InputFileError(
                f"{source}: is not a regular file (a pipe or a device); save the export to a "
                f"file and pass that."
            )
        sha256, copied = _copy(fd, target, after_block)
        after = os.fstat(fd)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise InputFileError(
                f"{source}: no room to copy it to {target.parent} ({exc.strerror}): the "
                f"uploader reads a private copy of each input. Free space there or point TMPDIR "
                f"at a folder with room for the file."
            ) from None
        raise InputFileError(f"{source}: cannot read the file: {exc.strerror or exc}.") from None
    finally:
        os.close(fd)
    try:
        now: os.stat_result | None = source.stat()
    except OSError:
        now = None
    # The open file before and after the copy, then the path now (replaced by a rename?).
    why = _changed(before, after, copied) or (
        "it was deleted" if now is None else _changed(after, now, copied)
    )
    if why:
        raise InputFileError(
            f"{source}: the file changed while it was being read ({why}); nothing of it was "
            f"planned or sent. Wait until whatever writes it (an export, a sync job) has "
            f"finished, then run again."
        )
    return InputFile(source.name, sha256, copied)


def _open(source: Path) -> int:
    try:
        return os.open(source, os.O_RDONLY)
    except FileNotFoundError:
        raise InputFileError(f"{source}: file not found; check the path.") from None
    except IsADirectoryError:
        raise InputFileError(f"{source}: is a directory; pass the export file itself.") from None
    except OSError as exc:
        raise InputFileError(f"{source}: cannot read the file: {exc.strerror or exc}.") from None


def _copy(fd: int, target: Path, after_block: Callable[[int], None] | None) -> tuple[str, int]:
    """Copy the open file to ``target``; returns (sha256 of the bytes copied, their count)."""
    digest = hashlib.sha256()
    copied = 0
    out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        while block := os.read(fd, _BLOCK):
            digest.update(block)
            view = memoryview(block)
            while view:
                view = view[os.write(out, view) :]
            copied += len(block)
            if after_block is not None:
                after_block(copied)
    finally:
        os.close(out)
    return digest.hexdigest(), copied


class Snapshots:
    """The private copies of one run's input files (see the module doc)."""

    def __init__(self, folder: Path | None = None) -> None:
        base = Path(folder) if folder is not None else Path(tempfile.gettempdir())
        try:
            base.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise InputFileError(
                f"cannot create {base} for the private copies of the input files "
                f"({exc.strerror}); point TMPDIR at a writable folder."
            ) from None
        _remove_stale(base)
        self.folder = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-", dir=base))
        self._count = 0

    def take(self, source: Path, *, after_block: Callable[[int], None] | None = None) -> Snapshot:
        """Copy ``source`` into the private folder (see :func:`copy_file`)."""
        self._count += 1
        # Its own folder keeps the original name (and suffix, which says CSV or XLSX).
        holder = self.folder / str(self._count)
        holder.mkdir(mode=0o700)
        target = holder / source.name
        try:
            info = copy_file(source, target, after_block=after_block)
        except BaseException:
            shutil.rmtree(holder, ignore_errors=True)
            raise
        return Snapshot(source=source, path=target, info=info)

    def release(self, snapshot: Snapshot) -> None:
        """Delete the copy (its file is planned; nothing reads it again)."""
        shutil.rmtree(snapshot.path.parent, ignore_errors=True)

    def close(self) -> None:
        """Delete every copy."""
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Snapshots:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _remove_stale(base: Path) -> None:
    """Remove copy folders of runs of this host that no longer exist (killed runs)."""
    with contextlib.suppress(OSError):
        for entry in base.glob(f"{_PREFIX}*"):
            pid_text = entry.name[len(_PREFIX) :].split("-", 1)[0]
            if not pid_text.isdigit() or int(pid_text) == os.getpid():
                continue
            if entry.stat().st_uid != os.getuid() or _alive(int(pid_text)):
                continue
            shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def file_info(path: Path) -> InputFile:
    """Name, sha256 and size of an input file (InputFileError when it cannot be read)."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            while block := fh.read(_BLOCK):
                digest.update(block)
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputFileError(f"{path}: file not found; check the path.") from None
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read the file: {exc.strerror or exc}.") from None
    return InputFile(path.name, digest.hexdigest(), size)
