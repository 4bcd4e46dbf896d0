"""The API address in the config: plain http:// only to this machine, unless allowed.

The campaign token is in every request's URL; over plain http:// to another host it crosses
the network readable by anyone on the path. ``api.base_url`` and ``JAICP_BASE_URL`` are both
checked when the config is loaded, so every command refuses before anything is sent.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli.main import cli
from pipeline.config import load_config, parse_config
from pipeline.errors import ConfigError, ExitCode
from tests.conftest import random_token

REMOTE = [
    "http://10.1.2.3",
    "http://app.jaicp.com",
    "http://[2001:db8::1]:8080",
]
LOOPBACK = [
    "http://127.0.0.1:8080",
    "http://127.8.9.10",
    "http://localhost:1234",
    "http://LOCALHOST",
    "http://[::1]:9000",
    "http://[::ffff:127.0.0.1]:80",
]


@pytest.mark.parametrize("url", REMOTE)
def test_plain_http_to_another_host_is_refused(url: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({"api": {"base_url": url}}, environ={})
    text = str(err.value)
    assert "api.base_url" in text and "unencrypted" in text
    assert "api.allow_insecure_http: true" in text  # how to allow it
    assert err.value.exit_code == ExitCode.CONFIG


@pytest.mark.parametrize("url", REMOTE)
def test_plain_http_to_another_host_is_accepted_when_allowed(url: str) -> None:
    cfg = parse_config({"api": {"base_url": url, "allow_insecure_http": True}}, environ={})
    assert cfg.api.base_url == url


@pytest.mark.parametrize("url", LOOPBACK)
def test_loopback_stays_allowed(url: str) -> None:
    assert parse_config({"api": {"base_url": url}}, environ={}).api.base_url == url
    assert parse_config({}, environ={"JAICP_BASE_URL": url}).effective_base_url({}) == (
        "https://app.jaicp.com"
    )


def test_https_anywhere_is_fine() -> None:
    cfg = parse_config({"api": {"base_url": "https://10.1.2.3:8443"}}, environ={})
    assert cfg.effective_base_url({}) == "https://10.1.2.3:8443"


@pytest.mark.parametrize("url", REMOTE)
def test_the_environment_override_is_checked_at_load(url: str, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("api:\n  base_url: https://app.jaicp.com\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path, environ={"JAICP_BASE_URL": url})
    text = str(err.value)
    assert str(path) in text and "JAICP_BASE_URL" in text and "allow_insecure_http" in text
    allowed = tmp_path / "allowed.yaml"
    allowed.write_text("api:\n  allow_insecure_http: true\n", encoding="utf-8")
    cfg = load_config(allowed, environ={"JAICP_BASE_URL": url})
    assert cfg.effective_base_url({"JAICP_BASE_URL": url}) == url


def test_an_environment_override_that_is_no_url_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"JAICP_BASE_URL='app\.jaicp\.com' is not an http"):
        parse_config({}, environ={"JAICP_BASE_URL": "app.jaicp.com"})


def test_upload_refuses_with_exit_4_before_sending(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(f"ledger:\n  url: sqlite:///{tmp_path / 'l.sqlite3'}\n", encoding="utf-8")
    data = tmp_path / "in.csv"
    data.write_text("phone\n79161234567\n", encoding="utf-8")
    env = {"JAICP_TOKEN": random_token(), "JAICP_BASE_URL": "http://192.0.2.10"}
    result = CliRunner().invoke(cli, ["upload", "--config", str(config), str(data)], env=env)
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert "JAICP_BASE_URL" in result.output and "allow_insecure_http" in result.output
    assert not (tmp_path / "l.sqlite3").exists()  # refused before the ledger was touched
