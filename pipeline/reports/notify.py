"""Run-summary webhook: POST one JSON object when an upload run ends.

The body carries counts and identifiers only — never the token, never phones or payloads (the
caller builds it from the run summary; :func:`post_summary` also refuses anything that looks
like a token). A webhook that fails, times out or does not listen is logged as a warning and
never changes the run's exit code: notifications are a convenience, the ledger is the record.

Usage::

    cfg = load_config("reminders.yaml")          # notify: {webhook_url: ..., timeout_s: 10}
    delivered = post_summary(cfg.notify, {"run_id": 12, "exit_code": 0, "counts": {...}})
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Mapping
from urllib.parse import urlsplit

from pipeline.config import NotifyConfig
from pipeline.redact import redact
from pipeline.version import __version__

log = logging.getLogger(__name__)


def _where(url: str) -> str:
    """Scheme and host only: webhook paths often embed their own secret (Slack, Teams)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"


def post_summary(cfg: NotifyConfig, summary: Mapping[str, object]) -> bool:
    """POST ``summary`` as JSON to ``cfg.webhook_url``; True when the hook answered 2xx.

    Does nothing (returns False) when no webhook is configured. Never raises for network or
    HTTP failures: they become one WARNING log line naming the host and what to check.
    """
    if not cfg.webhook_url:
        return False
    body = json.dumps(summary, ensure_ascii=False, sort_keys=True, default=str)
    if redact(body) != body:
        # Defence in depth: a caller put something token-shaped in; send nothing rather than it.
        log.warning("run summary not sent to the webhook: it contained a credential-like value")
        return False
    where = _where(cfg.webhook_url)
    request = urllib.request.Request(  # noqa: S310 - the URL is checked to be http(s) by config
        cfg.webhook_url,
        data=body.encode("utf-8"),
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": f"jaicp-pipeline/{__version__}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=cfg.timeout_s) as reply:  # noqa: S310
            reply.read()
            status = int(reply.status)
    except urllib.error.HTTPError as exc:
        log.warning(
            "webhook %s answered HTTP %s to the run summary; the run's result is unchanged. "
            "Check the receiver's logs (notify.webhook_url).",
            where,
            exc.code,
        )
        return False
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        log.warning(
            "webhook %s not reached with the run summary (%s); the run's result is unchanged. "
            "Check notify.webhook_url and that the receiver is up (timeout %.0f s).",
            where,
            reason,
            cfg.timeout_s,
        )
        return False
    log.info("run summary posted to webhook %s (HTTP %s)", where, status)
    return True
