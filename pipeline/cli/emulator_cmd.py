"""``jaicp-pipeline emulator``: run the Calls API emulator in the foreground.

Prints exactly one line, ``listening on http://HOST:PORT``, once the socket is bound (so a
script can start it with ``--port 0`` and read the port), then serves until SIGINT/SIGTERM.
The campaign's token comes from ``JAICP_TOKEN``, the variable the client commands read, so one
exported value serves both sides; it is never printed. There is no ``--token`` option any
more: a command-line argument is visible to every user of the machine in ``ps``, and the
option now only refuses to run, saying so.

Usage::

    export JAICP_TOKEN=104.7056.<secret>
    jaicp-pipeline emulator --port 0 --seed 7 --faults '[{"kind": "rate_limit", "times": 1}]'
    jaicp-pipeline emulator --faults @faults.json
"""

from __future__ import annotations

import gc
import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import click

from pipeline import front
from pipeline.errors import ConfigError
from pipeline.front import TOKEN_ENV

# A generation-2 threshold no count reaches: see emulator().
FULL_COLLECTIONS_NEVER = 2**30


def _load_faults(value: str | None) -> list[Any]:
    if not value:
        return []
    try:
        text = Path(value[1:]).read_text(encoding="utf-8") if value.startswith("@") else value
        rules = json.loads(text)
    except (OSError, ValueError) as exc:
        raise click.BadParameter(
            f"cannot read the fault rules: {exc}", param_hint="--faults"
        ) from None
    if isinstance(rules, dict):
        rules = rules.get("faults", [])  # the admin API's {"seed", "faults"} shape works too
    if not isinstance(rules, list):
        raise click.BadParameter("expected a JSON list of fault rules", param_hint="--faults")
    return rules


def _refuse_token_option(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    # The value is in argv already; all we can do is refuse to run (and not repeat it).
    if value is not None:
        raise click.UsageError(
            f"--token is no longer accepted: a command-line argument is visible to every user "
            f"of this machine in the process list (ps). Put the token in the environment "
            f"instead: `export {TOKEN_ENV}=...`, then `jaicp-pipeline emulator`.",
            ctx=ctx,
        )


def _emulator_token() -> str:
    try:
        return front.campaign_token()  # the one reader of the token: it turns core dumps off first
    except ConfigError:
        raise ConfigError(
            f"{TOKEN_ENV} is not set: the emulator serves one campaign under the token in "
            f"{TOKEN_ENV} (shape account.campaign.secret), the same variable the other commands "
            f"read, e.g. `export {TOKEN_ENV}=104.7056.$(openssl rand -hex 22)`."
        ) from None


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=0, show_default=True, help="Port; 0 picks a free one.")
@click.option(
    "--token",
    hidden=True,
    expose_value=False,
    is_eager=True,
    callback=_refuse_token_option,
    help="Refused: the token comes from JAICP_TOKEN (argv is visible in the process list).",
)
@click.option("--name", default="Emulated campaign", show_default=True, help="Campaign name.")
@click.option("--seed", default=0, show_default=True, help="Seed of the dialer and the faults.")
@click.option("--faults", default=None, help="Fault rules as JSON, or @FILE holding the JSON.")
def emulator(*, host: str, port: int, name: str, seed: int, faults: str | None) -> None:
    """Serve a local emulator of the JAICP Calls API with one campaign.

    The campaign's token is read from the JAICP_TOKEN environment variable.
    """
    from pipeline.front import Emulator

    token = _emulator_token()
    rules = _load_faults(faults)
    emu = Emulator(host=host, port=port, seed=seed)
    try:
        emu.create_campaign(token, name=name)
        emu.set_faults(rules, seed=seed)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    # Every job made lives as long as the process (reports and tests read them back): full
    # collections walked all of them, ever longer, and stalled every request in flight (a
    # 1M-row upload's replies took 148 ms on average instead of 130, at 100 ms of delay).
    # The young generations are still collected.
    threshold = gc.get_threshold()
    gc.set_threshold(threshold[0], threshold[1], FULL_COLLECTIONS_NEVER)
    try:
        with emu:
            click.echo(f"listening on {emu.base_url}")
            sys.stdout.flush()  # a parent process waits for this line through a pipe
            stop.wait()
    finally:
        gc.set_threshold(*threshold)
