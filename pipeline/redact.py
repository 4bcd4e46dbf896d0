"""Keep the campaign token out of every log record and message.

The token is the only credential of the Calls API and it sits in the URL path
(``/api/calls/campaign/{token}/...``). urllib3 logs URLs at DEBUG level and libraries put them
in exception text, so redaction happens in one logging filter installed on the root logger's
handlers, plus :func:`redact` for strings we build ourselves.

Usage::

    install_redaction()                 # idempotent; the CLI calls it at start-up
    register_secret(token)              # also mask this exact string wherever it appears
    redact("GET /api/calls/campaign/1.2.abc/status")  ->  "GET /api/calls/campaign/***/status"
"""

from __future__ import annotations

import logging
import re
import threading

MASK = "***"

# The segment after `campaign/` (raw or percent-encoded slash) up to the next separator.
_CAMPAIGN_SEGMENT = re.compile(r"(campaign(?:/|%2F))[^/?#\s\"'<>]+", re.IGNORECASE)

_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret(secret: str) -> None:
    """Mask this exact string (e.g. the token) in everything :func:`redact` sees."""
    if secret:
        with _lock:
            _secrets.add(secret)


def redact(text: str) -> str:
    """Return ``text`` with campaign path segments and registered secrets masked."""
    text = _CAMPAIGN_SEGMENT.sub(lambda m: m.group(1) + MASK, text)
    for secret in tuple(_secrets):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class RedactingFilter(logging.Filter):
    """Render each record's message once, redacted, so formatters never see the token."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not kill logging
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            import traceback

            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)))
            record.exc_info = None
        return True


_FILTER = RedactingFilter()


def install_redaction(logger: logging.Logger | None = None) -> None:
    """Attach the redacting filter to the logger and each of its handlers (idempotent)."""
    target = logger or logging.getLogger()
    if _FILTER not in target.filters:
        target.addFilter(_FILTER)
    for handler in target.handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
