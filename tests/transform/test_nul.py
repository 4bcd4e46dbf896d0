"""A NUL character (\\x00) is never text: a payload cell holding one rejects its row as
payload_invalid, a phone cell as phone_invalid, on every path of the transform (column at a
time, row by row, the phone fast path and the cache) and from a real CSV file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.config import PhoneConfig, parse_config
from pipeline.records import RowChunk
from pipeline.transform import codes
from pipeline.transform.assembly import RowTransformer
from pipeline.transform.phones import PhoneNormalizer
from tests.extract.helpers import read_all, write_bytes

NOW = datetime(2030, 1, 1, tzinfo=UTC)
HEADER = ("phone", "name", "debt", "zone")
CONFIG = parse_config(
    {
        "columns": {
            "phone": "phone",
            "payload": {"name": "name", "debt": {"column": "debt", "type": "decimal"}},
        }
    },
    environ={},
)


def _verdicts(rows: list[list[str]]) -> dict[int, str]:
    """Row number → reason code, or "ok"."""
    transformer = RowTransformer(CONFIG, HEADER, now=NOW)
    result = transformer.transform(RowChunk(list(range(1, len(rows) + 1)), rows))
    verdicts = {item.row: "ok" for item in result.items}
    verdicts.update({rej.row: rej.code for rej in result.rejections})
    return verdicts


@pytest.mark.parametrize("name", ["Пё\x00тр", "\x00", "Пётр\x00", "\x00Пётр"])  # noqa: RUF001
def test_a_nul_in_a_text_payload_cell_rejects_the_row(name: str) -> None:
    rows = [["79161234567", name, "1", ""], ["79161234568", "Пётр", "2", ""]]
    transformer = RowTransformer(CONFIG, HEADER, now=NOW)
    result = transformer.transform(RowChunk([1, 2], rows))
    assert [item.row for item in result.items] == [2]
    (rejection,) = result.rejections
    assert (rejection.row, rejection.column, rejection.code) == (1, "name", codes.PAYLOAD_INVALID)
    assert "NUL character" in rejection.message


def test_a_nul_in_a_typed_payload_cell_rejects_the_row() -> None:
    assert _verdicts([["79161234567", "a", "1\x00", ""], ["79161234568", "b", "2", ""]]) == {
        1: codes.PAYLOAD_INVALID,
        2: "ok",
    }


@pytest.mark.parametrize("phone", ["79161234567\x00", "7916\x001234567", "\x00+7 916 123-45-67"])
def test_a_nul_in_a_phone_cell_rejects_the_row_on_every_path(phone: str) -> None:
    assert _verdicts([[phone, "a", "1", ""], ["79161234568", "b", "2", ""]]) == {
        1: codes.PHONE_INVALID,
        2: "ok",
    }
    for fast in (True, False):
        normalizer = PhoneNormalizer(PhoneConfig(), fast=fast)
        problem = normalizer.normalize(phone)
        assert not isinstance(problem, str) and problem.code == codes.PHONE_INVALID
        many = normalizer.normalize_many([phone, "79161234568"])
        assert not isinstance(many[0], str) and many[1] == "79161234568"


def test_columns_given_column_by_column_reject_it_too() -> None:
    transformer = RowTransformer(CONFIG, HEADER, now=NOW)
    columns = [["79161234567", "79161234568"], ["a\x00", "b"], ["1", "2"], ["", ""]]
    result = transformer.transform_columns(1, columns)
    assert [item.row for item in result.items] == [2]
    assert [(r.row, r.code) for r in result.rejections] == [(1, codes.PAYLOAD_INVALID)]


def test_a_nul_read_from_a_csv_file_reaches_the_transform_and_is_rejected(tmp_path: Path) -> None:
    data = b"phone;name;debt;zone\n79161234567;Iv\x00an;1;\n79161234568;Petr;2;\n"
    _, rows, _ = read_all(write_bytes(tmp_path, "in.csv", data))
    assert rows[0][1][1] == "Iv\x00an"  # the reader keeps the cell as it is: not structural
    assert _verdicts([cells for _, cells in rows]) == {1: codes.PAYLOAD_INVALID, 2: "ok"}
