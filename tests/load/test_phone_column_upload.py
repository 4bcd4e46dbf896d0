"""``columns.phone`` listing two amoCRM columns: the ledger records, per row, the column its
number came from when it is not the first listed (NULL otherwise), on SQLite and PostgreSQL,
and ``ledger phone`` / ``ledger show`` say so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from pipeline.cli.main import cli
from pipeline.emulator import Emulator
from pipeline.errors import ExitCode
from pipeline.ledger import open_ledger
from pipeline.ledger.store import schema as t
from tests.load.conftest import Uploader

MOBILE, WORK = "Мобильный телефон", "Рабочий телефон"
COLUMNS = {"columns": {"phone": [MOBILE, WORK], "payload": {"name": "Контакт"}}}


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, uploader: Uploader) -> Uploader:
    if request.param == "postgresql":
        uploader.ledger_url = request.getfixturevalue("pg_url")
    return uploader


def _amocrm_csv(path: Path) -> Path:
    rows = [
        ("+7 916 123-45-01", "", "Анна"),  # mobile only
        ("", "8 (916) 123-45-02", "Борис"),  # only the work phone: the row that was lost
        ("не указан", "+7 916 123-45-03", "Вера"),  # noqa: RUF001 - mobile invalid, work valid
        ("+7 916 123-45-04", "+7 916 999-99-99", "Глеб"),  # both: the first listed wins
    ]
    lines = [f"{MOBILE};{WORK};Контакт", *(";".join(row) for row in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_rows_whose_number_came_from_the_second_column_name_it_in_the_ledger(
    backend: Uploader, emulator: Emulator, campaign: dict[str, Any], tmp_path: Path
) -> None:
    backend.sections = COLUMNS
    summary = backend.run(_amocrm_csv(tmp_path / "amocrm.csv"))

    assert summary.exit_code == ExitCode.OK, summary.lines()
    assert summary.sent == 4 and summary.adds_up()
    with open_ledger(backend.ledger_url) as ledger, ledger.store.engine.connect() as conn:
        got = conn.execute(
            sa.select(t.rows.c.row_number, t.rows.c.phone, t.rows.c.phone_column)
            .where(t.rows.c.state == "sent")
            .order_by(t.rows.c.row_number)
        ).all()
    assert [tuple(row) for row in got] == [
        (1, "79161234501", None),  # the first listed column: NULL keeps the table narrow
        (2, "79161234502", WORK),
        (3, "79161234503", WORK),
        (4, "79161234504", None),
    ]
    assert {job["phone"] for job in emulator.jobs(campaign["id"])} == {p for _, p, _ in got}

    runner = CliRunner()
    history = runner.invoke(cli, ["ledger", "phone", "--ledger", backend.ledger_url, "79161234502"])
    assert history.exit_code == 0, history.output
    assert f"amocrm.csv row 2 column '{WORK}' (run" in history.output
    first = runner.invoke(cli, ["ledger", "phone", "--ledger", backend.ledger_url, "79161234501"])
    assert "column" not in first.output.split("(run")[0]  # the first listed one: not repeated
    shown = runner.invoke(cli, ["ledger", "show", "--ledger", backend.ledger_url, "1"])
    assert shown.exit_code == 0, shown.output
    assert f"phone taken from another listed column: '{WORK}' 2" in shown.output
