"""``upload.max_reject_ratio`` (exit 8) and ``upload.empty_file`` (exit 9): a file mostly
rejected stops the run before its first request, in upload and in validate alike; a file
without data rows is a warning, and exit 9 when the operator asks for it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pipeline.cli.main import cli
from pipeline.config import parse_config
from pipeline.emulator import Emulator
from pipeline.errors import ConfigError, EmptyFileError, ExitCode, RejectRatioError
from tests.conftest import phone
from tests.load.conftest import Uploader, jobs_per_phone, write_csv


def mixed(path: Path, good: int, bad: int, *, dup: int = 0) -> Path:
    """``good`` valid rows, ``bad`` rows with no phone, ``dup`` repeats of the first one."""
    rows = [(phone(i), f"Anna {i}") for i in range(good)]
    rows += [("", f"Nobody {i}") for i in range(bad)]
    rows += [(phone(0), "Anna 0")] * dup
    return write_csv(path, rows)


def test_a_file_over_the_ratio_sends_nothing_and_exits_8(
    uploader: Uploader, emulator: Emulator, tmp_path: Path
) -> None:
    good = mixed(tmp_path / "good.csv", 10, 0)
    over = mixed(tmp_path / "over.csv", 4, 6)  # 60 % rejected

    with pytest.raises(RejectRatioError) as caught:
        uploader.run(good, over, max_reject_ratio=0.5)

    error = caught.value
    assert error.exit_code == ExitCode.REJECT_RATIO == 8
    message = str(error)
    assert "over.csv: 6 of 10 data rows (60.0%) are rejected" in message
    assert "upload.max_reject_ratio 0.5 (50%)" in message
    assert "Top reasons: phone_missing 6" in message
    assert "header (phone, name)" in message
    assert "jaicp-pipeline validate" in message and "nothing was sent" in message
    # Before the first request: not even the good file nor the campaign check went out.
    assert emulator.requests_log() == []
    # The ledger recorded the refused run, with the file's digest, and planned nothing.
    assert uploader.query("SELECT exit_status FROM runs") == [(8,)]
    assert uploader.query("SELECT count(*) FROM rows") == [(0,)]
    assert uploader.query("SELECT count(*) FROM inputs") == [(0,)]


def test_at_or_below_the_ratio_the_file_goes_out(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    # 5 of 10 rejected is not *more* than 0.5; duplicates do not count as rejects.
    summary = uploader.run(mixed(tmp_path / "half.csv", 5, 5, dup=10), max_reject_ratio=0.5)
    assert summary.exit_code == ExitCode.OK, summary.lines()
    assert summary.rejected == 5 and summary.duplicate == 10
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(5)}


def test_without_the_setting_a_wrong_mapping_is_complete_as_before(
    uploader: Uploader, tmp_path: Path
) -> None:
    summary = uploader.run(mixed(tmp_path / "bad.csv", 0, 8))
    assert summary.exit_code == ExitCode.OK and summary.rejected == 8


def test_a_file_known_to_the_ledger_is_not_screened_again(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    """A file planned before the limit was set (or half-sent by a killed run) is resumed:
    its rows are in the ledger already, and any run sends them."""
    data = mixed(tmp_path / "x.csv", 2, 8)
    first = uploader.run(data)
    assert first.exit_code == 0
    again = uploader.run(data, max_reject_ratio=0.1)
    assert again.exit_code == 0, again.lines()


def test_the_setting_is_checked() -> None:
    for wrong in (0, 1.5, -0.1, "lots"):
        with pytest.raises(ConfigError, match="more than 0 and at most 1"):
            parse_config({"upload": {"max_reject_ratio": wrong}}, environ={})
    with pytest.raises(ConfigError, match="warn"):
        parse_config({"upload": {"empty_file": "ignore"}}, environ={})
    assert parse_config({"upload": {"max_reject_ratio": 1}}, environ={}).upload.max_reject_ratio


def test_an_empty_file_is_a_warning_by_default_and_exit_9_on_request(
    uploader: Uploader, emulator: Emulator, tmp_path: Path
) -> None:
    empty = write_csv(tmp_path / "empty.csv", [])
    warned = uploader.run(empty)
    assert warned.exit_code == ExitCode.OK
    assert any("empty.csv: no data rows" in note for note in warned.notes)

    failed = uploader.run(empty, empty_file="fail")
    assert failed.exit_code == ExitCode.EMPTY_FILE == 9
    assert isinstance(failed.error, EmptyFileError)
    assert "empty.csv: no data rows" in str(failed.error)
    assert uploader.query("SELECT exit_status FROM runs ORDER BY id") == [(0,), (9,)]
    # The other files of the run still go out: an empty file endangers nobody.
    other = mixed(tmp_path / "other.csv", 3, 0)
    both = uploader.run(other, empty, empty_file="fail")
    assert both.exit_code == 9 and both.sent == 3


CONFIG = """\
columns:
  phone: phone
  payload: {{name: name}}
upload:
  {setting}
"""


def validate(tmp_path: Path, data: Path, setting: str, *extra: str) -> Any:
    config = tmp_path / "v.yaml"
    config.write_text(CONFIG.format(setting=setting), encoding="utf-8")
    return CliRunner().invoke(cli, ["validate", "--config", str(config), *extra, str(data)])


def test_validate_exits_8_with_the_same_message(tmp_path: Path) -> None:
    data = mixed(tmp_path / "over.csv", 1, 9)
    result = validate(tmp_path, data, "max_reject_ratio: 0.2")
    assert result.exit_code == ExitCode.REJECT_RATIO, result.output
    assert "rows read 10 = accepted 1 + rejected 9 + duplicate 0" in result.output
    assert "9 of 10 data rows (90.0%) are rejected" in result.output
    assert "upload would stop before sending anything (exit 8)" in result.output

    as_json = validate(tmp_path, data, "max_reject_ratio: 0.2", "--summary-json")
    assert as_json.exit_code == 8
    assert json.loads(as_json.stdout.splitlines()[0])["exit_code"] == 8

    fine = validate(tmp_path, data, "max_reject_ratio: 0.95")
    assert fine.exit_code == 0, fine.output


def test_validate_warns_of_an_empty_file_and_exits_9_on_request(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "empty.csv", [])
    warned = validate(tmp_path, data, "empty_file: warn")
    assert warned.exit_code == 0
    assert "warning: " in warned.output and "no data rows" in warned.output
    failed = validate(tmp_path, data, "empty_file: fail")
    assert failed.exit_code == ExitCode.EMPTY_FILE, failed.output
    assert "upload.empty_file is fail (exit 9)" in failed.output
