"""Token redaction: strings, log records from any logger, handlers added late, tracebacks."""

from __future__ import annotations

import io
import logging

import pytest

from pipeline.redact import MASK, install_redaction, redact, register_secret

TOKEN = "123.456.bAYxokdzmkWBZP2Tjcf4W0nzCpkC9L85mZQyd1OqJuv"


@pytest.mark.parametrize(
    "text",
    [
        f"GET /api/calls/campaign/{TOKEN}/status HTTP/1.1",
        f"http://h/api/crmCalls/campaign/{TOKEN}/addPhone?phone=1",
        f"http://h/api/calls/campaign/{TOKEN}",
        f"http://h/api/calls/campaign%2F{TOKEN}%2Fstatus",
        f"token was {TOKEN}.",
        f"'{TOKEN}'",
    ],
)
def test_redact_masks_the_token_in_every_shape(text: str) -> None:
    out = redact(text)
    assert TOKEN not in out
    assert TOKEN.rsplit(".", 1)[1] not in out
    assert MASK in out


def test_redact_keeps_the_rest_of_the_url() -> None:
    assert redact(f"http://h:1/api/calls/campaign/{TOKEN}/callJob/getReport?x=1") == (
        "http://h:1/api/calls/campaign/***/callJob/getReport?x=1"
    )
    assert redact("POST /__emulator__/campaigns") == "POST /__emulator__/campaigns"


def test_registered_secret_and_its_tail_are_masked_anywhere() -> None:
    short = "8231.7056.1b131df1"  # documented example: too short for the token-shape rule
    register_secret(short)
    assert redact(f"x={short} y=1b131df1") == "x=*** y=***"


def test_records_from_a_child_logger_reach_a_late_handler_redacted() -> None:
    install_redaction()
    stream = io.StringIO()
    late = logging.StreamHandler(stream)  # added after install: no filter on it
    late.setFormatter(logging.Formatter("%(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(late)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    try:
        logging.getLogger("urllib3.connectionpool").debug(
            '%s://%s:%s "%s %s %s" %s %s',
            "http",
            "127.0.0.1",
            80,
            "GET",
            f"/api/calls/campaign/{TOKEN}/status",
            "HTTP/1.1",
            200,
            8,
        )
        try:
            raise ValueError(f"boom at /api/calls/campaign/{TOKEN}/addPhones")
        except ValueError:
            logging.getLogger("some.lib").exception("failed for %s", TOKEN)
        logging.getLogger("x").warning("stack", stack_info=True, extra={"t": TOKEN})
    finally:
        root.removeHandler(late)
        root.setLevel(old_level)
    text = stream.getvalue()
    assert "urllib3.connectionpool" in text
    assert "/api/calls/campaign/***/status" in text
    assert "ValueError: boom at /api/calls/campaign/***/addPhones" in text
    assert TOKEN not in text


def test_caplog_sees_redacted_records(caplog: pytest.LogCaptureFixture) -> None:
    install_redaction()
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("urllib3").debug("url %s", f"/api/calls/campaign/{TOKEN}/x")
    assert TOKEN not in caplog.text
    assert all(TOKEN not in r.getMessage() for r in caplog.records)
    assert "campaign/***/x" in caplog.text


def test_install_is_idempotent_and_keeps_the_previous_factory() -> None:
    install_redaction()
    first = logging.getLogRecordFactory()
    install_redaction()
    assert logging.getLogRecordFactory() is first


def test_broken_format_string_is_still_logged_redacted(caplog: pytest.LogCaptureFixture) -> None:
    install_redaction()
    with caplog.at_level(logging.INFO):
        logging.getLogger("y").info("%s %s", TOKEN)  # noqa: PLE1206 - on purpose
    assert caplog.records
    assert TOKEN not in caplog.text
