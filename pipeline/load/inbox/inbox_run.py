"""The inbox loop: each settled file of a folder uploaded as its own run, oldest first, then
filed into ``done/`` or ``failed/`` — only once the ledger has recorded its outcome.

Usage::

    control = InboxControl()          # control.stop(RunStoppedError(...)) from a signal handler
    summary = run_inbox(Path("/srv/exports"), settle_s=10, ignore=(), empty_fail=False,
                        upload_one=lambda path, ctl: run_upload(..., [path], control=ctl),
                        standing=lambda sha: ledger.inputs.standing(campaign.id, sha),
                        control=control)
    summary.exit_code                 # the worst of the files' (inbox.verdicts.SEVERITY)

Per file, in order:

1. skip it if it changed since it was found settled (it waits for the next run);
2. its digest: when the ledger already holds every row of these bytes and none is left to
   send (``standing(sha).settled``), it goes to ``done/`` with no run and no request;
3. otherwise one upload run of just that file (lease, earlier work first, screen, plan, send);
4. then the ledger is asked again — the run's end is committed by now — and the file goes to
   ``done/`` when every row of it is recorded and none is pending; to ``failed/`` with a note
   when the run refused it (unreadable 6, too many rejects 8, empty 9); else it stays (work
   left, exit 3: the next run resumes it from the ledger, exactly once).

A kill at any point leaves the file in the inbox (or already filed); the next run finds it
settled in the ledger and only files it. The loop stops after a file that stays in the inbox
or ends with an error that is not the file's (lease, configuration, ledger, a signal): the
files after it wait for the next run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from pipeline.errors import ExitCode, InputFileError, PipelineError
from pipeline.extract.snapshot import file_info
from pipeline.ledger import InputStanding
from pipeline.load.inbox.arrivals import Arrival, settled_files
from pipeline.load.inbox.filing import NOTE_SUFFIX, file_away
from pipeline.load.inbox.inbox_summary import InboxEntry, InboxSummary
from pipeline.load.inbox.verdicts import note_for
from pipeline.load.stop import RunControl, StopFlag
from pipeline.load.upload.summary import UploadSummary

DONE, FAILED = "done", "failed"

UploadOne = Callable[[Path, RunControl], UploadSummary]
Standing = Callable[[str], InputStanding | None]


class InboxControl(StopFlag):
    """Stops the inbox run: the file being uploaded (in order, as any run) and those after it.

    Each file's run gets its own :class:`RunControl` (:meth:`for_file`: fresh counters); a
    stop given here reaches the current one too.
    """

    def __init__(self) -> None:
        super().__init__()
        self._current: RunControl | None = None

    def stop(self, error: PipelineError) -> None:
        """Stop the current file's run and take no other file."""
        super().stop(error)
        current = self._current
        if current is not None:
            current.stop(error)

    def for_file(self) -> RunControl:
        """A control for the next file's run (stopped already when the inbox is)."""
        control = self._current = RunControl()
        if self.stop_error is not None:  # a stop that came just before the line above
            control.stop(self.stop_error)
        return control


def run_inbox(
    folder: Path,
    *,
    settle_s: float,
    ignore: Sequence[str],
    empty_fail: bool,
    upload_one: UploadOne,
    standing: Standing,
    control: InboxControl | None = None,
    say: Callable[[str], None] | None = None,
) -> InboxSummary:
    """Upload every settled file of ``folder`` and file it away; see the module doc."""
    started = time.monotonic()
    control = control or InboxControl()
    say = say or (lambda _line: None)
    summary = InboxSummary(folder)
    ready, busy = settled_files(folder, settle_s=settle_s, sleep=control.sleep, ignore=ignore)
    inbox = _Inbox(folder, empty_fail, upload_one, standing, control)
    while ready and not control.stopped:
        arrival = ready.pop(0)
        say(f"inbox: {arrival.path.name}")
        entry = inbox.take(arrival)
        summary.entries.append(entry)
        if entry.status == "left" or _not_the_files(entry):
            break
    for arrival in ready:
        summary.entries.append(
            InboxEntry(arrival.path.name, "waiting", ExitCode.PENDING, "not taken: run stopped")
        )
    for path in busy:
        summary.entries.append(
            InboxEntry(
                path.name,
                "waiting",
                ExitCode.PENDING,
                "still being written (changed within inbox.settle_s): the next run takes it",
            )
        )
    summary.stopped = control.stop_error
    summary.duration_s = time.monotonic() - started
    return summary


