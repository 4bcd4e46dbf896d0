"""``upload --inbox``: each settled file uploaded once, oldest first, then filed into done/ or
failed/ only after the ledger recorded its outcome; re-runs, stops and errors leave it safe.

Against the emulator on a socket and a real SQLite ledger; the clock and the sleeps are
injected (no test waits for real time).
"""

from __future__ import annotations

import os
import random
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from pipeline.emulator import Emulator
from pipeline.errors import ConfigError, ExitCode, RunStoppedError
from pipeline.front import InboxControl, InboxSummary, upload_inbox
from pipeline.ledger import open_ledger
from pipeline.load.inbox import filing, inbox_run
from pipeline.load.upload.progress import Progress
from tests.conftest import phone
from tests.load.conftest import Uploader, jobs_per_phone, write_csv


def drop(folder: Path, name: str, rows: list[tuple[str, str]], *, age_s: int) -> Path:
    """An export written into ``folder`` ``age_s`` seconds ago (mtime decides the order)."""
    path = write_csv(folder / name, rows)
    stamp = 1_700_000_000 - age_s
    os.utime(path, (stamp, stamp))
    return path


def people(start: int, n: int) -> list[tuple[str, str]]:
    return [(phone(i), f"Anna {i}") for i in range(start, start + n)]


def run(
    uploader: Uploader,
    folder: Path,
    *,
    control: InboxControl | None = None,
    progress: Callable[[str], None] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    **upload: Any,
) -> InboxSummary:
    uploader.sections = {"inbox": {"settle_s": 0}}
    return upload_inbox(
        uploader.config(**upload),
        folder,
        token=uploader.token,
        clock=uploader.clock,
        sleep=uploader.sleep,
        rng=random.Random(0),
        control=control,
        progress=progress,
        on_progress=on_progress,
        notify=False,
    )


def ledger_runs(uploader: Uploader) -> list[tuple[int, int | None, str | None]]:
    return [(r[0], r[1], r[2]) for r in uploader.query("SELECT id, exit_status, files FROM runs")]


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


def test_every_new_file_oldest_first_then_done(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any], inbox: Path
) -> None:
    drop(inbox, "a.csv", people(0, 12), age_s=10)  # newest
    drop(inbox, "b.csv", people(12, 7), age_s=30)  # oldest
    drop(inbox, "c.csv", people(19, 5), age_s=20)
    # Never taken: still written, lock files, hidden, scratch.
    for name in ("d.csv.part", "~$a.xlsx", ".e.csv", "f.tmp", "g.CRDOWNLOAD"):
        drop(inbox, name, people(100, 3), age_s=50)

    summary = run(uploader, inbox)

    assert summary.exit_code == ExitCode.OK, summary.lines()
    assert [(e.name, e.status) for e in summary.entries] == [
        ("b.csv", "done"),
        ("c.csv", "done"),
        ("a.csv", "done"),
    ]
    assert sorted(p.name for p in (inbox / "done").iterdir()) == ["a.csv", "b.csv", "c.csv"]
    left = sorted(p.name for p in inbox.iterdir() if p.is_file())
    assert left == [".e.csv", "d.csv.part", "f.tmp", "g.CRDOWNLOAD", "~$a.xlsx"]
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(24)}
    # One run per file, in the order taken; each entry carries its own run's summary.
    runs = [e.run for e in summary.entries]
    assert [r.read for r in runs if r is not None] == [7, 5, 12]
    assert [r.run_id for r in runs if r is not None] == [1, 2, 3]
    data = summary.as_dict()
    assert data["counts"] == {"done": 3, "failed": 0, "left": 0, "waiting": 0}
    assert [f["run"]["rows"]["sent"] for f in data["files"]] == [7, 5, 12]
    assert (inbox / "done").stat().st_mode & 0o777 == 0o700


