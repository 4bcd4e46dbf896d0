"""Log format of every command: ``text`` for people, ``json`` for log collectors.

Kept apart from :mod:`pipeline.cli.output` (rich, the uploader) because the root command
configures logging before every command, including quick ones like ``--help``.

* ``text``: ``2025-01-31 02:00:01,123 INFO pipeline.load.upload.run: …``
* ``json``: one object per line, ``{"ts": "...Z", "level": "INFO", "logger": "...",
  "message": "..."}`` (plus ``exc`` with the traceback when there is one).

The final line of a failed command follows the same format (:func:`error_line`):
``error: <message>`` as text; as JSON, ``{"ts", "level": "ERROR", "logger": "pipeline.cli",
"message", "exit_code"}``, so a log collector reading stderr never meets a line it cannot parse.

Redaction (:mod:`pipeline.redact`) renders and masks each record before either formatter sees
it, so both carry the same, already redacted, message.

Usage::

    setup_logging("INFO", fmt="json", quiet=False)
    click.echo(error_line("the ledger is locked", exit_code=1, fmt="json"), err=True)
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from pipeline.front import redact

_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def json_entry(
    level: str, logger: str, message: str, *, created: float | None = None, **extra: Any
) -> str:
    """One JSON log line: ts (UTC, ISO-8601, now unless ``created``), level, logger, message.

    ``json_entry("INFO", "pipeline.progress", "sending: 10 of 20 row(s) settled")``
    """
    when = datetime.now(UTC) if created is None else datetime.fromtimestamp(created, UTC)
    entry: dict[str, Any] = {
        "ts": when.isoformat(timespec="milliseconds"),
        "level": level,
        "logger": logger,
        "message": message,
        **extra,
    }
    return json.dumps(entry, ensure_ascii=False)


def error_line(message: str, *, exit_code: int, fmt: str = "text") -> str:
    """The last line a failed command prints on stderr, in the log format of the run.

    The message is redacted once more: it is the one line every operator reads.
    """
    text = redact(message)
    if fmt == "json":
        return json_entry("ERROR", "pipeline.cli", text, exit_code=exit_code)
    return f"error: {text}"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts (UTC, ISO-8601), level, logger, message (+ exc)."""

    def format(self, record: logging.LogRecord) -> str:
        extra: dict[str, Any] = {}
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            extra["exc"] = record.exc_text
        return json_entry(
            record.levelname, record.name, record.getMessage(), created=record.created, **extra
        )


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at emit time (click's test runner swaps it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass  # always the current sys.stderr


def setup_logging(level: str, *, fmt: str = "text", quiet: bool = False) -> None:
    """Send logs to stderr in ``fmt``; ``quiet`` raises the level to ERROR."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_jaicp", False):
            root.removeHandler(handler)
    handler = _StderrHandler()
    setattr(handler, "_jaicp", True)  # noqa: B010 - marks our handler for re-configuration
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(_TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel("ERROR" if quiet else level.upper())
