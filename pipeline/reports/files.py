"""Files the tool creates: private (0600) from the first byte, complete or absent.

Each output is written to a hidden ``.<name>.*.part`` file next to the target, created by
:func:`tempfile.mkstemp` (mode 0600, so nobody else can read phones even briefly), and renamed
over the target only when it is complete; an error leaves no half-written report behind.

Usage::

    with PrivateFile(Path("rejects.csv")) as fh:   # binary file object
        fh.write(b"...")
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Self

from pipeline.errors import OutputFileError
from pipeline.private import FILE_MODE

MODE = FILE_MODE


class CommitOnExit:
    """The context-manager half of every output writer: ``close()`` (commit) when the block
    ends normally, ``abort()`` (no file left behind) when it raises.

    Usage::

        with RejectsWriter(path, info) as out:   # the file appears only if the block succeeds
            out.add_rejection(cells, rejection)
    """

    def close(self) -> None:
        """Finish the output and move it into place."""
        raise NotImplementedError

    def abort(self) -> None:
        """Discard everything written so far."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class PrivateFile:
    """A 0600 temporary file that replaces ``path`` on :meth:`commit`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        except OSError as exc:
            raise OutputFileError(
                f"{path}: cannot create the output file ({exc.strerror or exc}); check that the "
                f"folder {path.parent} exists and is writable."
            ) from None
        self._tmp = Path(tmp)
        self.fh: BinaryIO = os.fdopen(fd, "wb")

    def commit(self) -> None:
        """Flush, make durable and move into place (mode stays 0600)."""
        if self.fh.closed:
            return
        self.fh.flush()
        os.fsync(self.fh.fileno())
        os.fchmod(self.fh.fileno(), MODE)  # mkstemp made it 0600; say so, whatever the umask
        self.fh.close()
        self._tmp.replace(self.path)

    def abort(self) -> None:
        """Drop the partial file."""
        if not self.fh.closed:
            self.fh.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> BinaryIO:
        return self.fh

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()
