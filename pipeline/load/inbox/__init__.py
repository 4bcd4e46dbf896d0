"""The inbox: ``upload --inbox DIR`` takes every new export of a folder, oldest first, uploads
each as its own run and files it into ``DIR/done/`` or ``DIR/failed/`` (with a note saying why
and what to do) once the ledger has recorded its outcome. docs/inbox.md is the operator's guide.

Usage::

    from pipeline.load.inbox import InboxControl, run_inbox
    summary = run_inbox(folder, settle_s=10, ignore=(), empty_fail=False,
                        upload_one=..., standing=..., control=InboxControl())
    summary.lines(), summary.as_dict(), summary.exit_code

Rooms: ``arrivals`` (which files are settled, in which order), ``inbox_run`` (the loop and its
stop control), ``filing`` (moving without overwriting, notes), ``verdicts`` (the exit-code
order and the notes' text), ``inbox_summary`` (per-file entries, lines and JSON).
"""

from __future__ import annotations

from pipeline.load.inbox.inbox_run import DONE, FAILED, InboxControl, run_inbox
from pipeline.load.inbox.inbox_summary import InboxEntry, InboxSummary
from pipeline.load.inbox.verdicts import SEVERITY, worst

__all__ = [
    "DONE",
    "FAILED",
    "SEVERITY",
    "InboxControl",
    "InboxEntry",
    "InboxSummary",
    "run_inbox",
    "worst",
]
