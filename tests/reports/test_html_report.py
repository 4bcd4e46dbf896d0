"""``jaicp-pipeline report`` and ``upload --report``: one self-contained page per run, from a
real upload's ledger. Escaping, no token, nothing fetched, run selection, file mode, the
counts of a re-run, the same facts on PostgreSQL, and flat memory with capped lists on a big
run. (The page in a real browser: tests/browser.)"""

from __future__ import annotations

import json
import re
import tracemalloc
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

import pipeline
from pipeline import front
from pipeline.cli.main import cli
from pipeline.emulator import Emulator
from pipeline.ledger import open_ledger
from pipeline.ledger.admin.run_facts import run_facts
from pipeline.ledger.store import schema as t
from pipeline.reports.html.charts import bar_chart
from tests.browser.made_run import HOSTILE_FILE, SCRIPT_REASON, SCRIPT_RESULT, MadeRun, make_run
from tests.load.conftest import Uploader


@pytest.fixture
def uploader(emulator: Emulator, campaign: dict[str, Any], tmp_path: Path) -> Uploader:
    return Uploader(emulator, campaign["token"], tmp_path, f"sqlite:///{tmp_path / 'l.sqlite3'}")


@pytest.fixture
def made(emulator: Emulator, campaign: dict[str, Any], tmp_path: Path) -> MadeRun:
    return make_run(tmp_path, emulator, campaign["token"])


