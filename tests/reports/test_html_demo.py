"""``make demo`` (``jaicp-pipeline demo``) writes the first upload's HTML report too."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from pipeline.cli.main import cli


def test_the_demo_writes_the_html_report_and_prints_its_path(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(cli, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = out / "report.html"
    assert f"run 1: {page} (" in result.output
    assert f"  {page}  (the run as one HTML page" in result.output  # in the list of files
    assert page.stat().st_mode & 0o777 == 0o600
    html = page.read_text(encoding="utf-8")
    assert "Run 1 · upload" in html and "bitrix24_export.csv" in html
    assert 'id="chart-reasons"' in html and 'id="chart-statuses"' in html  # results fetched
    assert "104.7056." not in html  # the demo's token