def test_the_same_bytes_again_go_to_done_without_a_request(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any], inbox: Path
) -> None:
    drop(inbox, "export.csv", people(0, 10), age_s=10)
    assert run(uploader, inbox).exit_code == 0
    requests, runs = len(uploader.add_phones_log()), ledger_runs(uploader)
    # Tomorrow the same export again, under the same name and under another one.
    drop(inbox, "export.csv", people(0, 10), age_s=5)
    drop(inbox, "copy.csv", people(0, 10), age_s=4)

    again = run(uploader, inbox)

    assert again.exit_code == 0, again.lines()
    assert [(e.name, e.status, e.run) for e in again.entries] == [
        ("export.csv", "done", None),
        ("copy.csv", "done", None),
    ]
    assert "already uploaded" in again.entries[0].reason
    assert len(uploader.add_phones_log()) == requests  # nothing sent
    assert ledger_runs(uploader) == runs  # no run even started
    # No name in done/ was overwritten: the second export.csv got a number.
    assert sorted(p.name for p in (inbox / "done").iterdir()) == [
        "copy.csv",
        "export.2.csv",
        "export.csv",
    ]
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(10)}


def test_a_name_taken_in_done_is_never_overwritten(uploader: Uploader, inbox: Path) -> None:
    drop(inbox, "nightly.csv", people(0, 3), age_s=10)
    run(uploader, inbox)
    drop(inbox, "nightly.csv", people(3, 4), age_s=5)  # another night, same name
    run(uploader, inbox)
    first = (inbox / "done" / "nightly.csv").read_text(encoding="utf-8")
    second = (inbox / "done" / "nightly.2.csv").read_text(encoding="utf-8")
    assert phone(0) in first and phone(3) not in first
    assert phone(3) in second and phone(0) not in second


def test_an_unreadable_file_goes_to_failed_with_a_note_and_the_rest_go_on(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any], inbox: Path
) -> None:
    bad = inbox / "wrong.csv"
    bad.write_text("telefon,imya\n79160000001,Anna\n", encoding="utf-8")  # no `phone` column
    os.utime(bad, (1_600_000_000, 1_600_000_000))
    drop(inbox, "good.csv", people(0, 5), age_s=1)

    summary = run(uploader, inbox)

    assert [(e.name, e.status, e.exit_code) for e in summary.entries] == [
        ("wrong.csv", "failed", ExitCode.INPUT),
        ("good.csv", "done", ExitCode.OK),
    ]
    assert summary.exit_code == ExitCode.INPUT
    note = (inbox / "failed" / "wrong.csv.note.txt").read_text(encoding="utf-8")
    assert "why: " in note and "phone" in note and "what to do: " in note
    assert "exit 6" in note
    assert (inbox / "failed" / "wrong.csv.note.txt").stat().st_mode & 0o777 == 0o600
    assert (inbox / "failed" / "wrong.csv").read_text(encoding="utf-8").startswith("telefon")
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(5)}


def test_work_left_keeps_the_file_in_the_inbox_until_a_run_finishes_it(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any], inbox: Path
) -> None:
    drop(inbox, "a.csv", people(0, 20), age_s=20)
    drop(inbox, "b.csv", people(20, 5), age_s=10)
    emulator.set_faults([{"kind": "rate_limit", "endpoint": "addPhones", "retryAfter": 600}])

    first = run(uploader, inbox, retry_after_cap_s=60)

    assert first.exit_code == ExitCode.PENDING, first.lines()
    assert [(e.name, e.status) for e in first.entries] == [("a.csv", "left"), ("b.csv", "waiting")]
    assert sorted(p.name for p in inbox.iterdir()) == ["a.csv", "b.csv"]  # no done/ at all
    emulator.clear_faults()

    second = run(uploader, inbox)

    assert second.exit_code == ExitCode.OK, second.lines()
    assert [(e.name, e.status) for e in second.entries] == [("a.csv", "done"), ("b.csv", "done")]
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(25)}


