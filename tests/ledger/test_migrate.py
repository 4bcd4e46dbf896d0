"""``jaicp-pipeline ledger migrate``: a SQLite ledger moves into PostgreSQL with nothing lost.

The round trip starts from a ledger written by a real upload (emulator over a socket, rejects,
duplicates, several batches), copies it into a fresh PostgreSQL database, compares every table
value by value (independently of the command's own digests), and then uploads against the copy:
the same file sends nothing, a new file goes out (the id sequences were moved on).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from click.testing import CliRunner, Result

from pipeline.cli.main import cli
from pipeline.emulator import Emulator
from pipeline.errors import ExitCode, LedgerError
from pipeline.ledger import open_ledger
from pipeline.ledger.admin.migrate import copy_ledger, same_database
from pipeline.ledger.store import schema as t
from pipeline.ledger.store.engine import alembic_config, describe_url, open_engine
from pipeline.records import Duplicate, Rejection
from tests.conftest import FakeClock, phone
from tests.ledger.conftest import body_for, items, plan_file, start
from tests.load.conftest import Uploader, jobs_per_phone

Contents = dict[str, list[tuple[Any, ...]]]


def contents(url: str) -> Contents:
    """Every ledger table's rows in primary-key order, read through the schema's types."""
    engine = open_engine(url, migrate=False)
    try:
        with engine.connect() as conn:
            return {
                table.name: [
                    tuple(row)
                    for row in conn.execute(sa.select(table).order_by(*table.primary_key.columns))
                ]
                for table in t.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def migrate(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["ledger", "migrate", *args], env=env)


def small_ledger(url: str, clock: FakeClock) -> None:
    """A ledger with sent, rejected and duplicate rows (no emulator needed)."""
    with open_ledger(url, clock=clock) as ledger:
        s = start(ledger)
        plan_file(s, [*items(4), Rejection(5, "phone", "phone_invalid", "bad"), Duplicate(6, 1)])
        ledger.freezing.freeze_batches(s.lease, batch_size=2, body_for=body_for)
        for work in ledger.sending.claim_sendable(s.lease, limit=5):
            ledger.sending.mark_attempt(s.lease, work.id)
            ledger.replies.record_success(
                s.lease, work.id, [f"job-{work.id}-{i}" for i in range(2)]
            )
        ledger.runs.finish(s.run_id, exit_status=0)


def write_export(path: Path) -> Path:
    """36 rows: 30 distinct phones, 3 that cannot be called, 3 repeats of earlier rows."""
    lines = ["phone,name"]
    lines += [f"{phone(i)},Client {i}" for i in range(30)]
    lines += ["12345,Too short", "not a phone,Text", ",Empty"]
    lines += [f"{phone(i)},Client {i}" for i in (0, 7, 29)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_round_trip_of_a_ledger_written_by_a_real_upload(
    emulator: Emulator, campaign: dict[str, Any], tmp_path: Path, pg_url: str
) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    uploader = Uploader(emulator, campaign["token"], tmp_path, sqlite_url)
    export = write_export(tmp_path / "export.csv")
    summary = uploader.run(export)  # batches of 10
    assert summary.exit_code == ExitCode.OK, summary.lines()
    assert (summary.read, summary.sent, summary.rejected, summary.duplicate) == (36, 30, 3, 3)
    before = contents(sqlite_url)
    assert len(before["batches"]) >= 3 and len(before["events"]) > 10

    result = migrate("--ledger", sqlite_url, env={"JAICP_LEDGER_TARGET_URL": pg_url})
    assert result.exit_code == ExitCode.OK, result.output
    assert "verified:" in result.stdout
    for name, rows in before.items():
        assert f"  {name:<16}{len(rows):>12,}{len(rows):>12,}  same" in result.stdout

    after = contents(pg_url)
    assert contents(sqlite_url) == before  # the source was only read
    assert set(after) == {table.name for table in t.metadata.sorted_tables}
    for name in before:
        assert after[name] == before[name], name  # every value, ids and UTC times included
    verify = CliRunner().invoke(cli, ["ledger", "verify", "--ledger", pg_url])
    assert verify.exit_code == 0 and "all invariants hold" in verify.stdout

    # Exactly once survives the move: the same file against the copy sends nothing new...
    on_pg = dataclasses.replace(uploader, ledger_url=pg_url)
    requests = len(on_pg.add_phones_log())
    again = on_pg.run(export)
    assert again.exit_code == ExitCode.OK, again.lines()
    assert len(on_pg.add_phones_log()) == requests
    assert jobs_per_phone(emulator, campaign["id"]) == {phone(i): 1 for i in range(30)}
    # ... and new work gets fresh ids after the copied ones (sequences moved past them).
    new = on_pg.run(on_pg.csv(12, start=100, name="B"))
    assert new.exit_code == ExitCode.OK and new.sent == 12, new.lines()
    assert len(emulator.jobs(campaign["id"])) == 42
    top = max(run[0] for run in before["runs"])
    assert [run[0] for run in contents(pg_url)["runs"][len(before["runs"]) :]] == [top + 1, top + 2]
    assert CliRunner().invoke(cli, ["ledger", "verify", "--ledger", pg_url]).exit_code == 0


def test_a_target_with_ledger_data_is_refused_and_left_unchanged(
    tmp_path: Path, pg_url: str, clock: FakeClock
) -> None:
    first, second = (f"sqlite:///{tmp_path / name}" for name in ("a.sqlite3", "b.sqlite3"))
    small_ledger(first, clock)
    small_ledger(second, clock)
    assert migrate("--ledger", first, "--to", pg_url).exit_code == ExitCode.OK
    before = contents(pg_url)
    result = migrate("--ledger", second, "--to", pg_url)
    assert result.exit_code == ExitCode.FAILED, result.output
    assert "already holds ledger data" in result.stderr and "rows: 6" in result.stderr
    assert "nothing was copied or changed" in result.stderr
    assert contents(pg_url) == before


def test_the_source_itself_is_refused_as_target(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "ledger.sqlite3"
    url = f"sqlite:///{path}"
    small_ledger(url, clock)
    before = contents(url)
    other_spelling = f"sqlite:///{tmp_path / 'sub' / '..' / 'ledger.sqlite3'}"
    result = migrate("--ledger", url, "--to", other_spelling)
    assert result.exit_code == ExitCode.FAILED
    assert "the source and the target are the same database" in result.stderr
    assert contents(url) == before
    assert same_database(
        "postgresql+psycopg://app:one@127.0.0.1/jaicp", "postgresql://other@localhost:5432/jaicp"
    )
    assert not same_database("postgresql://db/jaicp", "postgresql://db/jaicp2")
    assert not same_database(url, f"sqlite:///{tmp_path / 'other.sqlite3'}")


def test_no_password_is_ever_shown(tmp_path: Path, clock: FakeClock) -> None:
    source = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    small_ledger(source, clock)
    secret = "s3cretPassw0rd"
    target = f"postgresql+psycopg://app:{secret}@127.0.0.1:1/jaicp"  # nothing listens on 1
    result = migrate("--ledger", source, env={"JAICP_LEDGER_TARGET_URL": target})
    assert result.exit_code == ExitCode.PENDING  # unreachable for now: try again later
    assert "cannot open the target ledger" in result.stderr
    assert "postgresql+psycopg://app:***@127.0.0.1:1/jaicp" in result.stderr
    assert secret not in result.output
    with pytest.raises(LedgerError) as info:
        copy_ledger(target, source)  # a password-protected source
    assert secret not in str(info.value)
    assert describe_url(target) == "postgresql+psycopg://app:***@127.0.0.1:1/jaicp"


def test_a_copy_that_differs_is_rolled_back_and_exits_7(
    tmp_path: Path, pg_url: str, clock: FakeClock
) -> None:
    source = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    small_ledger(source, clock)
    engine = open_engine(pg_url)  # a target whose database rewrites what it is given
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE FUNCTION mangle() RETURNS trigger AS $$ BEGIN "
            "NEW.phone := '70000000000'; RETURN NEW; END $$ LANGUAGE plpgsql"
        )
        conn.exec_driver_sql(
            "CREATE TRIGGER mangle BEFORE INSERT ON rows FOR EACH ROW EXECUTE FUNCTION mangle()"
        )
    engine.dispose()
    result = migrate("--ledger", source, "--to", pg_url)
    assert result.exit_code == ExitCode.VERIFY_FAILED, result.output
    assert f"  {'rows':<16}{6:>12,}{6:>12,}  DIFFERENT" in result.stdout
    assert "the copy differs from the source in rows; it was rolled back" in result.stderr
    assert all(rows == [] for rows in contents(pg_url).values())


def test_forward_self_references_and_one_row_chunks(
    tmp_path: Path, pg_url: str, clock: FakeClock
) -> None:
    source = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    small_ledger(source, clock)
    engine = open_engine(source)
    with engine.begin() as conn:  # a legal but unusual reference to a later batch
        conn.execute(sa.update(t.batches).where(t.batches.c.id == 1).values(parent_id=2))
    engine.dispose()
    seen: list[tuple[str, int, int]] = []
    report = copy_ledger(source, pg_url, chunk_rows=1, progress=lambda *args: seen.append(args))
    assert report.verified, (report.mismatches, report.problems)
    assert contents(pg_url) == contents(source)
    assert ("rows", 6, 6) in seen and ("rows", 1, 6) in seen and ("job_outcomes", 0, 0) in seen


def test_a_source_behind_the_current_schema_is_upgraded_first(tmp_path: Path, pg_url: str) -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_revision("head")
    assert head is not None and isinstance(head.down_revision, str)
    source = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = open_engine(source, migrate=False)
    with engine.begin() as conn:  # a ledger written by the previous version
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, head.down_revision)
    engine.dispose()
    result = migrate("--ledger", source, "--to", pg_url)
    assert result.exit_code == ExitCode.OK, result.output
    assert f"upgraded from {head.down_revision} first" in result.stdout
    assert f"(schema {head.revision})" in result.stdout


def test_a_missing_or_foreign_source_is_refused(tmp_path: Path, pg_url: str) -> None:
    result = migrate("--ledger", f"sqlite:///{tmp_path / 'none.sqlite3'}", "--to", pg_url)
    assert result.exit_code == ExitCode.FAILED and "there is no ledger" in result.stderr
    assert not (tmp_path / "none.sqlite3").exists()
    foreign = tmp_path / "other.sqlite3"
    engine = sa.create_engine(f"sqlite:///{foreign}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE notes (id INTEGER PRIMARY KEY)")
    engine.dispose()
    result = migrate("--ledger", f"sqlite:///{foreign}", "--to", pg_url)
    assert result.exit_code == ExitCode.FAILED
    assert "is not a jaicp-pipeline ledger" in result.stderr
    assert tables(pg_url) == set()  # refused before the schema was even created


def test_a_failing_insert_names_no_phone_and_commits_nothing(
    tmp_path: Path, pg_url: str, clock: FakeClock
) -> None:
    source = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    small_ledger(source, clock)
    engine = open_engine(pg_url)  # PostgreSQL's DETAIL for this quotes the whole failing row
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE rows ALTER COLUMN reason SET NOT NULL")
    engine.dispose()
    result = migrate("--ledger", source, "--to", pg_url)
    assert result.exit_code == ExitCode.FAILED, result.output
    assert "copying into the target ledger failed (nothing was committed)" in result.stderr
    assert 'null value in column "reason"' in result.stderr
    assert "7916000" not in result.output  # the phones of tests.ledger.conftest.items
    assert all(rows == [] for rows in contents(pg_url).values())


def test_a_malformed_url_is_not_echoed(tmp_path: Path) -> None:
    result = migrate(
        "--ledger", f"sqlite:///{tmp_path / 'l.sqlite3'}", "--to", "postgresql:/app:pw1234@db"
    )
    assert result.exit_code == ExitCode.FAILED
    assert "the target URL is not a valid SQLAlchemy URL" in result.stderr
    assert "pw1234" not in result.output


def test_and_back_again_from_postgresql_to_sqlite(
    tmp_path: Path, pg_url: str, clock: FakeClock
) -> None:
    source = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    small_ledger(source, clock)
    assert copy_ledger(source, pg_url).verified
    back = f"sqlite:///{tmp_path / 'back.sqlite3'}"
    report = copy_ledger(pg_url, back)
    assert report.verified and report.rows == sum(len(r) for r in contents(source).values())
    assert contents(back) == contents(source)
