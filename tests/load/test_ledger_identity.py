"""A lost or second ledger is no licence to resend (DESIGN invariant 8, issue 10 §2).

Two defences, each tested on its own and together:

* request keys are derived from the campaign fingerprint, the generation and the body digest,
  so the same file frozen again by a new ledger gets the same keys and the server replays;
* a ledger that has never sent to a campaign which already holds numbers sends nothing
  (exit 4) unless the operator says ``--new-ledger``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from click.testing import CliRunner

from pipeline.cli.main import cli
from pipeline.emulator import Emulator
from pipeline.errors import ExitCode, UnknownNumbersError
from pipeline.ledger import open_ledger
from pipeline.ledger.store.keys import body_digest, request_key, token_fingerprint
from tests.conftest import phone, random_token
from tests.load.conftest import Uploader, jobs_per_phone


def _keys(url: str) -> list[str]:
    with open_ledger(url) as ledger, ledger.store.engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT request_key FROM batches ORDER BY id")).scalars())


def _sent_keys(uploader: Uploader) -> list[str]:
    return [e["idempotenceKey"] for e in uploader.add_phones_log()]


def test_a_deleted_ledger_sends_nothing_and_says_why(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    export = uploader.csv(1000)
    assert uploader.run(export, batch_size=100).exit_code == ExitCode.OK
    assert len(emulator.jobs(campaign["id"])) == 1000
    sent_before = len(uploader.add_phones_log())

    Path(uploader.ledger_url.removeprefix("sqlite:///")).unlink()
    summary = uploader.run(export, batch_size=100)

    assert summary.exit_code == ExitCode.CONFIG, summary.lines()
    assert isinstance(summary.error, UnknownNumbersError)
    message = str(summary.error)
    assert (
        "1000 number(s)" in message and "--new-ledger" in message and "Nothing was sent" in message
    )
    assert len(uploader.add_phones_log()) == sent_before  # not one request more
    assert len(emulator.jobs(campaign["id"])) == 1000
    # The rows are in the new ledger, pending: nothing read was lost.
    assert (summary.read, summary.pending, summary.sent) == (1000, 1000, 0) and summary.adds_up()


def test_with_new_ledger_the_same_file_is_replayed_by_the_server_not_sent_twice(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    export = uploader.csv(1000)
    assert uploader.run(export, batch_size=100).exit_code == ExitCode.OK
    first_keys = _keys(uploader.ledger_url)
    jobs = {j["id"] for j in emulator.jobs(campaign["id"])}

    uploader.ledger_url = f"sqlite:///{tmp_path / 'second.sqlite3'}"  # a second ledger
    summary = uploader.run(export, batch_size=100, new_ledger=True)

    assert summary.exit_code == ExitCode.OK, summary.lines()
    assert summary.sent == 1000
    assert any("--new-ledger" in note and "1000 number(s)" in note for note in summary.notes)
    # Same batches, same keys: every request of the second run was a replay.
    assert _keys(uploader.ledger_url) == first_keys
    log = uploader.add_phones_log()
    assert [e["replayed"] for e in log[len(first_keys) :]] == [True] * len(first_keys)
    assert {j["id"] for j in emulator.jobs(campaign["id"])} == jobs
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(1000)}
    with open_ledger(uploader.ledger_url) as ledger, ledger.store.engine.connect() as conn:
        got = set(conn.execute(sa.text("SELECT job_id FROM rows")).scalars())
    assert got == {str(j) for j in jobs}  # the ledger holds the server's real job ids


def test_an_empty_campaign_passes_the_check_once_and_the_ledger_records_it(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    assert uploader.run(uploader.csv(5)).exit_code == ExitCode.OK
    assert uploader.run(uploader.csv(5, start=5)).exit_code == ExitCode.OK
    infos = [e for e in emulator.requests_log() if e["method"] == "GET"]
    assert len(infos) == 1  # asked before the first batch of the first run only
    with open_ledger(uploader.ledger_url) as ledger, ledger.store.engine.connect() as conn:
        checked = conn.execute(
            sa.text("SELECT server_checked_at, server_numbers FROM campaigns")
        ).one()
        why = conn.execute(
            sa.text("SELECT reason FROM events WHERE entity = 'campaign' AND to_state = 'checked'")
        ).scalar_one()
    assert checked.server_checked_at is not None and checked.server_numbers == 0
    assert "0 number(s)" in why


def test_a_run_with_nothing_to_send_does_not_ask_the_server(
    uploader: Uploader, emulator: Emulator, tmp_path: Path
) -> None:
    bad = tmp_path / "junk.csv"
    bad.write_text("phone,name\nnot a phone,A\n", encoding="utf-8")
    summary = uploader.run(bad)
    assert summary.exit_code == ExitCode.OK and summary.rejected == 1
    assert emulator.requests_log() == []


def test_the_cli_refuses_with_exit_4_and_sends_with_new_ledger(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    assert uploader.run(uploader.csv(30)).exit_code == ExitCode.OK
    config = tmp_path / "c.yaml"
    config.write_text(
        "ledger: {url: 'sqlite:///fresh.sqlite3'}\n"
        "columns: {phone: phone, payload: {name: name}}\n",
        encoding="utf-8",
    )
    env = {"JAICP_TOKEN": campaign["token"], "JAICP_BASE_URL": emulator.base_url}
    more = uploader.csv(10, start=30)

    refused = CliRunner().invoke(cli, ["upload", "--config", str(config), str(more)], env=env)
    assert refused.exit_code == ExitCode.CONFIG, refused.output
    assert "30 number(s)" in refused.output and "--new-ledger" in refused.output
    assert campaign["token"] not in refused.output
    assert len(emulator.jobs(campaign["id"])) == 30

    accepted = CliRunner().invoke(
        cli, ["upload", "--config", str(config), "--new-ledger", str(more)], env=env
    )
    assert accepted.exit_code == ExitCode.OK, accepted.output
    assert len(emulator.jobs(campaign["id"])) == 40


def test_two_campaigns_never_share_a_key(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    """The server's key store is account-wide: the same body sent to two campaigns (each
    from its own ledger, which cannot know the other's keys) must travel under two keys, or
    the second campaign would get the first one's replayed reply and no jobs."""
    other = emulator.create_campaign(random_token(), name="Other")
    export = uploader.csv(50)
    assert uploader.run(export).exit_code == ExitCode.OK
    first = _keys(uploader.ledger_url)
    uploader.ledger_url = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    assert uploader.run(export, token=other["token"]).exit_code == ExitCode.OK
    second = _keys(uploader.ledger_url)
    assert len(first) == len(second) == 5 and not set(first) & set(second)
    assert not any(e["replayed"] for e in uploader.add_phones_log())
    assert jobs_per_phone(emulator, other["id"]) == {phone(i): 1 for i in range(50)}
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(50)}


