"""Relative paths in a config file resolve against the config file (issue 10 §2)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from pipeline.config import load_config, parse_config
from pipeline.emulator import Emulator
from pipeline.errors import ExitCode

ROOT = Path(__file__).resolve().parent.parent


def test_a_relative_sqlite_ledger_is_next_to_the_config_whatever_the_cwd(
    tmp_path: Path, monkeypatch: Any
) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    config = folder / "nightly.yaml"
    config.write_text(
        "ledger: {url: 'sqlite:///ledgers/l.sqlite3'}\napi: {ca_bundle: certs/ca.pem}\n",
        encoding="utf-8",
    )
    for cwd in (tmp_path, folder, Path("/")):
        monkeypatch.chdir(cwd)
        cfg = load_config(Path(os.path.relpath(config, cwd)))
        assert cfg.ledger.url == f"sqlite:///{folder / 'ledgers' / 'l.sqlite3'}"
        assert cfg.api.ca_bundle == folder / "certs" / "ca.pem"


def test_absolute_memory_and_server_urls_stay_as_written(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    for url in (
        f"sqlite:///{tmp_path / 'abs.sqlite3'}",
        "sqlite:///:memory:",
        "postgresql+psycopg://app:secret@db.example/ledger",
    ):
        config.write_text(f"ledger: {{url: '{url}'}}\n", encoding="utf-8")
        assert load_config(config).ledger.url == url


def test_home_is_expanded(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    config = tmp_path / "c.yaml"
    config.write_text("ledger: {url: 'sqlite:///~/jaicp/l.sqlite3'}\n", encoding="utf-8")
    assert load_config(config).ledger.url == f"sqlite:///{tmp_path / 'jaicp' / 'l.sqlite3'}"


def test_a_config_object_made_in_code_keeps_its_paths() -> None:
    # No file, no folder to anchor at: a relative path stays relative (to the cwd, as a path
    # handed to any library would be).
    assert parse_config({}, environ={}).ledger.url == "sqlite:///ledger.sqlite3"


def test_cron_and_a_shell_share_one_ledger(
    tmp_path: Path, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    """The same command from two directories (cron starts in $HOME) sends each row once."""
    folder = tmp_path / "opt"
    folder.mkdir()
    config = folder / "c.yaml"
    config.write_text(
        "ledger: {url: 'sqlite:///ledger.sqlite3'}\n"  # the shipped default
        "columns: {phone: phone, payload: {name: name}}\nupload: {batch_size: 50}\n",
        encoding="utf-8",
    )
    export = folder / "export.csv"
    export.write_text(
        "phone,name\n" + "".join(f"7916{i:07d},N{i}\n" for i in range(500)), encoding="utf-8"
    )
    env = {
        **os.environ,
        "JAICP_TOKEN": campaign["token"],
        "JAICP_BASE_URL": emulator.base_url,
        "PYTHONPATH": str(ROOT),
    }
    for cwd in (folder, tmp_path / "home"):
        cwd.mkdir(exist_ok=True)
        done = subprocess.run(
            [sys.executable, "-m", "pipeline", "upload", "--config", str(config), str(export)],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == ExitCode.OK, done.stdout + done.stderr
    assert len(emulator.jobs(campaign["id"])) == 500
    assert (folder / "ledger.sqlite3").exists()
    assert not (tmp_path / "home" / "ledger.sqlite3").exists()
