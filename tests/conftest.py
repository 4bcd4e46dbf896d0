"""Shared fixtures. Feature areas add their own conftest.py in their test folders.

* ``emulator`` — a started :class:`pipeline.emulator.Emulator` on 127.0.0.1, port 0 (a free
  port), seed 0, its clock frozen at a fixed start; stopped after the test.
* ``campaign`` — the admin view (``id``, ``token``, ``name``, ...) of a running campaign created
  in it, with a realistic token ``104.7056.<43 letters and digits>`` (random per test, so a
  leaked token in an assertion message is recognisable and never reused).

Usage::

    def test_something(emulator: Emulator, campaign: dict[str, Any]) -> None:
        url = f"{emulator.base_url}/api/calls/campaign/{campaign['token']}/status"
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterator
from typing import Any

import pytest

from pipeline.emulator import Emulator

EMULATOR_START_MS = 1_700_000_000_000  # 2023-11-14T22:13:20Z, fixed so timestamps repeat
_ALNUM = string.ascii_letters + string.digits


def random_token(account: int = 104, campaign: int = 7056) -> str:
    """A token of the documented shape ``account.campaign.<43 alphanumerics>``."""
    return f"{account}.{campaign}." + "".join(secrets.choice(_ALNUM) for _ in range(43))


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(host="127.0.0.1", port=0, seed=0, start_ms=EMULATOR_START_MS) as emu:
        yield emu


@pytest.fixture
def campaign(emulator: Emulator) -> dict[str, Any]:
    return emulator.create_campaign(token=random_token(), name="Reminders")
