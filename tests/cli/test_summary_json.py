"""The end-of-run summary of ``upload``: a re-run says what it sent itself and what earlier
runs had sent (the rows still add up), ``--summary-json`` puts one JSON object on stdout, and
``--log-format json`` ends its stderr log with the same object. No token anywhere.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from pipeline.cli.main import cli
from pipeline.emulator import Emulator
from tests.cli.test_output import CONFIG
from tests.conftest import phone
from tests.load.conftest import write_csv


def _run(
    tmp_path: Path, emulator: Emulator, token: str, *own: str, root: tuple[str, ...] = ()
) -> Result:
    config = tmp_path / "c.yaml"
    config.write_text(CONFIG.format(ledger=tmp_path / "l.sqlite3"), encoding="utf-8")
    data = tmp_path / "export.csv"
    if not data.exists():
        write_csv(data, [(phone(i), f"Anna {i}") for i in range(12)])
    env = {"JAICP_TOKEN": token, "JAICP_BASE_URL": emulator.base_url, "JAICP_PROGRESS": None}
    return CliRunner().invoke(
        cli,
        [*root, "upload", "--config", str(config), *own, str(data)],
        env=env,
        catch_exceptions=False,
    )


def test_a_rerun_says_it_sent_nothing_and_what_earlier_runs_had_sent(
    emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    first = _run(tmp_path, emulator, campaign["token"])
    assert first.exit_code == 0, first.output
    assert "rows read 12 = sent 12 + rejected 0" in first.stdout
    assert "earlier runs" not in first.stdout  # nothing was sent before the first run
    again = _run(tmp_path, emulator, campaign["token"])
    assert again.exit_code == 0, again.output
    lines = again.stdout.splitlines()
    assert lines[0].endswith(
        "rows read 12 = sent 0 now + 12 before + rejected 0 + duplicate 0 + pending 0"
    ), lines
    assert "this run sent 0 row(s); earlier runs had sent 12 row(s) of these files" in lines


def test_summary_json_is_one_object_on_stdout(
    emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    token = campaign["token"]
    first = _run(tmp_path, emulator, token, "--summary-json")
    assert first.exit_code == 0, first.output
    data = json.loads(first.stdout)  # the whole of stdout: one object
    digest = hashlib.sha256((tmp_path / "export.csv").read_bytes()).hexdigest()
    assert data["exit_code"] == 0 and data["run_id"] >= 1
    assert data["rows"]["read"] == 12
    assert (data["rows"]["sent_now"], data["rows"]["sent_before"]) == (12, 0)
    assert data["files"] == [{"name": str(tmp_path / "export.csv"), "sha256": digest}]
    assert data["batches"]["confirmed"] == 3  # 12 rows, batches of 5
    assert isinstance(data["duration_s"], float)
    again = json.loads(_run(tmp_path, emulator, token, "--summary-json").stdout)
    rows = again["rows"]
    assert (rows["sent"], rows["sent_now"], rows["sent_before"]) == (12, 0, 12)
    assert rows["read"] == rows["sent"] + rows["rejected"] + rows["duplicate"] + rows["pending"]
    assert again["run_id"] == data["run_id"] + 1
    for text in (first.output, json.dumps(again)):
        assert token not in text and token.rsplit(".", 1)[-1] not in text


def test_json_logs_end_with_the_summary_object(
    emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    token = campaign["token"]
    got = _run(tmp_path, emulator, token, root=("--log-format", "json"))
    assert got.exit_code == 0, got.output
    entries = [json.loads(line) for line in got.stderr.splitlines()]
    last = entries[-1]
    assert last["logger"] == "pipeline.summary"
    assert last["summary"]["rows"]["sent_now"] == 12 and last["summary"]["exit_code"] == 0
    assert "complete (exit 0)" in got.stdout  # stdout keeps its text lines
    assert token not in got.output and token.rsplit(".", 1)[-1] not in got.output
    # Progress lines carry numbers, not only a message.
    sends = [e for e in entries if e["logger"] == "pipeline.progress" and e.get("stage") == "send"]
    assert sends and all(isinstance(e["done"], int) for e in sends)
    assert any(e["done"] == 12 and e["total"] == 12 and e["rate"] > 0 for e in sends), sends


def test_validate_summary_json(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    sample = root / "sample_data" / "bitrix24_export.csv"
    rejects = tmp_path / "rejects.csv"
    got = CliRunner().invoke(
        cli,
        [
            "validate",
            "--config",
            str(root / "configs" / "bitrix24.yaml"),
            str(sample),
            "--rejects",
            str(rejects),
            "--summary-json",
        ],
        catch_exceptions=False,
    )
    assert got.exit_code == 0, got.output
    data = json.loads(got.stdout)
    assert data["rows"] == {"read": 29, "accepted": 23, "rejected": 5, "duplicate": 1}
    assert sum(data["reasons"].values()) == 6  # every rejected and duplicate row has one
    assert data["written"] == {"accepted": None, "rejects": str(rejects), "batches": None}
    assert rejects.exists()
