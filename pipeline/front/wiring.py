"""The parts every networked call is built from, wired in one place and the same way.

Each command used to open its ledger and build its client itself, and they drifted (``cancel``
opened the ledger with the default key safety margin, not the configured one). Here the ledger
always gets the config's ``upload.key_safety_margin_s`` and the clock; the client always comes
from the ``api:`` section.

Usage::

    with open_ledger_for(cfg, None, clock=utc_now, must_exist=True) as ledger:
        client = api_client(cfg, token)
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import datetime

from pipeline.api import CallsApiClient
from pipeline.config import Config
from pipeline.errors import ConfigError
from pipeline.ledger import Ledger, open_ledger, utc_now
from pipeline.load.stop import StopFlag

Clock = Callable[[], datetime]
Sleep = Callable[[float], None]


def open_ledger_for(
    cfg: Config, url: str | None, *, clock: Clock | None = None, must_exist: bool = False
) -> Ledger:
    """The ledger at ``url`` (default ``ledger.url``), with the config's key safety margin."""
    chosen = url or cfg.ledger.url
    if not chosen:
        raise ConfigError("no ledger: give ledger= (--ledger URL) or set ledger.url in the config.")
    return open_ledger(
        chosen,
        clock=clock or utc_now,
        key_safety_margin_s=cfg.upload.key_safety_margin_s,
        must_exist=must_exist,
    )


def api_client(cfg: Config, token: str) -> CallsApiClient:
    """A Calls API client from the ``api:`` section (``JAICP_BASE_URL`` wins over base_url)."""
    return CallsApiClient.from_config(cfg, token)


def sleeper(sleep: Sleep | None, control: StopFlag | None) -> Sleep:
    """``sleep``, else the control's (a stop cuts every backoff short), else ``time.sleep``."""
    if sleep is not None:
        return sleep
    return control.sleep if control is not None else time.sleep


def jitter(rng: random.Random | None) -> random.Random:
    """The random source of backoff jitter (not a secret)."""
    return rng if rng is not None else random.Random()  # noqa: S311 - jitter, not a secret
