"""Fixtures of the cancel tests: an :class:`~tests.results.support.Operator` per test.

``op`` keeps its ledger in a SQLite file; ``op_each`` runs the test once on SQLite and once
on a fresh PostgreSQL database.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.emulator import Emulator
from tests.results.support import BACKENDS, Operator, operators


@pytest.fixture
def op(emulator: Emulator, campaign: dict[str, Any], tmp_path: Path) -> Operator:
    return Operator(emulator, campaign["token"], tmp_path)


@pytest.fixture(params=BACKENDS)
def op_each(
    request: pytest.FixtureRequest, emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> Iterator[Operator]:
    yield from operators(request.param, emulator, campaign["token"], tmp_path)