def _not_the_files(entry: InboxEntry) -> bool:
    """Whether the entry's run ended with an error that would stop any file alike."""
    return entry.error is not None and not isinstance(entry.error, InputFileError)


class _Inbox:
    """One inbox run's way with each file (steps 1-4 of the module doc)."""

    def __init__(
        self,
        folder: Path,
        empty_fail: bool,
        upload_one: UploadOne,
        standing: Standing,
        control: InboxControl,
    ) -> None:
        self.folder, self.empty_fail, self.control = folder, empty_fail, control
        self.upload_one, self.standing = upload_one, standing

    def take(self, arrival: Arrival) -> InboxEntry:
        """Upload ``arrival`` unless the ledger holds it whole already; then file it."""
        name = arrival.path.name
        if not arrival.unchanged():
            return InboxEntry(name, "left", ExitCode.PENDING, "changed since it was found")
        try:
            digest = file_info(arrival.path).sha256
        except InputFileError as exc:
            return InboxEntry(name, "left", exc.exit_code, f"cannot be read now: {exc}")
        known = self.standing(digest)
        if known is not None and known.settled and (known.rows_total or not self.empty_fail):
            # Every row of these bytes is recorded and none is left: filed, nothing sent.
            reason = (
                f"already uploaded (ledger input {known.id}, first run {known.first_run_id}, "
                f"as {known.name}): nothing sent"
            )
            entry = InboxEntry(name, "done", ExitCode.OK, reason, digest)
            return _filed(arrival, self.folder / DONE, entry)
        run: UploadSummary | None = None
        try:
            run = self.upload_one(arrival.path, self.control.for_file())
            error, code = run.error, run.exit_code
        except PipelineError as exc:
            error, code = exc, exc.exit_code
        if run is not None and run.files:
            digest = run.files[0][1]  # the digest of the bytes the run planned
        entry = InboxEntry(name, "left", code, "", digest, run=run, error=error)
        return self.settle(arrival, entry)

    def settle(self, arrival: Arrival, entry: InboxEntry) -> InboxEntry:
        """After the run ended and recorded its end: what the ledger holds now decides."""
        error, code = entry.error, entry.exit_code
        if not arrival.unchanged():
            entry.reason = "changed while it was uploaded: the next run takes its new content"
            entry.exit_code = code or ExitCode.PENDING
            return entry
        if isinstance(error, InputFileError):  # 6, 8, 9: the file's own fault
            entry.status, entry.reason = "failed", f"exit {code}: {_first_line(error)}"
            run_id = entry.run.run_id if entry.run is not None else None
            note = note_for(
                entry.name, error, inbox=self.folder, sha256=entry.sha256, run_id=run_id
            )
            return _filed(arrival, self.folder / FAILED, entry, note=note)
        after = self.standing(entry.sha256) if entry.sha256 else None
        if after is not None and after.settled:
            entry.status = "done"
            entry.reason = "every row recorded" + (f" (exit {code})" if code else "")
            return _filed(arrival, self.folder / DONE, entry)
        entry.reason = f"exit {code}: " + (
            _first_line(error) if error is not None else "work left for the next run"
        )
        return entry


def _filed(
    arrival: Arrival, target: Path, entry: InboxEntry, *, note: str | None = None
) -> InboxEntry:
    moved = file_away(arrival.path, target, note=note)
    if moved is None:
        entry.status, entry.reason = "left", "gone from the inbox meanwhile (another run?)"
        return entry
    entry.moved_to = moved
    if note is not None:
        entry.note = moved.with_name(moved.name + NOTE_SUFFIX)
    return entry


def _first_line(error: PipelineError) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


__all__ = ["DONE", "FAILED", "InboxControl", "run_inbox"]
