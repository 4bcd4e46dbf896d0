"""The ``--ledger URL`` / ``--config CONFIG`` pair of every command that reads a ledger.

Usage::

    @click.command()
    @ledger_source()
    def report(ledger_url: str | None, config_path: Path | None) -> None:
        require_source(ledger_url, config_path)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

F = TypeVar("F", bound=Callable[..., object])


def ledger_source(which: str = "the ledger") -> Callable[[F], F]:
    """Add ``--ledger`` (→ ``ledger_url``) and ``--config`` (→ ``config_path``);
    ``which`` names the ledger in the help ("the ledger to copy")."""
    used = "is used" if which == "the ledger" else f"is {which}"

    def decorate(func: F) -> F:
        func = click.option(
            "--config",
            "config_path",
            type=click.Path(dir_okay=False, path_type=Path),
            help=f"Config file; its ledger.url {used} unless --ledger is given.",
        )(func)
        return click.option(
            "--ledger", "ledger_url", metavar="URL", help=f"SQLAlchemy URL of {which}."
        )(func)

    return decorate


def require_source(
    ledger_url: str | None, config_path: Path | None, which: str = "the ledger"
) -> None:
    """Neither given is a usage error (exit 2): there is no default ledger to guess."""
    if not ledger_url and config_path is None:
        raise click.UsageError(f"give {which} with --ledger URL or --config CONFIG.")