def test_a_stop_inside_a_file_leaves_it_and_the_next_ones_for_the_next_run(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any], inbox: Path
) -> None:
    drop(inbox, "a.csv", people(0, 50), age_s=20)
    drop(inbox, "b.csv", people(50, 5), age_s=10)
    control = InboxControl()

    def stop_midway(progress: Progress) -> None:
        if progress.stage == "send" and progress.done >= 20:  # SIGTERM, as the CLI relays it
            control.stop(RunStoppedError("stopped by SIGTERM: run again (exit 3)"))

    first = run(uploader, inbox, control=control, on_progress=stop_midway)

    assert first.exit_code == ExitCode.PENDING, first.lines()
    assert [(e.name, e.status) for e in first.entries] == [("a.csv", "left"), ("b.csv", "waiting")]
    sent = sum(jobs_per_phone(emulator, campaign["id"]).values())
    assert 20 <= sent < 50  # stopped within the file, in order
    assert not (inbox / "done").exists()

    second = run(uploader, inbox)

    assert second.exit_code == ExitCode.OK, second.lines()
    assert [(e.name, e.status) for e in second.entries] == [("a.csv", "done"), ("b.csv", "done")]
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(55)}


def test_a_stop_between_files_takes_no_other_file(uploader: Uploader, inbox: Path) -> None:
    drop(inbox, "a.csv", people(0, 5), age_s=20)
    drop(inbox, "b.csv", people(5, 5), age_s=10)
    control = InboxControl()

    def stop_after_first(line: str) -> None:
        if line.endswith("a.csv: planned"):
            control.stop(RunStoppedError("stopped by SIGTERM: run again (exit 3)"))

    summary = run(uploader, inbox, control=control, progress=stop_after_first)
    assert summary.exit_code == ExitCode.PENDING
    assert [e.name for e in summary.entries if e.status == "waiting"] == ["b.csv"]
    assert (inbox / "b.csv").exists()
    assert "stopped by SIGTERM" in "\n".join(summary.lines())


