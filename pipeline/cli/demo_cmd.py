"""``jaicp-pipeline demo``: the whole loop on the bundled sample data, no account, no network.

It starts the built-in Calls API emulator on 127.0.0.1 (a random free port), validates a sample
CRM export (rejects file), uploads it through the real pipeline into a fresh SQLite ledger,
runs the upload again to show that nothing is sent twice, lets the emulated dialer work for a
few simulated hours, writes the call results and the first upload's HTML report. It ends by
listing every file it wrote.

Usage::

    jaicp-pipeline demo                       # writes into ./demo-output/
    jaicp-pipeline demo --out /tmp/demo --file sample_data/bitrix24_export.csv \\
        --config configs/bitrix24.yaml
"""

from __future__ import annotations

import random
import secrets
import string
import time
from collections import Counter
from pathlib import Path

import click

from pipeline import front
from pipeline.errors import ConfigError
from pipeline.front import CallsApiClient, Config, Emulator, TestHooks, format_summary, utc_now

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_FILE = ROOT / "sample_data" / "bitrix24_export.csv"
DEFAULT_CONFIG = ROOT / "configs" / "bitrix24.yaml"


def _demo_token() -> str:
    # The shape of a real token (account.campaign.secret); random so no run reuses another's.
    front.protect_process()  # a token all the same: no core dump may hold it
    alphabet = string.ascii_letters + string.digits
    return "104.7056." + "".join(secrets.choice(alphabet) for _ in range(43))


def _say(title: str) -> None:
    click.echo("")
    click.secho(f"== {title}", bold=True)


def _upload(
    cfg: Config, file: Path, url: str, *, base_url: str, token: str
) -> tuple[int, list[str]]:
    summary = front.upload(
        cfg,
        [file],
        ledger=url,
        token=token,
        client=lambda: CallsApiClient(base_url, token),
        clock=utc_now,
        sleep=time.sleep,
        rng=random.Random(0),  # noqa: S311 - backoff jitter, not a secret
        hooks=TestHooks(),  # inert: the demo is never a crash test
        notify=False,
    )
    if summary.exit_code:
        raise ConfigError(
            f"the demo upload ended with exit code {summary.exit_code}: "
            + "; ".join(summary.lines())
        )
    return summary.run_id, summary.lines()


@click.command("demo")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-output"),
    show_default=True,
    help="Folder for the demo's ledger, rejects and results files (recreated each run).",
)
@click.option(
    "--file",
    "file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=DEFAULT_FILE,
    help="CRM export to load (default: the bundled Bitrix24-style sample).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=DEFAULT_CONFIG,
    help="Config mapping the file's columns (default: configs/bitrix24.yaml).",
)
def demo(out: Path, file: Path, config_path: Path) -> None:
    """Run validate → upload → re-upload → dialing → results against the built-in emulator."""
    cfg = front.load_config(config_path)
    front.make_private_dirs(out)  # 0700: the outputs hold phone numbers
    ledger_path = out / "ledger.sqlite3"
    for stale in out.glob("ledger.sqlite3*"):  # a fresh emulator needs a fresh ledger
        stale.unlink()
    url = f"sqlite:///{ledger_path}"
    token = _demo_token()
    with Emulator(seed=7) as emu:
        camp = emu.create_campaign(token, name="Demo: payment reminders")
        _say("Calls API emulator")
        click.echo(f"listening on {emu.base_url}; campaign {camp['name']!r} (id {camp['id']})")
        click.echo("the token is random and never printed; no request leaves this machine")

        _say(f"validate {file.name} with {config_path.name} (no network)")
        # The rejects in the input's own kind; inputs we read but do not write (.xls, .ods,
        # .csv.gz) get a workbook: an output suffix that names no format is refused.
        kept = file.suffix.lower() in (".csv", ".tsv", ".txt", ".xlsx")
        rejects = out / f"rejects{file.suffix if kept else '.xlsx'}"
        accepted = out / "accepted.csv"
        summary = front.validate(cfg, file, accepted=accepted, rejects=rejects)
        for line in format_summary(summary):
            click.echo(line)

        _say("upload (exactly once, every intent and outcome in the ledger)")
        run_id, lines = _upload(cfg, file, url, base_url=emu.base_url, token=token)
        for line in lines:
            click.echo(line)

        _say("upload the same file again (a cron re-run): nothing is sent twice")
        _, lines = _upload(cfg, file, url, base_url=emu.base_url, token=token)
        for line in lines:
            click.echo(line)
        jobs = emu.jobs(camp["id"])
        phones = Counter(job["phone"] for job in jobs)
        click.echo(
            f"emulator: {len(jobs)} call jobs for {len(phones)} phones "
            f"(most jobs for one phone: {max(phones.values(), default=0)})"
        )

        _say("the emulated dialer works for 8 simulated hours")
        for _ in range(48):
            emu.advance(600)
        client = CallsApiClient(emu.base_url, token)
        info = client.campaign_info()
        report = info.short_report
        click.echo(
            f"campaign status {info.status_raw}: {report.processed_numbers} of "
            f"{report.total_numbers} numbers processed"
        )

        _say("call results for the CRM")
        results = out / "results.xlsx"
        # The same code path as `jaicp-pipeline results --run RUN --attempts --source FILE`:
        # every source row with its original cells, sent rows with their call outcome.
        fetched = front.results(
            cfg,
            results,
            ledger=url,
            token=token,
            client=client,
            run=run_id,
            attempts=True,
            source=file,
        )
        for status, count in fetched.statuses.most_common():
            click.echo(f"  {status:<22} {count}")

    _say("the HTML report of the first upload (opens offline in any browser)")
    # After `results`, so the page charts the call outcomes too.
    page = front.write_report(cfg, out=out / "report.html", ledger=url, run=run_id)
    click.echo(f"run {page.run_id}: {page.path} ({page.size:,} bytes)")

    _say("files written")
    for path, what in (
        (accepted, "accepted rows as they were sent"),
        (rejects, "rejected and duplicate rows with reasons, in the input's format"),
        (ledger_path, "the ledger: `jaicp-pipeline ledger runs --ledger " + url + "`"),
        (results, "every source row: its cells, state, job id, status, attempts, call result"),
        (page.path, "the run as one HTML page: counts, charts, batches, files, time zones"),
    ):
        click.echo(f"  {path}  ({what})")
