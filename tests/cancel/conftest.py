"""Fixtures of the cancel tests: an :class:`~tests.results.support.Operator` per test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipeline.emulator import Emulator
from tests.results.support import Operator


@pytest.fixture
def op(emulator: Emulator, campaign: dict[str, Any], tmp_path: Path) -> Operator:
    return Operator(emulator, campaign["token"], tmp_path)
