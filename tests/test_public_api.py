"""The public Python API (``import pipeline``): its names, pinned; each call end to end
against the emulator on a SQLite ledger; the documented examples; and what the front door
wires the same way for every command (the configured key safety margin, injected clocks)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

import pipeline
import pipeline.front
from pipeline.cli.main import cli
from pipeline.emulator import Emulator
from pipeline.ledger import open_ledger
from pipeline.ledger.store import schema
from tests.conftest import FakeClock, phone

ROOT = Path(__file__).resolve().parent.parent

PUBLIC = [
    "Config",
    "InboxSummary",
    "ReconcileReport",
    "UploadSummary",
    "ValidateSummary",
    "__version__",
    "campaign_info",
    "campaign_status",
    "cancel",
    "init_config",
    "load_config",
    "migrate_ledger",
    "open_audit",
    "open_suppressions",
    "pause_campaign",
    "reconcile",
    "results",
    "resume_campaign",
    "stop_campaign",
    "upload",
    "upload_inbox",
    "validate",
    "write_report",
]


def test_the_public_names_are_pinned() -> None:
    assert pipeline.__all__ == PUBLIC
    assert set(PUBLIC) - {"__version__"} <= set(pipeline.front.__all__)
    for name in PUBLIC:
        assert getattr(pipeline, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = pipeline.nothing


def test_the_documented_validate_example(tmp_path: Path) -> None:
    report = pipeline.validate(
        ROOT / "configs/bitrix24.yaml", ROOT / "sample_data/bitrix24_export.csv"
    )
    counts = (report.rows_read, report.accepted, report.rejected, report.duplicates)
    assert counts[0] == sum(counts[1:]) > 0
    # The CLI prints exactly what the call returns (it is a shell over it).
    shown = CliRunner().invoke(
        cli,
        ["validate", "--config", "configs/bitrix24.yaml", "sample_data/bitrix24_export.csv"],
    )
    assert shown.exit_code == 0, shown.output
    assert (
        f"rows read {counts[0]} = accepted {counts[1]} + rejected {counts[2]} + duplicate "
        f"{counts[3]}"
    ) in shown.output
    # A loaded config works as well as a path, and the output files are written.
    rejects = tmp_path / "rejects.csv"
    again = pipeline.validate(
        pipeline.load_config(ROOT / "configs/bitrix24.yaml"),
        str(ROOT / "sample_data/bitrix24_export.csv"),
        rejects=rejects,
    )
    assert (again.read, again.accepted, again.rejected, again.duplicate) == counts
    assert len(rejects.read_text(encoding="utf-8").splitlines()) == 1 + counts[2] + counts[3]


def test_importing_the_package_and_validating_loads_neither_the_database_nor_http() -> None:
    """``import pipeline`` and a dry run stay cheap: SQLAlchemy and requests are not loaded."""
    code = (
        "import sys, pipeline\n"
        "assert 'pipeline.front.uploading' not in sys.modules\n"
        "pipeline.validate('configs/bitrix24.yaml', 'sample_data/bitrix24_export.csv')\n"
        "print(sorted(m for m in ('sqlalchemy', 'requests') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]", done.stderr


def _config(tmp_path: Path, emulator: Emulator, upload: str = "{batch_size: 10}") -> Path:
    config = tmp_path / "nightly.yaml"
    config.write_text(
        "version: 1\n"
        f"api: {{base_url: '{emulator.base_url}', timeout_s: 5}}\n"
        f"ledger: {{url: 'sqlite:///{tmp_path / 'ledger.sqlite3'}'}}\n"
        "columns: {phone: phone, payload: {name: name}}\n"
        f"upload: {upload}\n",
        encoding="utf-8",
    )
    return config


def _export(tmp_path: Path, n: int, name: str = "export.csv") -> Path:
    path = tmp_path / name
    rows = ["phone,name", *(f"{phone(i)},N{i}" for i in range(n)), "not a phone,X"]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _statuses(emulator: Emulator, campaign: dict[str, Any]) -> set[str]:
    return {job["jobStatus"] for job in emulator.jobs(campaign["id"])}


def test_every_call_end_to_end(
    emulator: Emulator,
    campaign: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JAICP_TOKEN", campaign["token"])
    config = _config(tmp_path, emulator)
    export = _export(tmp_path, 12)

    summary = pipeline.upload(config, [export])  # the documented form: token from the env
    assert (summary.exit_code, summary.sent, summary.rejected, summary.pending) == (0, 12, 1, 0)
    assert len(emulator.jobs(campaign["id"])) == 12
    again = pipeline.upload(str(config), [str(export)])
    assert again.exit_code == 0 and len(emulator.jobs(campaign["id"])) == 12  # none twice

    report = pipeline.reconcile(config)
    assert (report.exit_code, report.pending, report.counts.batches) == (0, 0, 0)

    out = tmp_path / "results.csv"
    fetched = pipeline.results(config, out, run=summary.run_id)
    assert fetched.rows_written == 13 and out.exists()

    assert pipeline.campaign_info(config).id == str(campaign["id"])
    assert pipeline.pause_campaign(config) == pipeline.campaign_status(config) == "paused"
    assert pipeline.resume_campaign(config) == "inProgress"

    with pipeline.open_audit(config) as audit:
        assert audit.verify() == []
        assert [run.id for run in audit.runs()][-1] == summary.run_id
        assert {e.state for e in audit.phone(phone(3))} == {"sent"}

    asked: list[int] = []

    def decline(plan: pipeline.front.CancelPlan) -> bool:
        asked.append(plan.total)
        return False

    declined = pipeline.cancel(config, run=summary.run_id, confirm=decline)
    assert declined is None and asked == [12] and _statuses(emulator, campaign) == {"planned"}
    cancelled = pipeline.cancel(config, run=summary.run_id)
    assert cancelled is not None and cancelled.cancelled == 12
    assert _statuses(emulator, campaign) == {"cancelledByUser"}

    copy = tmp_path / "copy.sqlite3"
    moved = pipeline.migrate_ledger(config, to=f"sqlite:///{copy}")
    assert moved.committed and moved.problems == []

    assert pipeline.stop_campaign(config, token=campaign["token"]) == "finished"


def test_the_injected_clock_and_ledger_url_are_the_ones_used(
    emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    config = pipeline.load_config(_config(tmp_path, emulator))
    elsewhere = f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}"
    clock = FakeClock(datetime(2026, 11, 3, 2, 0, tzinfo=UTC))
    slept: list[float] = []
    summary = pipeline.upload(
        config,
        [_export(tmp_path, 3)],
        ledger=elsewhere,
        token=campaign["token"],
        clock=clock,
        sleep=slept.append,
    )
    assert summary.exit_code == 0, summary.lines()
    assert not (tmp_path / "ledger.sqlite3").exists()  # ledger= wins over ledger.url
    with open_ledger(elsewhere) as ledger, ledger.store.engine.connect() as conn:
        started = conn.execute(sa.select(schema.runs.c.started_at)).scalar_one()
    assert started.replace(tzinfo=UTC) == clock.now


def test_cancel_honours_the_configured_key_safety_margin(
    emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    """A cancel request whose key was first sent 22.5 h ago is past a 2 h margin (the key may
    have expired on the server): it is resent under a new key, not the old one. With the
    default 1 h margin, which ``cancel`` used whatever the config said, it kept the old key."""
    config = _config(tmp_path, emulator, "{batch_size: 10, key_safety_margin_s: 7200}")
    summary = pipeline.upload(config, [_export(tmp_path, 2)], token=campaign["token"])
    with pipeline.front.open_cancel(config, run=summary.run_id, token=campaign["token"]) as job:
        ledger = job.ledger
        own = ledger.runs.start(command="cancel", files=[], config_digest="x")
        (work,) = ledger.cancels.plan(job.plan.campaign_id, own, job.plan.targets, chunk_size=10)
        ledger.cancels.mark_attempt(work.id)
        with ledger.store.engine.begin() as conn:
            conn.execute(
                sa.update(schema.cancel_requests).values(
                    first_sent_at=datetime.now(UTC) - timedelta(hours=22, minutes=30)
                )
            )
    result = CliRunner().invoke(
        cli,
        ["cancel", "--config", str(config), "--run", str(summary.run_id), "--yes"],
        env={"JAICP_TOKEN": campaign["token"]},
    )
    assert result.exit_code == 0, result.output
    sent = [e for e in emulator.requests_log() if e["path"].endswith("/callJob/cancel")]
    assert [e["idempotenceKey"] for e in sent] != [work.request_key]
    assert _statuses(emulator, campaign) == {"cancelledByUser"}