def test_files_move_only_after_the_ledger_recorded_their_outcome(
    uploader: Uploader, inbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the moment a file is filed, its run is finished in the ledger and none of its rows
    is pending; a run that dies (any exception) before that leaves the file in the inbox."""
    drop(inbox, "a.csv", people(0, 12), age_s=20)
    seen: list[tuple[str, list[tuple[Any, ...]], int]] = []
    real = filing.file_away

    def watched(source: Path, folder: Path, *, note: str | None = None) -> Path | None:
        ledger = Path(uploader.ledger_url.removeprefix("sqlite:///"))
        with closing(sqlite3.connect(ledger)) as conn:
            runs = conn.execute("SELECT exit_status, finished_at IS NOT NULL FROM runs").fetchall()
            pending = conn.execute(
                "SELECT count(*) FROM rows WHERE state IN ('planned', 'batched')"
            ).fetchone()[0]
        seen.append((source.name, runs, pending))
        return real(source, folder, note=note)

    monkeypatch.setattr(inbox_run, "file_away", watched)
    assert run(uploader, inbox).exit_code == 0
    assert seen == [("a.csv", [(0, 1)], 0)]

    # A run that dies half-way (here: an exception out of the progress callback, as a crash
    # would end it) leaves its file where it was.
    drop(inbox, "b.csv", people(12, 30), age_s=10)

    def crash(progress: Progress) -> None:
        if progress.stage == "send" and progress.done >= 10:
            raise KeyboardInterrupt  # not a PipelineError: nothing catches it

    with pytest.raises(KeyboardInterrupt):
        run(uploader, inbox, on_progress=crash)
    assert (inbox / "b.csv").exists()
    assert sorted(p.name for p in (inbox / "done").iterdir()) == ["a.csv"]
    assert len(seen) == 1


def test_a_missing_inbox_folder_is_a_configuration_error(
    uploader: Uploader, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match="not a folder"):
        run(uploader, tmp_path / "nowhere")


def test_an_empty_inbox_does_nothing(uploader: Uploader, inbox: Path) -> None:
    summary = run(uploader, inbox)
    assert summary.exit_code == 0 and summary.entries == []
    assert "no new file" in "\n".join(summary.lines())
    assert ledger_runs(uploader) == []


def test_a_file_over_the_reject_ratio_goes_to_failed_with_its_note(
    uploader: Uploader, emulator: Emulator, campaign: dict[str, Any], inbox: Path
) -> None:
    drop(inbox, "wrong-mapping.csv", [("", f"Nobody {i}") for i in range(8)], age_s=30)
    drop(inbox, "fine.csv", people(0, 4), age_s=20)

    summary = run(uploader, inbox, max_reject_ratio=0.5)

    assert [(e.name, e.status, e.exit_code) for e in summary.entries] == [
        ("wrong-mapping.csv", "failed", ExitCode.REJECT_RATIO),
        ("fine.csv", "done", ExitCode.OK),
    ]
    assert summary.exit_code == ExitCode.REJECT_RATIO
    note = (inbox / "failed" / "wrong-mapping.csv.note.txt").read_text(encoding="utf-8")
    assert "8 of 8 data rows (100.0%) are rejected" in note
    assert "upload.max_reject_ratio" in note and "what to do: check the config's columns" in note
    # The refused run is in the ledger (exit 8) before the file was filed.
    assert [r[1] for r in ledger_runs(uploader)] == [8, 0]
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(4)}
    data = summary.as_dict()
    assert data["exit_code"] == 8 and data["files"][0]["note"].endswith(".note.txt")


@pytest.mark.parametrize(
    ("setting", "status", "code"), [("warn", "done", 0), ("fail", "failed", 9)]
)
def test_an_empty_export(
    uploader: Uploader, inbox: Path, setting: str, status: str, code: int
) -> None:
    drop(inbox, "empty.csv", [], age_s=10)
    summary = run(uploader, inbox, empty_file=setting)
    assert [(e.name, e.status, e.exit_code) for e in summary.entries] == [
        ("empty.csv", status, code)
    ]
    assert (inbox / status / "empty.csv").exists()
    # Filed again the next night (same empty bytes): the same verdict, no new request.
    drop(inbox, "empty.csv", [], age_s=5)
    again = run(uploader, inbox, empty_file=setting)
    assert [(e.status, e.exit_code) for e in again.entries] == [(status, code)]


def test_the_inbox_on_a_postgresql_ledger(
    emulator: Emulator, campaign: dict[str, Any], tmp_path: Path, pg_url: str, inbox: Path
) -> None:
    """Runs sharing the campaign (the PostgreSQL default) file the same way."""
    shared = Uploader(emulator, campaign["token"], tmp_path, pg_url)
    drop(inbox, "a.csv", people(0, 12), age_s=20)
    drop(inbox, "b.csv", people(12, 3), age_s=10)
    first = run(shared, inbox)
    assert [(e.name, e.status) for e in first.entries] == [("a.csv", "done"), ("b.csv", "done")]
    drop(inbox, "again.csv", people(0, 12), age_s=5)  # a.csv's bytes once more
    second = run(shared, inbox)
    assert [(e.name, e.status, e.run) for e in second.entries] == [("again.csv", "done", None)]
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(15)}


def test_another_run_holding_the_lease_leaves_every_file_in_place(
    uploader: Uploader, emulator: Emulator, inbox: Path
) -> None:
    drop(inbox, "a.csv", people(0, 5), age_s=20)
    drop(inbox, "b.csv", people(5, 5), age_s=10)
    with open_ledger(uploader.ledger_url, clock=uploader.clock) as ledger:
        camp = ledger.campaigns.ensure(uploader.token)
        other = ledger.runs.start(command="upload", files=[], config_digest="x")
        ledger.leases.acquire(camp.id, owner="otherhost:1:x", ttl_s=600, run_id=other)

    summary = run(uploader, inbox)

    assert summary.exit_code == ExitCode.LEASE_HELD, summary.lines()
    assert [(e.name, e.status) for e in summary.entries] == [
        ("a.csv", "left"),
        ("b.csv", "waiting"),
    ]
    assert sorted(p.name for p in inbox.iterdir()) == ["a.csv", "b.csv"]
    assert uploader.add_phones_log() == []
