"""Row assembly: mapping, one outcome per row, duplicates, call-policy windows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.config import Config, parse_config
from pipeline.errors import ConfigError, InputFileError
from pipeline.records import RowChunk
from pipeline.transform import codes
from pipeline.transform.assembly import RowTransformer

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
HEADER = ("\ufeffТелефон ", "ФИО", "Сумма", "Часовой пояс", "Старт")  # noqa: RUF001


def _config(**sections: Any) -> Config:
    base: dict[str, Any] = {
        "columns": {
            "phone": ["phone", "телефон"],
            "payload": {"name": "фио", "debt": {"column": "сумма", "type": "decimal"}},
            "policy": {"gmtZone": "часовой пояс", "startDateTime": "старт"},
        }
    }
    base.update(sections)
    return parse_config(base, environ={})


def _chunk(*rows: list[str], start: int = 1) -> RowChunk:
    return RowChunk(list(range(start, start + len(rows))), [list(r) for r in rows])


def test_missing_columns_stop_the_run_listing_headers_found() -> None:
    cfg = _config(columns={"phone": "mobile", "payload": {"x": "Nope"}})
    with pytest.raises(InputFileError) as err:
        RowTransformer(cfg, HEADER, now=NOW)
    text = str(err.value)
    assert "columns.phone ('mobile')" in text and "columns.payload.x ('Nope')" in text
    assert "'ФИО'" in text and err.value.exit_code == 6


def test_rows_become_items_with_typed_payload_and_policy() -> None:
    rows = RowTransformer(_config(policy={"maxAttempts": 2}), HEADER, now=NOW)
    result = rows.transform(
        _chunk(["8 (916) 123-45-67", "Иванов", "1 500,00", "GMT+3", "2030-01-02T10:00:00+03:00"])
    )
    (item,) = result.items
    assert item.to_api() == {
        "phone": "79161234567",
        "payload": {"name": "Иванов", "debt": "1500.00"},
        "gmtZone": "+03:00",
        "startDateTime": "2030-01-02T10:00:00+03:00",
        "maxAttempts": 2,
    }


def test_each_problem_is_a_rejection_naming_its_column() -> None:
    rows = RowTransformer(_config(), HEADER, now=NOW)
    result = rows.transform(
        _chunk(
            ["", "", "", "", ""],
            ["", "Петров", "", "", ""],
            ["7,91612E+10", "Сидоров", "", "", ""],
            ["89161234567", "A", "1,234.5", "", ""],
            ["89161234568", "B", "", "+19", ""],
            ["89161234569", "C", "", "", "2029-12-31T10:00:00Z"],
            ["89161234560", "D", "", "", "2030-01-31T10:00:00"],
        )
    )
    got = [(r.row, r.column, r.code) for r in result.rejections]
    assert got == [
        (1, None, codes.EMPTY_ROW),
        (2, HEADER[0], codes.PHONE_MISSING),
        (3, HEADER[0], codes.PHONE_LOSSY),
        (4, "Сумма", codes.PAYLOAD_AMBIGUOUS),
        (5, "Часовой пояс", codes.POLICY_INVALID),
        (6, None, codes.POLICY_IN_PAST),
        (7, "Старт", codes.POLICY_INVALID),
    ]
    assert not result.items


def test_start_in_the_past_allowed_on_request_and_window_checked() -> None:
    past = ["89161234567", "A", "", "", "2029-12-31T10:00:00Z"]
    allowed = RowTransformer(_config(policy={"allow_start_in_past": True}), HEADER, now=NOW)
    assert len(allowed.transform(_chunk(past)).items) == 1
    window = _config(policy={"finishDateTime": "2030-06-01T00:00:00Z"})
    late = ["89161234567", "A", "", "", "2030-07-01T00:00:00Z"]
    (rejection,) = RowTransformer(window, HEADER, now=NOW).transform(_chunk(late)).rejections
    assert rejection.code == codes.POLICY_WINDOW


def test_fixed_start_in_the_past_is_a_config_error() -> None:
    cfg = _config(policy={"startDateTime": "2029-01-01T00:00:00Z"})
    with pytest.raises(ConfigError, match=r"policy: startDateTime .* past"):
        RowTransformer(cfg, HEADER, now=NOW)


def test_duplicates_point_at_the_first_row_across_chunks() -> None:
    rows = RowTransformer(_config(), HEADER, now=NOW)
    first = rows.transform(
        _chunk(["8 916 123 45 67", "A", "", "", ""], ["+79161234567", "B", "", "", ""])
    )
    second = rows.transform(
        _chunk(["79161234567", "A", "", "", ""], ["9161234567", "B", "", "", ""], start=3)
    )
    assert [i.row for i in first.items] == [1, 2]  # same phone, other payload: kept
    assert [(d.row, d.duplicate_of) for d in second.duplicates] == [(3, 1), (4, 2)]
    by_phone = RowTransformer(_config(dedupe={"key": "phone"}), HEADER, now=NOW)
    result = by_phone.transform(
        _chunk(["89161234567", "A", "", "", ""], ["89161234567", "B", "", "", ""])
    )
    assert [(d.row, d.duplicate_of) for d in result.duplicates] == [(2, 1)]
    keep_all = RowTransformer(_config(dedupe={"key": "none"}), HEADER, now=NOW)
    same = ["89161234567", "A", "", "", ""]
    assert len(keep_all.transform(_chunk(same, same)).items) == 2


def test_a_lossy_phone_is_never_called() -> None:
    rows = RowTransformer(_config(), HEADER, now=NOW)
    result = rows.transform(
        _chunk(["7,91612E+10", "X", "", "", ""], ["79161200000", "Y", "", "", ""])
    )
    assert [i.phone for i in result.items] == ["79161200000"]  # the real one only
    assert all(not i.phone.startswith("7916120000") or i.row == 2 for i in result.items)
    assert result.rejections[0].code == codes.PHONE_LOSSY


_CELL = st.sampled_from(
    [
        "",
        " ",
        "8 916 123-45-67",
        "+79031234567",
        "7,91612E+10",
        "abc",
        "89161234567, 89031234567",
        "Иван",
        "1,5",
        "1.234,5",
        "GMT+3",
        "+25",
        "2030-02-01T00:00:00Z",
        "2020-01-01T00:00:00Z",
    ]
)


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.lists(_CELL, min_size=5, max_size=5), max_size=30))
def test_every_row_is_accounted_for_exactly_once(rows: list[list[str]]) -> None:
    transformer = RowTransformer(_config(), HEADER, now=NOW)
    result = transformer.transform(_chunk(*rows))
    seen = (
        [i.row for i in result.items]
        + [r.row for r in result.rejections]
        + [d.row for d in result.duplicates]
    )
    assert sorted(seen) == list(range(1, len(rows) + 1))
    accepted = {i.row for i in result.items}
    assert all(d.duplicate_of in accepted and d.duplicate_of < d.row for d in result.duplicates)


def test_a_row_with_cells_beyond_the_header_is_rejected_not_called() -> None:
    rows = RowTransformer(_config(), HEADER, now=NOW)
    chunk = _chunk(["89161234567", "A", "", "", ""], ["89161234568", "B", "", "", ""])
    chunk.extra[2] = ["shifted"]
    result = rows.transform(chunk)
    assert [i.row for i in result.items] == [1]
    assert [(r.row, r.code) for r in result.rejections] == [(2, codes.EXTRA_CELLS)]
