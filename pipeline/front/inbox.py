"""``upload --inbox DIR`` through the front door: the folder's new exports, one run each.

Usage::

    import pipeline
    summary = pipeline.upload_inbox("nightly.yaml", "/srv/exports")   # token from JAICP_TOKEN
    summary.exit_code                       # the worst of the files' codes (docs/inbox.md)
    [(e.name, e.status, e.moved_to) for e in summary.entries]

The ledger is opened once; each file is one ``upload`` run of its own (lease, earlier work
first, ``upload.max_reject_ratio``, plan, send), wired as :func:`pipeline.upload` wires it.
``control`` (an :class:`~pipeline.load.inbox.InboxControl`) stops the file being uploaded, in
order, and the files after it. With ``notify`` and ``notify.webhook_url`` set, each file's run
is POSTed there as :func:`pipeline.upload` posts it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from os import PathLike
from pathlib import Path

from pipeline.api import CallsApiClient
from pipeline.errors import ConfigError
from pipeline.front.source import ConfigLike, as_config, resolve_token
from pipeline.front.uploading import notified
from pipeline.front.wiring import Clock, Sleep, api_client, jitter, open_ledger_for, sleeper
from pipeline.ledger import utc_now
from pipeline.load import TestHooks, run_upload
from pipeline.load.inbox import InboxControl, InboxSummary, run_inbox
from pipeline.load.stop import RunControl
from pipeline.load.upload.progress import Progress
from pipeline.load.upload.summary import UploadSummary


def upload_inbox(
    config: ConfigLike,
    folder: str | PathLike[str],
    *,
    ledger: str | None = None,
    token: str | None = None,
    new_ledger: bool = False,
    client: Callable[[], CallsApiClient] | None = None,
    clock: Clock | None = None,
    sleep: Sleep | None = None,
    rng: random.Random | None = None,
    control: InboxControl | None = None,
    progress: Callable[[str], None] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    hooks: TestHooks | None = None,
    notify: bool = True,
) -> InboxSummary:
    """Upload every settled new file of ``folder`` and file it into ``done/`` or ``failed/``.

    Raises :class:`~pipeline.errors.ConfigError` (exit 4) when ``folder`` is no folder or the
    token is missing; every file's outcome, errors included, is an entry of the summary.
    """
    cfg = as_config(config)
    inbox = Path(folder)
    if not inbox.is_dir():
        raise ConfigError(
            f"inbox {inbox}: not a folder (relative paths start from {Path.cwd()}). Create "
            f"it, or check the mount it lives on; exports are dropped into it and moved to "
            f"{inbox}/done/ or {inbox}/failed/ once uploaded."
        )
    secret = resolve_token(token)
    hooks = hooks if hooks is not None else TestHooks.from_env()
    clock = clock or hooks.clock(utc_now)
    control = control if control is not None else InboxControl()
    jittered = jitter(rng)
    make_client = client or (lambda: api_client(cfg, secret))
    with open_ledger_for(cfg, ledger, clock=clock) as opened:
        campaign = opened.campaigns.ensure(secret)

        def upload_one(path: Path, file_control: RunControl) -> UploadSummary:
            return notified(
                cfg,
                notify,
                lambda: run_upload(
                    cfg,
                    [path],
                    token=secret,
                    ledger=opened,
                    client=make_client,
                    clock=clock,
                    sleep=sleeper(sleep, file_control),
                    rng=jittered,
                    progress=progress,
                    on_progress=on_progress,
                    hooks=hooks,
                    control=file_control,
                    new_ledger=new_ledger,
                ),
            )

        return run_inbox(
            inbox,
            settle_s=cfg.inbox.settle_s,
            ignore=cfg.inbox.ignore,
            empty_fail=cfg.upload.empty_file == "fail",
            upload_one=upload_one,
            standing=lambda sha: opened.inputs.standing(campaign.id, sha),
            control=control,
            say=progress,
        )
