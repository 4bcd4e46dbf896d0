"""The test hooks of the crash suite: parsing, the clock offset, and a real SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pipeline.api import CallsApiClient
from pipeline.emulator import Emulator
from pipeline.errors import ApiTimeoutError, ConfigError
from pipeline.load import TestHooks
from tests.conftest import phone
from tests.load.conftest import Uploader, jobs_per_phone


def test_unset_variables_change_nothing() -> None:
    hooks = TestHooks.from_env({})
    assert not hooks.armed
    base = lambda: datetime(2026, 1, 1, tzinfo=UTC)  # noqa: E731
    assert hooks.clock(base) is base
    hooks.start_attempt()
    hooks.reach("after_intent")  # does nothing


def test_the_clock_offset_moves_the_uploaders_clock() -> None:
    hooks = TestHooks.from_env({"JAICP_PIPELINE_CLOCK_OFFSET_S": "90000"})
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert hooks.clock(lambda: start)() == start + timedelta(seconds=90000)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("JAICP_PIPELINE_CRASH_AT", "after_lunch@1"),
        ("JAICP_PIPELINE_CRASH_AT", "after_send@0"),
        ("JAICP_PIPELINE_CRASH_AT", "after_send"),
        ("JAICP_PIPELINE_CLOCK_OFFSET_S", "tomorrow"),
    ],
)
def test_malformed_values_are_refused(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        TestHooks.from_env({name: value})


@pytest.mark.parametrize("point", ["after_intent", "after_send", "after_outcome"])
def test_the_process_kills_itself_at_the_point_and_a_rerun_finishes(
    point: str, uploader: Uploader, emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        f"ledger: {{url: '{uploader.ledger_url}'}}\ncolumns: {{phone: phone}}\n"
        f"upload: {{batch_size: 10}}\n",
        encoding="utf-8",
    )
    csv = uploader.csv(30)
    env = {
        **os.environ,
        "JAICP_TOKEN": campaign["token"],
        "JAICP_BASE_URL": emulator.base_url,
        "JAICP_PIPELINE_CRASH_AT": f"{point}@2",
    }
    cmd = [sys.executable, "-m", "pipeline", "upload", "--config", str(config), str(csv)]
    crashed = subprocess.run(cmd, env=env, capture_output=True, timeout=60, check=False)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    created = {"after_intent": 10, "after_send": 20, "after_outcome": 20}[point]
    assert len(emulator.jobs(campaign["id"])) == created

    del env["JAICP_PIPELINE_CRASH_AT"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(30)}


def test_the_after_send_hook_keeps_the_request_deadline(
    emulator: Emulator, campaign: dict[str, Any]
) -> None:
    # Arming after_send mounts the hook's adapter over the transport's: the deadline of the
    # whole request must survive that (the crash suite runs with the hook armed).
    hooks = TestHooks.from_env({"JAICP_PIPELINE_CRASH_AT": "after_send@999"})
    client = CallsApiClient(emulator.base_url, campaign["token"], timeout=1)
    hooks.install(client.session)
    emulator.set_faults([{"kind": "drip", "dripSeconds": 0.8, "times": 1}])
    started = time.monotonic()
    with pytest.raises(ApiTimeoutError):
        client.campaign_status()  # the dripped reply would take ~2 minutes
    assert time.monotonic() - started < 10
