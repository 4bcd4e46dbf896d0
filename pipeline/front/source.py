"""What every call of the front door starts from: a config (path or loaded) and the token.

Usage::

    cfg = as_config("configs/bitrix24.yaml")     # or a Config already loaded: returned as is
    token = resolve_token(None)                  # None: from $JAICP_TOKEN (core dumps off first)
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

from pipeline.config import Config, campaign_token, load_config

ConfigLike = Config | str | PathLike[str]
"""A config file's path, or a :class:`~pipeline.config.Config` loaded (or parsed) already."""


def as_config(config: ConfigLike) -> Config:
    """``config`` loaded from its file, unless it is a :class:`Config` already."""
    return config if isinstance(config, Config) else load_config(Path(config))


def resolve_token(token: str | None) -> str:
    """``token``, or the one in ``$JAICP_TOKEN`` (raises ConfigError, exit 4, when unset)."""
    return campaign_token() if token is None else token
