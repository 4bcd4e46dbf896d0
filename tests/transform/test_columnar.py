"""Column-at-a-time work must give exactly what one call per cell gives."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.config import PhoneConfig
from pipeline.transform.columns import EMPTY, convert_column
from pipeline.transform.fields import CONVERTERS, POLICY_CONVERTERS, FieldError, to_json
from pipeline.transform.phones import PhoneNormalizer

_CELLS = st.sampled_from(
    [
        "",
        "  ",
        "12",
        " 12 ",
        "1 234,50",
        "0,5",
        "-0.00",
        "+7",
        "007",
        "1,2.3",
        "31.12.2024",
        "2024-12-31",
        "01/02/2024",
        "31.02.2024",
        "2024-12-31 10:00",
        "да",
        "no",
        "GMT+3",
        "mon, fri",
        "10:00-13:00",
        "x",
    ]
)


def _one(convert: Any, cell: str) -> Any:
    text = cell.strip()
    if not text:
        return EMPTY
    try:
        return convert(text)
    except FieldError as exc:
        return (exc.code, exc.message)


def _comparable(value: Any) -> Any:
    return (value.code, value.message) if isinstance(value, FieldError) else value


@pytest.mark.parametrize("kind", [*CONVERTERS, *(f"policy.{n}" for n in POLICY_CONVERTERS)])
@settings(max_examples=60, deadline=None)
@given(cells=st.lists(_CELLS, max_size=30))
def test_a_column_converts_like_each_cell_alone(kind: str, cells: list[str]) -> None:
    convert = POLICY_CONVERTERS[kind[7:]] if kind.startswith("policy.") else CONVERTERS[kind]
    for shared in (True, False):
        column = convert_column(convert, cells, shared=shared)
        expected = [_one(convert, c) for c in cells]
        assert [_comparable(v) for v in column.values] == expected
        bad = {i for i, v in enumerate(expected) if v is EMPTY or isinstance(v, tuple)}
        assert column.bad == bad


def test_unshared_values_are_distinct_objects() -> None:
    column = convert_column(POLICY_CONVERTERS["allowedDays"], ["mon", "mon"], shared=False)
    assert column.values == [["mon"], ["mon"]] and column.values[0] is not column.values[1]


@settings(max_examples=500, deadline=None)
@given(
    sign=st.sampled_from(["", "-", "+"]),
    whole=st.text("0123456789", min_size=1, max_size=25),
    frac=st.none() | st.text("0123456789", min_size=1, max_size=12),
    sep=st.sampled_from([",", "."]),
)
def test_plain_decimals_skip_decimal_but_read_the_same(
    sign: str, whole: str, frac: str | None, sep: str
) -> None:
    text = sign + whole + ("" if frac is None else sep + frac)
    assert to_json("decimal", text) == str(Decimal(text.replace(",", ".")))


_PHONES = st.sampled_from(
    [
        "",
        "8 (916) 123-45-67",
        "+7 916 123 45 67",
        "79161234567",
        "9161234567",
        "7,91612E+10",
        "916123",
        "8 916 123 45 67 доб. 5",
        "89161234567, 89031234567",
        "+1 650 253 0000",
        "+44 20 7946 0000",
        "8 800 555-35-35",
        "abc",
    ]
)


@pytest.mark.parametrize(
    "config",
    [
        PhoneConfig(default_region="RU", allowed_types=["mobile", "fixed_line"]),
        PhoneConfig(default_region="RU", allowed_regions=["KZ", "US"]),
        PhoneConfig(default_region="RU", allowed_regions=["RU"], allowed_types=["toll_free"]),
    ],
)
@settings(max_examples=100, deadline=None)
@given(chunks=st.lists(st.lists(_PHONES, max_size=20), max_size=6), size=st.integers(1, 8))
def test_normalize_many_answers_like_normalize(
    config: PhoneConfig, chunks: list[list[str]], size: int
) -> None:
    one, many = PhoneNormalizer(config), PhoneNormalizer(config, cache_size=size)
    for chunk in chunks:
        assert many.normalize_many(chunk) == [one.normalize(raw) for raw in chunk]
        assert len(many._cache) <= size


@settings(max_examples=200, deadline=None)
@given(
    cells=st.lists(
        st.sampled_from(
            [
                "",
                " ",
                "12",
                "-3,50",
                "1000.1",
                " 7 ",
                "0,5",
                "1\n2",
                "12\n",
                "9,",
                "-",
                "01",
                "1,2,3",
                "1.2",
                "-0,5",
                "--1",
                "7a",
            ]
        ),
        max_size=12,
    )
)
def test_the_decimal_column_shortcut_reads_like_each_cell(cells: list[str]) -> None:
    # mostly plain amounts, so the one-regex shortcut is taken often; the odd cells must
    # send the column down the ordinary path with the same answers
    column = convert_column(CONVERTERS["decimal"], cells)
    assert [_comparable(v) for v in column.values] == [
        _one(CONVERTERS["decimal"], c) for c in cells
    ]