def test_the_key_is_a_function_of_fingerprint_generation_and_body_only() -> None:
    digest = body_digest(b'[{"phone":"79160000001"}]')
    fp_a, fp_b = token_fingerprint("1.2.a"), token_fingerprint("1.2.b")
    key = request_key(fp_a, 1, digest)
    assert key == request_key(fp_a, 1, digest)  # the same on every machine and ledger
    assert len({key, request_key(fp_b, 1, digest), request_key(fp_a, 2, digest)}) == 3
    assert key != request_key(fp_a, 1, body_digest(b'[{"phone":"79160000002"}]'))
    assert key[14] == "5"  # a UUIDv5


def test_an_intended_repeat_of_identical_batches_gets_new_keys(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    first = uploader.csv(20)
    assert uploader.run(first).exit_code == ExitCode.OK
    # The same rows again in another file (a trailing blank line is not a record): with
    # repeats allowed they are meant to be called again, so the same bodies need new keys.
    again = tmp_path / "again.csv"
    again.write_bytes(first.read_bytes() + b"\n")
    summary = uploader.run(again, allow_repeats=True)
    assert summary.exit_code == ExitCode.OK and summary.sent == 20, summary.lines()
    with open_ledger(uploader.ledger_url) as ledger, ledger.store.engine.connect() as conn:
        batches = conn.execute(
            sa.text("SELECT body_sha256, generation, request_key FROM batches ORDER BY id")
        ).all()
    assert [b.generation for b in batches] == [1, 1, 2, 2]
    assert [b.body_sha256 for b in batches[:2]] == [b.body_sha256 for b in batches[2:]]
    assert len({b.request_key for b in batches}) == 4
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 2 for i in range(20)}


def test_identical_batches_inside_one_file_get_their_own_keys(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    rows = "".join(f"{phone(i)},A{i}\n" for i in range(10))
    twice = tmp_path / "twice.csv"
    twice.write_text("phone,name\n" + rows + rows, encoding="utf-8")
    uploader.sections["dedupe"] = {"key": "none"}  # every row is meant to be called
    summary = uploader.run(twice)
    assert summary.exit_code == ExitCode.OK and summary.sent == 20, summary.lines()
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 2 for i in range(10)}


def test_the_question_is_retried_like_any_request_then_the_batches_go(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    emulator.set_faults([{"kind": "error_before_commit", "endpoint": "campaign", "times": 2}])
    summary = uploader.run(uploader.csv(20))
    assert summary.exit_code == ExitCode.OK, summary.lines()
    infos = [e["status"] for e in emulator.requests_log() if e["method"] == "GET"]
    assert infos == [503, 503, 200]
    assert len(uploader.sleeps) == 2  # the run's backoff between the questions
    assert len(emulator.jobs(campaign["id"])) == 20


def test_an_unanswered_question_sends_nothing_and_leaves_the_rows_pending(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    emulator.set_faults([{"kind": "error_before_commit", "endpoint": "campaign"}])
    summary = uploader.run(uploader.csv(20), max_attempts_per_request=3)
    assert summary.exit_code == ExitCode.PENDING, summary.lines()
    assert uploader.add_phones_log() == []
    assert (summary.read, summary.pending) == (20, 20) and summary.adds_up()
    # The next run, with the server answering again, asks again and sends.
    emulator.set_faults([])
    assert uploader.run(uploader.csv(0, start=100)).exit_code == ExitCode.OK
    assert len(emulator.jobs(campaign["id"])) == 20


def test_a_new_ledger_that_cannot_reach_the_server_stops_at_the_question(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any]
) -> None:
    import socket

    with socket.socket() as closed:  # bound, never listening: connections are refused
        closed.bind(("127.0.0.1", 0))
        uploader.api = {"base_url": f"http://127.0.0.1:{closed.getsockname()[1]}"}
        summary = uploader.run(uploader.csv(30), max_attempts_per_request=3)
    assert summary.exit_code == ExitCode.PENDING, summary.lines()
    message = str(summary.error)
    assert "could not connect" in message and "nothing was sent" in message
    assert "api.base_url" in message and "JAICP_BASE_URL" in message
    assert len(uploader.sleeps) == 2  # three questions, then the run ends: no hammering
    assert (summary.read, summary.pending) == (30, 30) and summary.adds_up()
