"""columns.phone with several headers falls back per cell: a row's phone is the first valid
non-empty one of the listed columns, and the column used is recorded."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import yaml

from pipeline.config import parse_config
from pipeline.records import RowChunk
from pipeline.transform import codes
from pipeline.transform.assembly import Classified, RowTransformer

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
HEADER = ("Мобильный телефон", "Рабочий телефон", "Имя")
CFG = parse_config(
    {"columns": {"phone": ["Мобильный телефон", "Рабочий телефон"], "payload": {"name": "Имя"}}},
    environ={},
)


def _run(*rows: list[str]) -> tuple[RowTransformer, RowChunk]:
    return RowTransformer(CFG, HEADER, now=NOW), RowChunk(list(range(1, len(rows) + 1)), [*rows])


def test_a_row_whose_only_number_is_in_the_second_column_is_kept() -> None:
    rows, chunk = _run(
        ["+7 916 123-45-67", "", "Анна"],
        ["", "8 (495) 123-45-67", "Борис"],  # the amoCRM case that was phone_missing
        ["не указан", "+7 916 765-43-21", "Вера"],  # noqa: RUF001 - first cell invalid, second valid
        ["+7 916 111-22-33", "+7 495 999-88-77", "Глеб"],  # both: the first listed wins
    )
    result = rows.transform(chunk)
    assert [(i.row, i.phone) for i in result.items] == [
        (1, "79161234567"),
        (2, "74951234567"),
        (3, "79167654321"),
        (4, "79161112233"),
    ]
    assert result.rejections == []
    assert result.phone_columns == {2: "Рабочий телефон", 3: "Рабочий телефон"}


def test_a_row_without_any_valid_number_reports_its_first_non_empty_cell() -> None:
    rows, chunk = _run(["", "12", "Дина"], ["", "", "Ева"], ["abc", "", "Жора"])
    result = rows.transform(chunk)
    assert result.items == []
    got = [(r.row, r.column, r.code) for r in result.rejections]
    assert got == [
        (1, "Рабочий телефон", codes.PHONE_TOO_SHORT),
        (2, "Мобильный телефон", codes.PHONE_MISSING),
        (3, "Мобильный телефон", codes.PHONE_INVALID),
    ]
    assert result.phone_columns == {}


def test_the_column_used_survives_packing_for_the_parallel_reader() -> None:
    rows = RowTransformer(CFG, HEADER, now=NOW)
    classified = rows.classify_columns(
        1, [["", "x"], ["8 495 123-45-67", "8 495 123-45-68"], ["a", "b"]]
    )
    again = Classified.unpack(classified.pack(), shift=100)
    assert again.phone_columns == {101: "Рабочий телефон", 102: "Рабочий телефон"}


def test_the_shipped_amocrm_config_keeps_work_phone_only_rows() -> None:
    data = yaml.safe_load(Path("configs/amocrm.yaml").read_text(encoding="utf-8"))
    cfg = parse_config(data, environ={})
    header = (
        "Мобильный телефон",
        "Рабочий телефон",
        "Телефон",
        "Основной контакт",
        "Название сделки",
        "Бюджет",
        "Дата создания",
        "Часовой пояс",
    )
    rows = RowTransformer(cfg, header, now=NOW)
    chunk = RowChunk([1], [["", "+7 916 123-45-67", "", "Иван", "Сделка", "1000", "", ""]])
    result = rows.transform(chunk)
    assert result.rejections == []
    assert [i.phone for i in result.items] == ["79161234567"]
