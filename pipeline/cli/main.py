"""Entry point of the ``jaicp-pipeline`` command.

Each command group lives in its own module under :mod:`pipeline.cli` and is registered here.
Library errors (:class:`~pipeline.errors.PipelineError`) become a one-paragraph message on
stderr (``error: ...``, or one JSON object with ``--log-format json``) and the exit code the
error class declares; nothing else prints a traceback unless ``--log-level DEBUG`` is given.

Usage::

    jaicp-pipeline --help
    python -m pipeline campaign info --config configs/example.yaml
"""

from __future__ import annotations

import gc
import importlib

import click

from pipeline import __version__
from pipeline.cli.logs import error_line
from pipeline.errors import PipelineError

# (module, attribute) of every command; a group's module is imported only when it is needed,
# so `jaicp-pipeline --help` stays fast and one broken group cannot hide the others.
COMMANDS: dict[str, tuple[str, str]] = {
    "emulator": ("pipeline.cli.emulator_cmd", "emulator"),
    "campaign": ("pipeline.cli.campaign_cmd", "campaign"),
    "demo": ("pipeline.cli.demo_cmd", "demo"),
    "ledger": ("pipeline.cli.ledger_cmd", "ledger"),
    "validate": ("pipeline.cli.validate_cmd", "validate"),
    "upload": ("pipeline.cli.upload_cmd", "upload"),
    "reconcile": ("pipeline.cli.upload_cmd", "reconcile"),
    "results": ("pipeline.cli.results_cmd", "results"),
    "cancel": ("pipeline.cli.cancel_cmd", "cancel"),
    "suppress": ("pipeline.cli.suppress_cmd", "suppress"),
    "init": ("pipeline.cli.init_cmd", "init"),
    "report": ("pipeline.cli.report_cmd", "report"),
}


def _log_format(ctx: click.Context) -> str:
    # Set by the root callback, which has run by the time a command fails.
    return str(ctx.obj.get("log_format", "text")) if isinstance(ctx.obj, dict) else "text"


class LazyGroup(click.Group):
    """A click group that imports a command's module on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module = importlib.import_module(target[0])
        # What is imported by now lives as long as the process: keep it out of the cyclic
        # collector's scans, which otherwise walk it again on every collection during a long
        # run (1.5-3 s per million rows in the ingest benchmark).
        gc.collect()
        gc.freeze()
        command = getattr(module, target[1])
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> object:
        # Here rather than in main() so that click's CliRunner sees the same exit codes.
        try:
            return super().invoke(ctx)
        except PipelineError as exc:
            fmt = _log_format(ctx)
            click.echo(error_line(str(exc), exit_code=exc.exit_code, fmt=fmt), err=True)
            ctx.exit(exc.exit_code)
        except click.ClickException as exc:
            fmt = _log_format(ctx)
            if fmt != "json":
                raise  # click prints the usage and "Error: ..." itself
            # Under --log-format json a usage error is one JSON line like everything else.
            click.echo(error_line(exc.format_message(), exit_code=exc.exit_code, fmt=fmt), err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="jaicp-pipeline")
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    default="WARNING",
    show_default=True,
    help="Logging verbosity (logs go to stderr).",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one object per line (ts, level, logger, message) for log collectors.",
)
@click.option("--quiet", "-q", is_flag=True, help="Only errors and the final summary.")
@click.option(
    "--progress",
    "progress_mode",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    envvar="JAICP_PROGRESS",
    help="Progress bar on stderr: auto = when stderr is a terminal; otherwise plain lines.",
)
@click.pass_context
def cli(
    ctx: click.Context, log_level: str, log_format: str, quiet: bool, progress_mode: str
) -> None:
    """Load CRM phone exports into JAICP call campaigns exactly once."""
    from pipeline.cli.logs import setup_logging
    from pipeline.front import install_redaction

    setup_logging(log_level, fmt=log_format, quiet=quiet)
    install_redaction()
    ctx.ensure_object(dict)
    ctx.obj["log_level"] = log_level.upper()
    ctx.obj["quiet"] = quiet
    ctx.obj["log_format"] = log_format
    ctx.obj["progress"] = progress_mode


def main(argv: list[str] | None = None) -> None:
    """Run the CLI (``standalone_mode``: click prints usage errors and exits with code 2)."""
    cli.main(args=argv, prog_name="jaicp-pipeline")
