"""How ``ledger runs`` and ``ledger show RUN`` lay out what the ledger answers (text only).

``ledger runs``: one table per kind of run (upload, reconcile, results, cancel, …), each with
a header row and the columns that kind has: an upload's rows read, sent (and of them, sent by
earlier runs: ``-`` for runs recorded before that was kept), rejected, duplicate, pending,
retries and files; a results run's rows written; a cancel's jobs
asked and cancelled. Runs are newest first within each table; tables in the order their
newest run appears.

``ledger show RUN``: its audit events, one line each (time, entity with its batch key, from →
to, why), a page at a time.

Usage::

    for line in runs_table(audit.runs(limit=50)):
        click.echo(line)
    for line in event_lines(audit.events(12, limit=50, offset=0)):
        click.echo(line)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

from pipeline.front import AuditEvent, RunSummary

Column = tuple[str, Callable[[RunSummary], str]]


def when(value: datetime | None) -> str:
    """``2025-01-31 02:00:01``, or ``-``."""
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def _count(key: str) -> Callable[[RunSummary], str]:
    def get(run: RunSummary) -> str:
        value = run.counts.get(key)
        return "-" if value is None else f"{value:,}" if isinstance(value, int) else str(value)

    return get


def _read(run: RunSummary) -> str:
    keys = ("sent", "rejected", "duplicate", "pending")
    if not all(k in run.counts for k in keys):
        return "-"
    return f"{sum(int(run.counts[k]) for k in keys):,}"


def _duration(run: RunSummary) -> str:
    if run.finished_at is None:
        return "running?"
    return f"{(run.finished_at - run.started_at).total_seconds():.1f}s"


def _files(run: RunSummary) -> str:
    return ", ".join(f["name"] for f in run.files) or "-"


_COMMON: list[Column] = [
    ("run", lambda r: str(r.id)),
    ("started", lambda r: when(r.started_at)),
    ("took", _duration),
    ("exit", lambda r: "-" if r.exit_status is None else str(r.exit_status)),
]
_KINDS: dict[str, list[Column]] = {
    "upload": [
        ("read", _read),
        ("sent", _count("sent")),
        ("of them earlier", _count("sent_before")),
        ("rejected", _count("rejected")),
        ("duplicate", _count("duplicate")),
        ("pending", _count("pending")),
        ("retries", _count("retries")),
        ("files", _files),
    ],
    "results": [("rows written", _count("results_rows"))],
    "cancel": [("asked", _count("cancel_requested")), ("cancelled", _count("cancelled"))],
    "reconcile": [],
}
_NOT_COUNTS = {"sent", "rejected", "duplicate", "pending"}  # of the (no) files: always 0


def _other(run: RunSummary) -> str:
    extra = {k: v for k, v in run.counts.items() if k not in _NOT_COUNTS}
    return " ".join(f"{k}={v}" for k, v in extra.items()) or "-"


def _table(kind: str, runs: Sequence[RunSummary]) -> Iterator[str]:
    columns = _COMMON + _KINDS.get(kind, [("counts", _other)])
    cells = [[get(run) for _, get in columns] for run in runs]
    names = [name for name, _ in columns]
    widths = [max(len(name), *(len(row[i]) for row in cells)) for i, name in enumerate(names)]
    left = {"started", "files", "counts"}

    def line(values: Sequence[str]) -> str:
        parts = [
            v.ljust(w) if name in left else v.rjust(w)
            for (name, _), v, w in zip(columns, values, widths, strict=True)
        ]
        return "  ".join(parts).rstrip()

    yield f"{kind} runs"
    yield line([name for name, _ in columns])
    for row in cells:
        yield line(row)


def runs_table(runs: Sequence[RunSummary]) -> Iterator[str]:
    """The lines of ``ledger runs``: a table per kind of run, a blank line between tables."""
    kinds: dict[str, list[RunSummary]] = {}
    for run in runs:
        kinds.setdefault(run.command, []).append(run)
    for n, (kind, members) in enumerate(kinds.items()):
        if n:
            yield ""
        yield from _table(kind, members)


def event_lines(events: Sequence[AuditEvent]) -> Iterator[str]:
    """One line per audit event: time, entity (and batch key), from → to, why."""
    for event in events:
        what = f"{event.entity} {event.entity_id}"
        if event.request_key:
            what += f" key {event.request_key[:8]}…"  # whole in the reason, or `ledger phone`
        change = f"{event.from_state or '-'} → {event.to_state or '-'}"
        yield f"  {when(event.at)}  {what:<24} {change:<22} {event.reason}"


def page_note(shown: int, offset: int, total: int, limit: int) -> str | None:
    """What to type for the next page, when there is one."""
    if offset + shown >= total:
        return None
    return (
        f"  … {total - offset - shown} more event(s): add --offset {offset + shown} "
        f"(--limit {limit} per page)"
    )
