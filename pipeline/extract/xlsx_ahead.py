"""One workbook part inflated by a thread, a few blocks ahead of the scan that reads them.

zlib and crc32 leave the GIL while they work, and so does numpy in the sheet's scan
(:mod:`.xlsx_refs`): with the next block inflated while the last one is scanned, the guard
takes about the time of the slower of the two instead of their sum. At most ``depth`` blocks
wait (``BLOCK`` bytes each), so memory stays bounded whatever the part holds.

Whatever :func:`~pipeline.extract.xlsx_zip.inflate` raises in the thread (a part inflating
past the size it declares, a damaged stream, a checksum that does not match) is raised by the
iteration where the block would have come, the same exception with the same message. Leaving
the ``with`` block stops the thread and waits for it, so the archive is free to read again.

Usage::

    with Ahead(archive, archive.getinfo("xl/worksheets/sheet1.xml"), "export.xlsx") as blocks:
        for block in blocks:
            ...
"""

from __future__ import annotations

import queue
import threading
import zipfile
from collections.abc import Iterator
from types import TracebackType

from pipeline.extract.xlsx_zip import inflate

_WAIT_S = 0.05  # how often a thread with a full queue looks whether it should stop
# 1 MiB blocks: the scan's array passes stay in the CPU cache (measured ~1/3 less CPU than
# 4 MiB), and the few blocks the thread's own malloc arena keeps after it ends are small
BLOCK = 1 << 20


class Ahead:
    """The blocks of one part, inflated by a thread; iterate once, inside ``with``."""

    def __init__(
        self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, depth: int = 2
    ) -> None:
        self._queue: queue.Queue[tuple[bytes | None, BaseException | None]] = queue.Queue(depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._work, args=(archive, info, name), name="xlsx-inflate", daemon=True
        )
        self._thread.start()

    def _work(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> None:
        try:
            for block in inflate(archive, info, name, BLOCK):
                if not self._put((block, None)):
                    return
            self._put((None, None))
        except BaseException as exc:  # handed to the reader, raised there
            self._put((None, exc))

    def _put(self, item: tuple[bytes | None, BaseException | None]) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_WAIT_S)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[bytes]:
        while True:
            block, error = self._queue.get()
            if error is not None:
                raise error
            if block is None:
                return
            yield block

    def close(self) -> None:
        """Stop the thread (it ends after the block it is inflating) and wait for it."""
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> Ahead:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
