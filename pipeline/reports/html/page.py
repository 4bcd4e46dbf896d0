"""The HTML page of one run: a Jinja2 template with autoescape, the charts inlined as SVG.

Usage::

    html = render_page(facts, generated_at=now, version="0.1.0")   # one self-contained page

The page is one file: its CSS is inline, its charts are inline SVG, it loads nothing (no
script, font, image or style from anywhere) and a Content-Security-Policy of ``default-src
'none'`` says so to the browser, so even a value that slipped past escaping could not run or
fetch. Every value from the ledger (file names, reasons, call results, events) is escaped by
Jinja2's autoescape; only the SVG the chart module serialized is inserted as markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from pipeline.errors import ExitCode
from pipeline.reports.html.charts import bar_chart, timeline_chart

EXIT_MEANINGS = {
    ExitCode.OK: "complete",
    ExitCode.FAILED: "failed",
    ExitCode.PENDING: "work left for the next run",
    ExitCode.CONFIG: "configuration or authentication problem",
    ExitCode.LEASE_HELD: "another run held the lease",
    ExitCode.INPUT: "input file problem",
    ExitCode.VERIFY_FAILED: "ledger check failed",
    ExitCode.INTERRUPTED: "stopped by Ctrl-C",
}


class Bucket(Protocol):
    """One bar group of the timeline."""

    @property
    def start(self) -> datetime: ...
    @property
    def first_sends(self) -> int: ...
    @property
    def retries(self) -> int: ...
    @property
    def failures(self) -> int: ...


class Facts(Protocol):
    """What the page needs (structurally: :class:`pipeline.ledger.admin.run_facts.RunFacts`)."""

    @property
    def report(self) -> Any: ...
    @property
    def limit(self) -> int: ...
    @property
    def reasons(self) -> Sequence[tuple[str, int]]: ...
    @property
    def job_statuses(self) -> Sequence[tuple[str, int]]: ...
    @property
    def call_results(self) -> Sequence[tuple[str, int]]: ...
    @property
    def timeline(self) -> Sequence[Bucket]: ...
    @property
    def bucket_s(self) -> int: ...
    @property
    def counts_now(self) -> Mapping[str, int]: ...


def when(value: datetime | None) -> str:
    """``2026-12-06 07:32:48 UTC``, or a dash."""
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value is not None else "—"


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("pipeline.reports.html", "templates"),
        autoescape=True,  # every template, whatever its suffix
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = when
    return env


_ENV = _environment()


def _label(start: datetime, step: int) -> str:
    return start.strftime("%H:%M" if step >= 60 else "%H:%M:%S")


def _charts(facts: Facts) -> dict[str, Markup]:
    """The page's charts as markup: SVG serialized by the chart module (its text escaped)."""
    svgs: dict[str, str] = {}
    if facts.reasons:
        svgs["reasons"] = bar_chart("Rows not sent, by reason", facts.reasons)
    if facts.job_statuses:
        svgs["statuses"] = bar_chart("Call jobs, by status", facts.job_statuses, series="jobs")
    if facts.call_results:
        svgs["results"] = bar_chart("Calls, by result", facts.call_results, series="calls")
    if facts.timeline:
        step = facts.bucket_s
        svgs["timeline"] = timeline_chart(
            [_label(b.start, step) for b in facts.timeline],
            {
                "first sends": [b.first_sends for b in facts.timeline],
                "retries": [b.retries for b in facts.timeline],
                "no reply (retried later)": [b.failures for b in facts.timeline],
            },
            f"Send attempts per {step} s (UTC)"
            if step < 60
            else f"Send attempts per {step // 60} min (UTC)",
        )
    return {name: Markup(svg) for name, svg in svgs.items()}  # noqa: S704 - escaped SVG


def _at_finish(counts: Mapping[str, Any]) -> dict[str, Any]:
    """The run's own counts, recorded when it finished (``sent_before``: earlier runs')."""
    sent, before = int(counts.get("sent", 0)), int(counts.get("sent_before", 0))
    states = {k: int(counts.get(k, 0)) for k in ("rejected", "duplicate", "pending")}
    return {
        "read": sent + sum(states.values()),
        "sent": sent,
        "sent_now": sent - before,
        "sent_before": before,
        **states,
        "attempts": counts.get("attempts"),
        "retries": counts.get("retries"),
    }


def render_page(facts: Facts, *, generated_at: datetime, version: str) -> str:
    """The whole page of run ``facts.report.run.id`` as one string."""
    run = facts.report.run
    if run.exit_status is None:
        meaning = "still running, or stopped before it could record its end"
    else:
        meaning = EXIT_MEANINGS.get(run.exit_status, "")
    return _ENV.get_template("run.html.j2").render(
        f=facts,
        r=facts.report,
        run=run,
        charts=_charts(facts),
        exit_meaning=meaning,
        duration=(run.finished_at - run.started_at).total_seconds() if run.finished_at else None,
        at_finish=_at_finish(run.counts or {}),
        now_read=sum(facts.counts_now.values()),
        generated_at=generated_at,
        version=version,
    )
