"""A small ``phone,name`` CSV and the config that reads it, for tests of how ``validate`` reads
a file (shares, the collector): the rows are the test's, the rest is always the same."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pipeline.config import Config, load_config

CONFIG = "version: 1\ncolumns: {phone: phone, payload: {name: name}}\n"


def phone_name_export(tmp_path: Path, rows: Iterable[str]) -> tuple[Config, Path]:
    """The config and ``export.csv`` (header ``phone,name``, one line per row) in ``tmp_path``."""
    config_path = tmp_path / "config.yaml"
    config_path.write_text(CONFIG)
    export = tmp_path / "export.csv"
    export.write_text("phone,name\n" + "".join(f"{row}\n" for row in rows))
    return load_config(config_path), export
