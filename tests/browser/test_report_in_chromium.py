"""The HTML report in a real headless browser (Debian's chromium): the charts draw the bars
the ledger holds, hostile text stays text, the page asks the network for nothing, and the
screenshot shows a page (not a blank one). The screenshot is kept in pytest's tmp_path."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from PIL import Image

import pipeline
from pipeline.emulator import Emulator
from tests.browser.chromium import RecordingProxy, chromium_or_skip, run_chromium
from tests.browser.made_run import SCRIPT_REASON, SCRIPT_RESULT, make_run

BLUE = (0x2F, 0x6D, 0xB5)  # the charts' first series colour (pipeline/reports/html/charts.py)


class _Dom(HTMLParser):
    """Bars per chart, script elements, and the page's text, from the dumped DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.chart: str | None = None
        self.depth = 0
        self.bars: dict[str, int] = {}
        self.scripts = 0
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "div" and (found.get("id") or "").startswith("chart-"):
            self.chart, self.depth = str(found["id"])[len("chart-") :], 0
            self.bars[self.chart] = 0
        elif self.chart is not None and tag == "div":
            self.depth += 1
        if self.chart is not None and tag == "rect" and "rect" in (found.get("class") or ""):
            self.bars[self.chart] += 1  # pygal's bar: <rect class="rect reactive ...">

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self.chart is not None:
            if self.depth == 0:
                self.chart = None
            else:
                self.depth -= 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _pixels(image: Image.Image) -> list[tuple[int, int, int]]:
    raw = image.tobytes()  # RGB, 3 bytes a pixel (getdata() is deprecated)
    return [(raw[i], raw[i + 1], raw[i + 2]) for i in range(0, len(raw), 3)]


def _distinct(path: Path, sql: str, run_id: int) -> int:
    with closing(sqlite3.connect(path)) as conn:
        return int(conn.execute(sql, (run_id,)).fetchone()[0])


def test_the_report_draws_its_charts_in_chromium_and_fetches_nothing(
    emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    binary = chromium_or_skip()
    made = make_run(tmp_path, emulator, campaign["token"])
    page = pipeline.write_report(ledger=made.ledger_url, run=made.run_id, out=tmp_path / "r.html")
    with RecordingProxy() as proxy:
        dom = run_chromium(binary, page.path, proxy, tmp_path, "--dump-dom")
        shot = tmp_path / "report.png"
        run_chromium(
            binary, page.path, proxy, tmp_path, "--window-size=1200,2400", f"--screenshot={shot}"
        )
    assert proxy.page_requests() == []

    parsed = _Dom()
    parsed.feed(dom)
    mine = "WHERE input_id IN (SELECT input_id FROM run_inputs WHERE run_id = ?)"
    statuses = _distinct(
        made.path,
        f"SELECT count(DISTINCT job_status) FROM job_outcomes WHERE row_id IN "
        f"(SELECT id FROM rows {mine})",
        made.run_id,
    )
    results = _distinct(
        made.path,
        f"SELECT count(DISTINCT call_result) FROM job_outcomes WHERE row_id IN "
        f"(SELECT id FROM rows {mine})",
        made.run_id,
    )
    assert parsed.bars["reasons"] == len(made.expected_reasons) >= 5
    assert parsed.bars["statuses"] == statuses >= 2
    assert parsed.bars["results"] == results >= 2
    assert parsed.bars["timeline"] >= 3  # first sends, retries, no replies over the buckets
    text = "".join(parsed.text)
    assert parsed.scripts == 0  # the hostile values did not become elements
    assert SCRIPT_REASON in text and SCRIPT_RESULT in text  # ... they are shown as text
    assert "<img src=x onerror=alert(1)>.csv" in text
    assert made.token not in dom

    image = Image.open(shot).convert("RGB")
    width, height = image.size
    assert (width, height) == (1200, 2400)
    pixels = _pixels(image)
    not_white = sum(1 for p in pixels if min(p) < 235) / len(pixels)
    assert 0.05 < not_white < 0.9, f"{not_white:.1%} of the screenshot is not white"
    header = _pixels(image.crop((0, 0, width, 40)))
    assert sum(1 for p in header if max(p) < 110) > 0.8 * width * 40  # the dark header band
    bars = sum(1 for p in pixels if all(abs(a - b) < 12 for a, b in zip(p, BLUE, strict=True)))
    assert bars > 5_000, f"only {bars} pixels of bar colour: the charts did not draw"


def test_the_proxy_would_catch_a_page_that_fetches(tmp_path: Path) -> None:
    """The negative control of the test above: an image and a web font are both seen."""
    binary = chromium_or_skip()
    page = tmp_path / "fetching.html"
    page.write_text(
        '<html><body><img src="http://report-test.invalid/x.png">'
        '<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">'
        "</body></html>",
        encoding="utf-8",
    )
    with RecordingProxy() as proxy:
        run_chromium(binary, page, proxy, tmp_path, "--dump-dom")
    asked = proxy.page_requests()
    assert "http://report-test.invalid/x.png" in asked
    assert "fonts.googleapis.com:443" in asked
