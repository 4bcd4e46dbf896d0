"""Shared fixtures. Feature areas add their own conftest.py in their test folders.

* ``emulator`` — a started :class:`pipeline.emulator.Emulator` on 127.0.0.1, port 0 (a free
  port), seed 0, its clock frozen at a fixed start; stopped after the test.
* ``campaign`` — the admin view (``id``, ``token``, ``name``, ...) of a running campaign created
  in it, with a realistic token ``104.7056.<43 letters and digits>`` (random per test, so a
  leaked token in an assertion message is recognisable and never reused).
* ``pg_url`` — a fresh PostgreSQL database ``jaicp_test_<random>`` created from ``test`` at
  127.0.0.1:5432 (user postgres) and dropped afterwards. When the server is not reachable the
  test is skipped — unless ``JAICP_REQUIRE_POSTGRES=1`` (CI), where it fails loudly.
* ``closed_port`` — a loopback port bound but not listening: connections to it are refused.

Helpers: :func:`random_token`, :class:`FakeClock` (aware UTC time the test moves by hand),
:func:`phone` (the n-th distinct valid mobile number), :func:`postgres_database`.

Usage::

    def test_something(emulator: Emulator, campaign: dict[str, Any]) -> None:
        url = f"{emulator.base_url}/api/calls/campaign/{campaign['token']}/status"
"""

from __future__ import annotations

import os
import secrets
import socket
import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from pipeline.emulator import Emulator

EMULATOR_START_MS = 1_700_000_000_000  # 2023-11-14T22:13:20Z, fixed so timestamps repeat
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
_ALNUM = string.ascii_letters + string.digits


def random_token(account: int = 104, campaign: int = 7056) -> str:
    """A token of the documented shape ``account.campaign.<43 alphanumerics>``."""
    return f"{account}.{campaign}." + "".join(secrets.choice(_ALNUM) for _ in range(43))


def phone(n: int) -> str:
    """The n-th distinct valid Russian mobile number."""
    return f"7916{n:07d}"


@dataclass
class FakeClock:
    """Aware UTC time that moves only when the test (or an injected sleep) moves it."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 0.0, **units: float) -> None:
        """``advance(90)``, ``advance(hours=25)``."""
        self.now += timedelta(seconds=seconds, **units)


def postgres_database() -> Iterator[str]:
    """Create a fresh database, yield its URL, drop it (skips without a server; see above)."""
    try:
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except sa.exc.OperationalError as exc:
        if os.environ.get("JAICP_REQUIRE_POSTGRES") == "1":
            pytest.fail(
                f"PostgreSQL at 127.0.0.1:5432 is required (JAICP_REQUIRE_POSTGRES=1): {exc}"
            )
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 is not reachable: {exc.__class__.__name__}")
    name = f"jaicp_test_{secrets.token_hex(6)}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from postgres_database()


@pytest.fixture
def closed_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(host="127.0.0.1", port=0, seed=0, start_ms=EMULATOR_START_MS) as emu:
        yield emu


@pytest.fixture
def campaign(emulator: Emulator) -> dict[str, Any]:
    return emulator.create_campaign(token=random_token(), name="Reminders")
