"""Config loading: YAML, ${ENV} interpolation, errors that name file, key and expected value."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import campaign_token, load_config, parse_config
from pipeline.errors import ConfigError, ExitCode

ROOT = Path(__file__).resolve().parent.parent


def test_every_example_config_loads() -> None:
    configs = sorted((ROOT / "configs").glob("*.yaml"))
    assert configs, "configs/ must hold at least one example"
    for path in configs:
        cfg = load_config(path, environ={})
        assert cfg.api.base_url.startswith("http")


def test_env_interpolation_with_default_and_override(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("api:\n  base_url: ${HOST:-http://127.0.0.1:9}\n", encoding="utf-8")
    assert load_config(path, environ={}).api.base_url == "http://127.0.0.1:9"
    assert load_config(path, environ={"HOST": "https://x.test/"}).api.base_url == "https://x.test"


def test_missing_env_variable_names_key_and_variable(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("ledger:\n  url: ${LEDGER_URL}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path, environ={})
    text = str(err.value)
    assert str(path) in text and "ledger.url" in text and "LEDGER_URL" in text


def test_bad_value_names_file_key_and_got(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("upload:\n  batch_size: lots\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path, environ={})
    text = str(err.value)
    assert str(path) in text and "upload.batch_size" in text and "'lots'" in text
    assert err.value.exit_code == ExitCode.CONFIG


def test_unknown_key_is_an_error_not_ignored() -> None:
    with pytest.raises(ConfigError, match=r"api\.timeout_sec: unknown key"):
        parse_config({"api": {"timeout_sec": 5}}, environ={})


def test_bad_yaml_reports_line(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("api:\n  base_url: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="line"):
        load_config(path, environ={})


def test_missing_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")


def test_token_only_from_environment() -> None:
    assert campaign_token({"JAICP_TOKEN": " 1.2.abc "}) == "1.2.abc"
    with pytest.raises(ConfigError, match="JAICP_TOKEN"):
        campaign_token({})


def test_base_url_env_override() -> None:
    cfg = parse_config({"api": {"base_url": "https://app.jaicp.com"}}, environ={})
    assert cfg.effective_base_url({"JAICP_BASE_URL": "http://127.0.0.1:5/"}) == (
        "http://127.0.0.1:5"
    )
    assert cfg.effective_base_url({}) == "https://app.jaicp.com"


def test_example_config_lists_every_key() -> None:
    """configs/example.yaml is the config reference: every section and key appears in it."""
    import yaml

    from pipeline.config import Config

    data = yaml.safe_load((ROOT / "configs" / "example.yaml").read_text(encoding="utf-8"))
    missing = []
    for section, field in Config.model_fields.items():
        if section == "version":
            continue
        if section not in data:
            missing.append(section)
            continue
        model = field.annotation
        shown = data[section] or {}
        for name, info in getattr(model, "model_fields", {}).items():
            key = info.alias or name  # policy keys are written under the API's names
            if key not in shown:
                missing.append(f"{section}.{key}")
    assert not missing, f"configs/example.yaml lacks: {', '.join(missing)}"
