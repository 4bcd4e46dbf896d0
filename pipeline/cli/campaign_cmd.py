"""``jaicp-pipeline campaign``: look at a campaign and pause, resume or stop it.

The token comes from ``JAICP_TOKEN`` only (never an argument: arguments show in the process
list); the base URL from the config, overridden by ``JAICP_BASE_URL``.

Usage::

    export JAICP_TOKEN=...
    jaicp-pipeline campaign info   --config configs/reminders.yaml
    jaicp-pipeline campaign status --config configs/reminders.yaml --json
    jaicp-pipeline campaign pause  --config configs/reminders.yaml
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from pipeline import front
from pipeline.front import CampaignInfo, CampaignStatus

_config_option = click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML config file (api.base_url, timeouts, CA bundle).",
)
_json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


def _ms_text(ms: int | None) -> str:
    when = front.ms_to_datetime(ms)
    return "-" if when is None else when.strftime("%Y-%m-%d %H:%M:%S UTC")


def _info_json(info: CampaignInfo) -> dict[str, Any]:
    r = info.short_report
    return {
        "id": info.id,
        "name": info.name,
        "projectName": info.project_name,
        "botId": info.bot_id,
        "status": info.status.value,
        "statusRaw": info.status_raw,
        "creationDate": info.creation_date_ms,
        "startTime": info.start_time_ms,
        "endTime": info.end_time_ms,
        "maxSimultaneousCalls": info.max_simultaneous_calls,
        "shortReport": {
            "totalNumbers": r.total_numbers,
            "processedNumbers": r.processed_numbers,
            "usedTalkingTime": r.used_talking_time,
            "usedAsrSeconds": r.used_asr_seconds,
            "inProcessCalls": r.in_process_calls,
            "retryCalls": r.retry_calls,
        },
    }


def _print_info(info: CampaignInfo) -> None:
    from rich.console import Console
    from rich.table import Table

    r = info.short_report
    table = Table(title=f"Campaign {info.id}: {info.name}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    rows = [
        ("status", f"{info.status.value} ({info.status_raw})"),
        ("project", info.project_name or "-"),
        ("bot", info.bot_id or "-"),
        ("created", _ms_text(info.creation_date_ms)),
        ("started", _ms_text(info.start_time_ms)),
        ("ended", _ms_text(info.end_time_ms)),
        ("max simultaneous calls", str(info.max_simultaneous_calls or "-")),
        ("numbers (processed / total)", f"{r.processed_numbers} / {r.total_numbers}"),
        ("calls in progress", str(r.in_process_calls)),
        ("retried calls", str(r.retry_calls)),
        ("talking time / ASR", f"{r.used_talking_time} / {r.used_asr_seconds}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    Console(soft_wrap=True).print(table)


@click.group()
def campaign() -> None:
    """Show a campaign's state and counters, or pause, resume or stop it."""


@campaign.command()
@_config_option
@_json_option
def info(config_path: Path, as_json: bool) -> None:
    """Show the campaign's settings, status and counters."""
    result = front.campaign_info(config_path)
    if as_json:
        click.echo(json.dumps(_info_json(result), ensure_ascii=False, indent=2))
    else:
        _print_info(result)


@campaign.command()
@_config_option
@_json_option
def status(config_path: Path, as_json: bool) -> None:
    """Print the campaign status (inProgress, paused, finished, ...)."""
    result = front.campaign_status(config_path)
    click.echo(json.dumps({"status": result.value}) if as_json else result.value)


def _control_command(
    action: str, done: str, help_text: str, *, confirm: bool = False
) -> click.Command:
    @click.command(name=action, help=help_text)
    @_config_option
    @_json_option
    def command(config_path: Path, as_json: bool) -> None:
        run: Callable[[Path], CampaignStatus] = getattr(front, f"{action}_campaign")
        now = run(config_path)
        if as_json:
            click.echo(json.dumps({"action": action, "ok": True, "status": now.value}))
        else:
            click.echo(f"{done}; the campaign status is now {now.value}.")

    if confirm:
        # Stopping cannot be undone, and `stop` is one typo away from `status`.
        command = click.confirmation_option(
            "--yes", prompt=f"{action} the campaign for good? It cannot be resumed."
        )(command)
    return command


campaign.add_command(
    _control_command("pause", "Paused", "Pause: start no new attempts; calls in progress finish.")
)
campaign.add_command(_control_command("resume", "Resumed", "Resume a paused campaign."))
campaign.add_command(
    _control_command(
        "stop",
        "Stopped",
        "Stop the campaign for good: unfinished jobs end as notDone and no numbers can be "
        "added afterwards. Asks for confirmation unless --yes is given.",
        confirm=True,
    )
)
