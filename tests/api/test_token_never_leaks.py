"""The token appears in no log record, exception text, repr or traceback (DESIGN §2.6).

The client runs at DEBUG through successes, every retry-worthy fault, 400s and a 404, while
caplog captures the root logger and a StreamHandler added *after* the client was built (so a
filter installed on handlers at start-up could not have caught it).
"""

from __future__ import annotations

import io
import logging
import traceback
from collections.abc import Callable
from typing import Any

import pytest

from pipeline.api import CallsApiClient, JobReportFilter
from pipeline.errors import ApiError
from tests.conftest import random_token


def test_token_is_nowhere_in_logs_or_errors(
    client_for: Callable[..., CallsApiClient],
    campaign: dict[str, Any],
    emulator: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = campaign["token"]
    secret = token.rsplit(".", 1)[1]
    client = client_for(token, timeout=0.3)
    stranger = client_for(random_token(4242, 1))
    stream = io.StringIO()
    late = logging.StreamHandler(stream)
    late.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(late)
    caplog.set_level(logging.DEBUG)
    texts: list[str] = [repr(client)]

    def expect_error(call: Callable[[], object]) -> None:
        try:
            call()
        except ApiError as exc:
            texts.extend([str(exc), repr(exc), exc.url, "".join(traceback.format_exception(exc))])
            logging.getLogger("test.caller").exception("call failed: %s", exc)
        else:
            pytest.fail("expected an ApiError")

    try:
        ids = client.add_phones([{"phone": "79001260001"}], idempotence_key="leak-1")
        client.add_phone("79001260002", payload={"who": "x"}, idempotence_key="leak-2")
        client.job_report(ids=ids)
        client.job_report_by_date(JobReportFilter())
        client.campaign_info()
        client.campaign_status()
        client.pause()
        faults: list[dict[str, Any]] = [
            {"kind": "error_before_commit", "times": 1},
            {"kind": "error_after_commit", "times": 1},
            {"kind": "rate_limit", "retryAfter": 1, "times": 1},
            {"kind": "drop_before_commit", "times": 1},
            {"kind": "drop_after_commit", "times": 1},
            {"kind": "delay", "delaySeconds": 1.0, "times": 1},
            {"kind": "redirect", "location": f"http://127.0.0.1:9/api/calls/campaign/{token}/x"},
        ]
        for fault in faults:
            emulator.set_faults([{**fault, "endpoint": "addPhones"}])
            expect_error(lambda: client.add_phones([{"phone": "79001260003"}]))
            emulator.clear_faults()
        expect_error(lambda: client.add_phones([{"phone": "bad"}]))
        expect_error(lambda: client.cancel_jobs(ids=["1"]))
        expect_error(client.pause)  # already paused: a control error
        expect_error(stranger.campaign_status)
    finally:
        root.removeHandler(late)

    logged = caplog.text + stream.getvalue() + "".join(r.getMessage() for r in caplog.records)
    everything = logged + "\n".join(texts)
    assert "urllib3" in logged, "urllib3 DEBUG records were not captured; the test proves nothing"
    assert "campaign/***" in everything
    assert token not in everything
    assert secret not in everything
