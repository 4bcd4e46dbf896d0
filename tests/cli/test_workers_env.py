"""``$JAICP_WORKERS`` is read in one place (pipeline.config.requested_workers) for validate and
upload alike: the same message, and a value that is no whole number is a configuration error
(exit 4) for both commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli.main import cli
from pipeline.config import requested_workers
from pipeline.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
MESSAGE = "JAICP_WORKERS='many' is not a whole number; set it to 1 (one process) or more"


def test_the_one_reader() -> None:
    assert requested_workers({}) is None
    assert requested_workers({"JAICP_WORKERS": " "}) is None
    assert requested_workers({"JAICP_WORKERS": " 3 "}) == 3
    for wrong in ("many", "-2", "1.5"):
        with pytest.raises(ConfigError, match="is not a whole number"):
            requested_workers({"JAICP_WORKERS": wrong})


@pytest.mark.parametrize("command", ["validate", "upload"])
def test_a_wrong_value_stops_either_command_as_a_config_error(command: str, tmp_path: Path) -> None:
    args = [command, "--config", "configs/bitrix24.yaml", "sample_data/bitrix24_export.csv"]
    if command == "upload":  # it stops before anything is sent; its ledger is a scratch file
        args[1:1] = ["--ledger", f"sqlite:///{tmp_path / 'ledger.sqlite3'}"]
    result = CliRunner().invoke(
        cli, args, env={"JAICP_WORKERS": "many", "JAICP_TOKEN": "104.7056.x"}
    )
    assert result.exit_code == 4, result.output
    assert MESSAGE in result.output
