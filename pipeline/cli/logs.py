"""Log format of every command: ``text`` for people, ``json`` for log collectors.

Kept apart from :mod:`pipeline.cli.output` (rich, the uploader) because the root command
configures logging before every command, including quick ones like ``--help``.

* ``text``: ``2025-01-31 02:00:01,123 INFO pipeline.load.run: …``
* ``json``: one object per line, ``{"ts": "...Z", "level": "INFO", "logger": "...",
  "message": "..."}`` (plus ``exc`` with the traceback when there is one).

Redaction (:mod:`pipeline.redact`) renders and masks each record before either formatter sees
it, so both carry the same, already redacted, message.

Usage::

    setup_logging("INFO", fmt="json", quiet=False)
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts (UTC, ISO-8601), level, logger, message (+ exc)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


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
