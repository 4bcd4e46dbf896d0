"""``jaicp-pipeline suppress``: the ledger's do-not-call list.

Usage::

    jaicp-pipeline suppress add --config reminders.yaml "8 916 123-45-67" --reason "asked"
    jaicp-pipeline suppress remove --config reminders.yaml 79161234567 --reason "consent"
    jaicp-pipeline suppress list --config reminders.yaml [--history] [--phone N] > dnc.csv
    jaicp-pipeline suppress import --config reminders.yaml crm_dnc.xlsx --reason "CRM list"

``list`` writes CSV to stdout (phone, added_at, added_by, source, job_id, reason, removed_at,
removed_by, removed_reason), cells that look like formulas quoted. Exit codes: 0 done;
4 a value that is no phone, a malformed list file or a config problem (nothing changed);
7 the ledger cannot be used.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pipeline import front

_CONFIG = click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML config (ledger.url, phone policy).",
)
_LEDGER = click.option(
    "--ledger", "ledger_url", metavar="URL", help="Ledger URL (default: ledger.url)."
)
_REASON = click.option("--reason", default="", help="Why (kept with the entry, shown to auditors).")
_BY = click.option("--by", default=None, help="Who (default: user@host).")


@click.group("suppress")
def suppress() -> None:
    """The do-not-call list: phones no upload calls, across every campaign of the ledger."""


@suppress.command("add")
@_CONFIG
@_LEDGER
@_REASON
@_BY
@click.argument("phones", nargs=-1, required=True)
def add(
    config_path: Path, ledger_url: str | None, reason: str, by: str | None, phones: tuple[str, ...]
) -> None:
    """Put PHONES on the list (normalised as upload normalises rows)."""
    with front.open_suppressions(config_path, ledger=ledger_url) as dnc:
        added = dnc.add(list(phones), reason=reason, by=by)
    click.echo(f"suppress: {added} phone(s) added, {len(phones) - added} already on the list")


@suppress.command("remove")
@_CONFIG
@_LEDGER
@_REASON
@_BY
@click.argument("phones", nargs=-1, required=True)
def remove(
    config_path: Path, ledger_url: str | None, reason: str, by: str | None, phones: tuple[str, ...]
) -> None:
    """Take PHONES off the list (their entries stay as history)."""
    with front.open_suppressions(config_path, ledger=ledger_url) as dnc:
        removed = dnc.remove(list(phones), reason=reason, by=by)
    left = len(phones) - removed
    click.echo(f"suppress: {removed} phone(s) taken off the list, {left} were not on it")


@suppress.command("import")
@_CONFIG
@_LEDGER
@_REASON
@_BY
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def import_(
    config_path: Path, ledger_url: str | None, reason: str, by: str | None, file: Path
) -> None:
    """Put every phone of FILE (CSV/XLSX; column suppress.column or the only one) on the list."""
    with front.open_suppressions(config_path, ledger=ledger_url) as dnc:
        added = dnc.import_file(file, reason=reason, by=by)
    click.echo(f"suppress: {added} phone(s) of {file.name} added to the list")


@suppress.command("list")
@_CONFIG
@_LEDGER
@click.option("--history", is_flag=True, help="Removed entries too.")
@click.option("--phone", default=None, help="Only this phone's entries.")
def list_(config_path: Path, ledger_url: str | None, history: bool, phone: str | None) -> None:
    """Write the list as CSV to stdout."""
    with front.open_suppressions(config_path, ledger=ledger_url) as dnc:
        dnc.export(sys.stdout, history=history, phone=phone)
