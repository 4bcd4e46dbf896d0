"""``jaicp-pipeline init EXPORT`` as a user runs it: the drafted file validates the export at
once; an existing file is kept (exit 1) unless --force; an export without phones is exit 6
naming the headers it saw."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli.main import cli
from tests.config import exports
from tests.config.exports import ROWS, Export


@pytest.mark.parametrize("make", [exports.amocrm_csv, exports.onec_xls, exports.bitrix24_xlsx])
def test_init_then_validate(tmp_path: Path, make: Callable[[Path], Export]) -> None:
    export = make(tmp_path)
    config = tmp_path / "drafted.yaml"
    runner = CliRunner()
    made = runner.invoke(cli, ["init", str(export.path), "--out", str(config)])
    assert made.exit_code == 0, made.output
    assert f"wrote {config} from {export.path}" in made.stdout
    assert f"phone: {', '.join(export.phones)}" in made.stdout
    assert f"jaicp-pipeline validate --config {config} {export.path}" in made.stdout
    checked = runner.invoke(cli, ["validate", "--config", str(config), str(export.path)])
    assert checked.exit_code == 0, checked.output
    assert f"rows read {ROWS} = accepted {ROWS} + rejected 0" in checked.stdout


def test_the_default_output_is_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export = exports.hubspot_csv(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    made = CliRunner().invoke(cli, ["init", str(export.path)])
    assert made.exit_code == 0, made.output
    assert (work / "hubspot-contacts.yaml").is_file()


def test_an_existing_config_is_refused_then_overwritten_with_force(tmp_path: Path) -> None:
    export = exports.amocrm_csv(tmp_path)
    config = tmp_path / "c.yaml"
    config.write_text("version: 1\n", encoding="utf-8")
    runner = CliRunner()
    refused = runner.invoke(cli, ["init", str(export.path), "--out", str(config)])
    assert refused.exit_code == 1
    assert "the file exists; pass --force to overwrite it" in refused.stderr
    assert config.read_text(encoding="utf-8") == "version: 1\n"
    forced = runner.invoke(cli, ["init", str(export.path), "--out", str(config), "--force"])
    assert forced.exit_code == 0, forced.output
    assert "Мобильный телефон" in config.read_text(encoding="utf-8")


def test_an_export_without_phones_is_exit_6(tmp_path: Path) -> None:
    export = tmp_path / "deals.csv"
    export.write_text("Deal;Amount;Owner\nBig one;100;Ann\n", encoding="utf-8")
    got = CliRunner().invoke(cli, ["init", str(export), "--out", str(tmp_path / "c.yaml")])
    assert got.exit_code == 6
    assert "no column holds phone numbers" in got.stderr
    assert "Headers seen (line 1): 'Deal', 'Amount', 'Owner'" in got.stderr
    assert not (tmp_path / "c.yaml").exists()


def test_json_logs_get_the_error_as_json(tmp_path: Path) -> None:
    export = tmp_path / "empty.csv"
    export.write_text("a,b\n", encoding="utf-8")
    got = CliRunner().invoke(
        cli, ["--log-format", "json", "init", str(export), "--out", str(tmp_path / "c.yaml")]
    )
    assert got.exit_code == 6
    assert '"exit_code": 6' in got.stderr


def test_the_five_minute_path_init_validate_demo(tmp_path: Path) -> None:
    """README's "your own file": init a config, validate, then demo --file F --config C runs
    the whole path against the built-in emulator with that config."""
    export = exports.amocrm_csv(tmp_path)
    config = tmp_path / "mine.yaml"
    runner = CliRunner()
    assert runner.invoke(cli, ["init", str(export.path), "--out", str(config)]).exit_code == 0
    demo = runner.invoke(
        cli,
        ["demo", "--file", str(export.path), "--config", str(config), "--out", str(tmp_path / "d")],
    )
    assert demo.exit_code == 0, demo.output
    assert "complete (exit 0)" in demo.output
    assert (tmp_path / "d" / "results.xlsx").is_file()
