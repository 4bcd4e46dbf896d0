"""Keep the campaign token out of every log record and message.

The token is the only credential of the Calls API and it sits in the URL path
(``/api/calls/campaign/{token}/...``). urllib3 logs request lines at DEBUG on its own logger,
and libraries put URLs into exception text, so redaction happens at two places:

* a **log-record factory** (:func:`logging.setLogRecordFactory`) that renders and redacts every
  record when it is created, whichever logger made it. A filter on the root *logger* would not
  see records that propagate up from ``urllib3``, and a filter on handlers misses handlers added
  later (pytest's caplog, a handler a user adds), so the factory is the line that holds;
* a filter on the root logger's current handlers, for records built without the factory
  (``logging.makeLogRecord`` from a socket handler, for instance).

:func:`redact` is for strings we build ourselves (exception messages, URLs in errors).

Usage::

    install_redaction()                 # idempotent; the CLI and the API client call it
    register_secret(token)              # also mask this exact string wherever it appears
    redact("GET /api/calls/campaign/1.2.abc/status")  ->  "GET /api/calls/campaign/***/status"
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from typing import Any

MASK = "***"

# The segment after `campaign/` (raw or percent-encoded slash) up to the next separator.
_CAMPAIGN_SEGMENT = re.compile(r"(campaign(?:/|%2F))[^/?#&\s\"'<>\\]+", re.IGNORECASE)
# A bare token anywhere (account.campaign.secret), e.g. pasted into a message by mistake.
_TOKEN_SHAPE = re.compile(r"\b\d+\.\d+\.[A-Za-z0-9]{16,}\b")

_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret(secret: str) -> None:
    """Mask this exact string in everything :func:`redact` sees.

    For a token of the documented shape ``account.campaign.secret`` the secret part is
    registered too: it is the part that grants access, wherever it shows up on its own.
    """
    if not secret:
        return
    with _lock:
        _secrets.add(secret)
        tail = secret.rsplit(".", 1)[-1]
        if tail != secret and len(tail) >= 8:
            _secrets.add(tail)


def redact(text: str) -> str:
    """Return ``text`` with campaign path segments, token-shaped strings and secrets masked."""
    text = _CAMPAIGN_SEGMENT.sub(lambda m: m.group(1) + MASK, text)
    text = _TOKEN_SHAPE.sub(MASK, text)
    # Longest first, so the whole token is masked before its secret tail is looked for.
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def redact_record(record: logging.LogRecord) -> None:
    """Render the record's message (and traceback) once, redacted, in place.

    After this the record holds no argument or exception object that a formatter could render
    again in clear text: ``msg`` is the final text, ``args`` is empty, the traceback sits
    redacted in ``exc_text`` (which :class:`logging.Formatter` prints when it is set).
    """
    if getattr(record, "_jaicp_redacted", False):
        return
    try:
        message = record.getMessage()
    except Exception:  # a broken format string must not kill logging
        message = f"{record.msg!s} {record.args!r}"
    record.msg = redact(message)
    record.args = ()
    if record.exc_info and record.exc_info[1] is not None:
        rendered = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        record.exc_text = redact(rendered)
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    setattr(record, "_jaicp_redacted", True)  # noqa: B010 - LogRecord declares no such field


class RedactingFilter(logging.Filter):
    """A handler/logger filter that redacts records which escaped the record factory."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


_FILTER = RedactingFilter()


class _RedactingFactory:
    """Wraps the previous record factory and redacts every record it creates."""

    def __init__(self, previous: Any) -> None:
        self.previous = previous

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = self.previous(*args, **kwargs)
        redact_record(record)
        return record


def install_redaction(logger: logging.Logger | None = None) -> None:
    """Install the redacting record factory and handler filters (idempotent)."""
    with _lock:
        current = logging.getLogRecordFactory()
        if not isinstance(current, _RedactingFactory):
            logging.setLogRecordFactory(_RedactingFactory(current))
    target = logger or logging.getLogger()
    if _FILTER not in target.filters:
        target.addFilter(_FILTER)
    for handler in target.handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