class _Tags(HTMLParser):
    """Every element and attribute name of a page, as the browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attrs.update(name for name, _ in attrs)


def _no_fetch(html: str) -> None:
    """Nothing in the page can make the browser fetch or run anything: no element that loads
    or runs, no URL-bearing attribute, no CSS url() or @import, and the only URLs are the SVG
    namespace names (never fetched)."""
    found = _Tags()
    found.feed(html)
    assert not found.tags & {"script", "link", "img", "iframe", "object", "embed", "image"}
    assert not found.attrs & {"src", "href", "srcset", "xlink:href", "action", "poster", "data"}
    assert not {a for a in found.attrs if a.startswith("on")}  # no event handler attributes
    assert "url(" not in html and "@import" not in html
    urls = set(re.findall(r"https?://[^\s\"'<>]+", html))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls
    assert "default-src 'none'" in html  # and the CSP tells the browser to refuse anything


def test_the_page_of_a_run_has_its_facts_escaped_and_no_token(
    made: MadeRun, tmp_path: Path
) -> None:
    out = tmp_path / "pages" / "run.html"
    result = CliRunner().invoke(
        cli, ["report", "--ledger", made.ledger_url, "--run", str(made.run_id), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert f"report of run {made.run_id} written to {out}" in result.output
    assert out.stat().st_mode & 0o777 == 0o600  # it names files and rows
    html = out.read_text(encoding="utf-8")

    assert made.token not in html and made.token.split(".")[-1][:12] not in html
    assert "<script" not in html.lower()  # neither ours (there is none) nor a value's
    assert "<img" not in html.lower()
    assert "&lt;img src=x onerror=alert(1)&gt;.csv" in html  # the file name, as text
    assert "&lt;script&gt;alert(&#34;reason&#34;)&lt;/script&gt;" in html
    assert '&lt;script&gt;alert("result")&lt;/script&gt;' in html  # in the SVG, by etree
    _no_fetch(html)

    for section in ("counts", "reasons", "results", "timeline", "files", "zones", "contact"):
        assert f'<section id="{section}">' in html
    assert f"Run {made.run_id} · upload" in html
    assert f"sent: {made.sent} by this run, 0 before" in html
    for code, n in made.expected_reasons.items():
        assert f"<code>{code}</code>" in html
        assert f'<desc class="value">{n}</desc>' in html  # a bar of that value
    assert html.count('class="rect reactive') >= len(made.expected_reasons) + 4
    with open_ledger(made.ledger_url) as ledger, ledger.store.engine.connect() as conn:
        sha = conn.execute(sa.select(t.inputs.c.sha256).where(t.inputs.c.name == HOSTILE_FILE))
        assert str(sha.scalar_one()) in html  # the file's full digest
    assert "Europe/Moscow" in html and "mobile_range" in html  # time zones and their source
    assert "<strong>1</strong> row(s) <code>suppressed</code>" in html
    assert "manual 1" in html  # the do-not-call list now, by source
    assert f"{made.retries} retries" in html


def test_a_value_in_a_chart_label_is_text_not_markup() -> None:
    svg = bar_chart("<b>title</b>", [(SCRIPT_REASON, 2), ("a & b", 1)])
    assert "<script" not in svg and "<b>" not in svg
    assert "&lt;script&gt;" in svg and "a &amp; b" in svg


def test_the_latest_upload_run_is_the_default_and_names_the_file(
    made: MadeRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with open_ledger(made.ledger_url) as ledger:  # a later run of another kind is not chosen
        ledger.runs.start(command="results", files=[], config_digest="0" * 64)
    result = CliRunner().invoke(cli, ["report", "--ledger", made.ledger_url])
    assert result.exit_code == 0, result.output
    page = tmp_path / f"run-{made.run_id}.html"
    assert f"report of run {made.run_id} written to run-{made.run_id}.html" in result.output
    assert f"Run {made.run_id} · upload" in page.read_text(encoding="utf-8")
    latest = CliRunner().invoke(cli, ["report", "--ledger", made.ledger_url, "--run", "latest"])
    assert latest.exit_code == 0 and f"run-{made.run_id}.html" in latest.output


def test_a_missing_run_and_an_empty_ledger_say_what_to_do(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    open_ledger(url).close()
    runner = CliRunner()
    empty = runner.invoke(cli, ["report", "--ledger", url])
    assert empty.exit_code != 0 and "no upload run yet" in empty.output
    missing = runner.invoke(cli, ["report", "--ledger", url, "--run", "7"])
    assert missing.exit_code != 0 and "run 7 is not in the ledger" in missing.output
    bad = runner.invoke(cli, ["report", "--ledger", url, "--run", "seven"])
    assert bad.exit_code == 2 and "'seven': give a run id" in bad.output
    assert runner.invoke(cli, ["report"]).exit_code == 2  # no ledger named


def test_upload_report_writes_the_page_of_the_run_it_just_did(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        f"ledger:\n  url: sqlite:///{tmp_path / 'cli.sqlite3'}\n"
        "columns:\n  phone: phone\n  payload: {name: name}\n",
        encoding="utf-8",
    )
    page = tmp_path / "night.html"
    env = {"JAICP_TOKEN": campaign["token"], "JAICP_BASE_URL": emulator.base_url}
    args = ["upload", "--config", str(config), "--summary-json", "--report", str(page)]
    result = CliRunner().invoke(cli, [*args, str(uploader.csv(12))], env=env)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)  # stdout stays one JSON object; the note is on stderr
    assert f"report of run {summary['run_id']} written to {page}" in result.stderr
    html = page.read_text(encoding="utf-8")
    assert f"Run {summary['run_id']} · upload" in html and campaign["token"] not in html
    assert "sent: 12 by this run, 0 before" in html


def test_a_rerun_reports_what_it_sent_apart_from_what_earlier_runs_sent(
    uploader: Uploader, tmp_path: Path
) -> None:
    csv = uploader.csv(6)
    uploader.run(csv)
    again = uploader.run(csv)
    page = pipeline.write_report(ledger=uploader.ledger_url, run=again.run_id, out=tmp_path / "x")
    html = page.path.read_text(encoding="utf-8")
    assert "sent: 0 by this run, 6 before" in html
    assert "This run sent no batch." in html


def _bulk_ledger(url: str, rows: int) -> None:
    """A ledger with one upload run of ``rows`` rejected rows (40 reason codes) and as many
    events, written straight into the tables: only the report's reading is measured."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with open_ledger(url) as ledger, ledger.store.engine.begin() as conn:
        conn.execute(sa.insert(t.campaigns).values(id=1, fingerprint="f" * 16, created_at=now))
        files = json.dumps([{"name": "big.csv", "sha256": "a" * 64, "size": 1}])
        conn.execute(
            sa.insert(t.runs).values(
                id=1,
                campaign_id=1,
                command="upload",
                files=files,
                config_digest="c" * 64,
                host="h",
                pid=1,
                started_at=now,
                finished_at=now,
                exit_status=0,
                counts=json.dumps({"sent": 0, "rejected": rows, "duplicate": 0, "pending": 0}),
            )
        )
        conn.execute(
            sa.insert(t.inputs).values(
                id=1,
                campaign_id=1,
                sha256="a" * 64,
                name="big.csv",
                first_run_id=1,
                rows_total=rows,
                created_at=now,
            )
        )
        conn.execute(sa.insert(t.run_inputs).values(run_id=1, input_id=1))
        conn.execute(
            sa.insert(t.rows),
            [
                {
                    "input_id": 1,
                    "row_number": n + 1,
                    "run_id": 1,
                    "campaign_id": 1,
                    "state": "rejected",
                    "reason_code": f"code_{n % 40:02d}",
                    "reason": f"row {n + 1} is wrong in a way described at some length here",
                    "policy": '{"gmtZone":"Europe/Moscow"}',
                    "zone_source": "policy",
                }
                for n in range(rows)
            ],
        )
        conn.execute(
            sa.insert(t.events),
            [
                {
                    "at": now,
                    "run_id": 1,
                    "actor": "cli",
                    "entity": "row",
                    "entity_id": n,
                    "reason": "planned and rejected",
                }
                for n in range(rows)
            ],
        )


