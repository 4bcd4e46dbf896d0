"""Fixtures of the client contract tests: a client talking to the emulator over a socket.

The shared ``emulator`` (a started :class:`pipeline.emulator.Emulator`) and ``campaign`` (the
campaign dict of the contract, with its ``token``) come from ``tests/conftest.py``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from pipeline.api import CallsApiClient


@pytest.fixture
def client_for(emulator: Any) -> Callable[..., CallsApiClient]:
    """Build a client for any token against the running emulator."""

    def build(token: str, **kwargs: Any) -> CallsApiClient:
        kwargs.setdefault("timeout", 10.0)
        return CallsApiClient(emulator.base_url, token, **kwargs)

    return build


@pytest.fixture
def client(client_for: Callable[..., CallsApiClient], campaign: dict[str, Any]) -> CallsApiClient:
    """A client for the shared campaign."""
    return client_for(campaign["token"])


def logged(emulator: Any, key: str, count: int) -> list[dict[str, Any]]:
    """The emulator's request-log entries carrying ``key``, once ``count`` of them are there.

    The emulator appends an entry after its reply has gone out, so the client can see the
    reply a moment before the entry exists; this waits for the entry (bounded), it does not
    measure time.
    """
    deadline = time.monotonic() + 10.0
    while True:
        entries = [r for r in emulator.requests_log() if r["idempotenceKey"] == key]
        if len(entries) >= count or time.monotonic() > deadline:
            return entries
        time.sleep(0.01)
