"""Every number in the config is finite and bounded: ``.inf``, ``.nan``, ``1e308`` or a value
outside a key's range is a configuration error (exit 4) that names the key and its range."""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pydantic import BaseModel

from pipeline.cli.main import cli
from pipeline.config import Config, parse_config
from pipeline.errors import ConfigError, ExitCode

HOSTILE = [float("inf"), float("-inf"), float("nan"), 1e308, "1e308", ".inf"]


def _numeric(annotation: Any) -> bool:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        # A number or nothing; not a name that may be a number (input.sheet).
        options = [a for a in args if a is not type(None)]
        return all(_numeric(a) for a in options)
    return annotation in (int, float)


def numeric_keys() -> list[tuple[str, str]]:
    """(section, key) of every int/float setting of every section (as written in YAML)."""
    keys = []
    for section, info in Config.model_fields.items():
        model = info.annotation
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            continue
        for name, field in model.model_fields.items():
            if _numeric(field.annotation):
                keys.append((section, field.alias or name))
    return keys


def test_the_sweep_sees_the_settings_it_guards() -> None:
    keys = numeric_keys()
    assert ("upload", "run_budget_s") in keys and ("notify", "timeout_s") in keys
    assert ("api", "timeout_s") in keys and len(keys) >= 15


@pytest.mark.parametrize("value", HOSTILE, ids=repr)
@pytest.mark.parametrize(
    ("section", "key"), numeric_keys(), ids=[f"{s}.{k}" for s, k in numeric_keys()]
)
def test_every_number_is_finite_and_bounded(section: str, key: str, value: object) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({section: {key: value}}, environ={})
    assert f"{section}.{key}:" in str(info.value)
    assert info.value.exit_code == ExitCode.CONFIG


RANGES = {
    "run_budget_s": ("more than 0 and at most 86400 s", 86_400, 86_401),
    "backoff_base_s": ("more than 0 and at most 60 s", 60, 61),
    "backoff_max_s": ("more than 0 and at most 600 s", 600, 601),
    "retry_after_cap_s": ("at least 0 and at most 3600 s", 3600, 3601),
    "key_safety_margin_s": ("at least 0 and at most 43200 s", 43_200, 43_201),
    "repeat_window_s": ("at least 0 and at most 31622400 s", 31_622_400, 31_622_401),
    "lease_ttl_s": ("at least 1 and at most 3600 s", 3600, 3601),
    "batch_size": ("at least 1 and at most 10000 rows", 10_000, 10_001),
    "concurrency": ("at least 1 and at most 32 senders", 32, 33),
    "max_concurrency": ("at least 1 and at most 32 senders", 32, 33),
    "max_attempts_per_request": ("at least 1 and at most 100", 100, 101),
}


@pytest.mark.parametrize("key", sorted(RANGES))
def test_upload_settings_name_their_range(key: str) -> None:
    text, highest, too_high = RANGES[key]
    assert getattr(parse_config({"upload": {key: highest}}, environ={}).upload, key) == highest
    for bad in (too_high, float("inf"), float("nan"), -1):
        with pytest.raises(ConfigError) as info:
            parse_config({"upload": {key: bad}}, environ={})
        assert f"upload.{key}: must be a number {text}" in str(info.value), str(info.value)


def test_notify_timeout_names_its_range() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"notify": {"timeout_s": float("inf")}}, environ={})
    assert "notify.timeout_s: must be a number more than 0 and at most 120 s" in str(info.value)


def test_an_infinite_run_budget_in_a_file_exits_4(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("upload:\n  run_budget_s: .inf\n", encoding="utf-8")
    data = tmp_path / "x.csv"
    data.write_text("phone\n79161234567\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", "--config", str(config), str(data)])
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert "upload.run_budget_s: must be a number more than 0 and at most 86400 s" in (
        result.output
    )