def _peak_bytes(url: str) -> int:
    tracemalloc.start()
    try:
        front.render_report(ledger=url, run=1, limit=50)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_big_run_costs_no_more_memory_and_its_lists_are_capped(tmp_path: Path) -> None:
    small, big = f"sqlite:///{tmp_path / 'small.sqlite3'}", f"sqlite:///{tmp_path / 'big.sqlite3'}"
    _bulk_ledger(small, 1_000)
    _bulk_ledger(big, 60_000)
    front.render_report(ledger=small, run=1)  # imports and template compiling, once
    grew = _peak_bytes(big) - _peak_bytes(small)
    # 60,000 rows held in Python would take tens of MB; the aggregates take the same space.
    assert grew < 1_500_000, f"the report of the big run took {grew:,} bytes more"

    _, html = front.render_report(ledger=big, run=1, limit=50)
    assert "The first 50 of 60000 rows" in html
    assert html.count('<tr><td>big.csv</td><td class="num">') == 50  # listed rows, capped
    assert "The first 50 of 60000 events" in html
    assert html.count('class="rect reactive') == 40  # one bar per reason code
    with open_ledger(big) as ledger:  # past the limit, the smallest groups sum as "(other)"
        facts = run_facts(ledger.store.engine, 1, limit=10)
    assert len(facts.reasons) == 10 and facts.reasons[-1] == ("(other)", 60_000 - 9 * 1_500)


def test_the_facts_are_the_same_on_postgresql(made: MadeRun, pg_url: str) -> None:
    pipeline.migrate_ledger(ledger=made.ledger_url, to=pg_url)
    facts = {}
    for url in (made.ledger_url, pg_url):
        with open_ledger(url) as ledger:
            facts[url] = run_facts(ledger.store.engine, made.run_id, limit=100)
    lite, pg = facts[made.ledger_url], facts[pg_url]
    for name in (
        "counts_now",
        "reasons",
        "rejected_rows",
        "rejected_total",
        "job_statuses",
        "call_results",
        "results_fetched_at",
        "timeline",
        "bucket_s",
        "batches",
        "batches_total",
        "events",
        "zones",
        "zone_groups",
        "contact_rows",
        "contact_counts",
        "suppressions_active",
        "campaign",
    ):
        assert getattr(lite, name) == getattr(pg, name), name
    assert (lite.report.inputs, lite.report.batches) == (pg.report.inputs, pg.report.batches)
    _, html = front.render_report(ledger=pg_url, run=made.run_id)
    assert SCRIPT_RESULT not in html and made.token not in html
