"""The column-at-a-time transform must classify exactly like the plain row-by-row rules.

The reference below is the straightforward algorithm (one row at a time, converters called per
cell, an exact dict for duplicates); the fast transform must give the same items, rejections
and duplicates, in the same order, over many chunks and configs.
"""

from __future__ import annotations

import gc
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.config import Config, parse_config
from pipeline.records import CallItem, Duplicate, Rejection, RowChunk, header_key
from pipeline.transform import codes
from pipeline.transform.assembly import ChunkResult, RowTransformer
from pipeline.transform.fields import CONVERTERS, POLICY_CONVERTERS, FieldError
from pipeline.transform.phones import PhoneNormalizer

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
HEADER = ("Phone", "Name", "Debt", "Due", "Zone", "Start", "Days")


def _reference(config: Config, chunks: list[RowChunk]) -> list[ChunkResult]:
    index = {header_key(h): i for i, h in enumerate(HEADER)}
    phones = PhoneNormalizer(config.phone)
    payload = [
        (n, index[header_key(f.column)], CONVERTERS[f.type], f.required)
        for n, f in config.columns.payload_fields().items()
    ]
    policy = [
        (n, index[header_key(c)], POLICY_CONVERTERS[n]) for n, c in config.columns.policy.items()
    ]
    transformer = RowTransformer(config, HEADER, now=NOW)  # for its window rule only
    seen: dict[Any, int] = {}
    out = []
    for chunk in chunks:
        result = ChunkResult()
        for row, cells in zip(chunk.row_numbers, chunk.rows, strict=True):
            outcome = _reference_row(
                config, transformer, phones, payload, policy, row, cells, chunk
            )
            if isinstance(outcome, Rejection):
                result.rejections.append(outcome)
                continue
            key: Any = outcome.phone
            if config.dedupe.key == "phone_payload":
                key = (outcome.phone, tuple(outcome.payload.items()), repr(outcome.policy))
            first = seen.setdefault(key, row) if config.dedupe.key != "none" else row
            if first == row:
                result.items.append(outcome)
            else:
                result.duplicates.append(Duplicate(row, first))
        out.append(result)
    return out


def _reference_row(  # noqa: PLR0911, PLR0917 - the rules, one after the other
    config: Config,
    transformer: RowTransformer,
    phones: PhoneNormalizer,
    payload: list[Any],
    policy: list[Any],
    row: int,
    cells: list[str],
    chunk: RowChunk,
) -> CallItem | Rejection:
    if row in chunk.extra:
        return Rejection(row, None, codes.EXTRA_CELLS, "")
    phone = phones.normalize(cells[0])
    if not isinstance(phone, str):
        if not any(c.strip() for c in cells):
            return Rejection(row, None, codes.EMPTY_ROW, "the record is empty")
        return Rejection(row, HEADER[0], phone.code, phone.message)
    values: dict[str, Any] = {}
    for name, i, convert, required in payload:
        text = cells[i].strip()
        if not text:
            if required:
                message = f"payload field {name!r} is required and the cell is empty"
                return Rejection(row, HEADER[i], codes.PAYLOAD_MISSING, message)
            continue
        try:
            values[name] = convert(text)
        except FieldError as exc:
            return Rejection(row, HEADER[i], exc.code, exc.message)
    rules = dict(config.policy.api_values())
    for name, i, convert in policy:
        text = cells[i].strip()
        if text:
            try:
                rules[name] = convert(text)
            except FieldError as exc:
                return Rejection(row, HEADER[i], exc.code, exc.message)
    problem = transformer._window_problem(rules)
    if problem is not None:
        return Rejection(row, None, *problem)
    return CallItem(row, phone, values, rules)


def _comparable(results: list[ChunkResult]) -> list[Any]:
    return [
        (
            [(i.row, i.to_api()) for i in r.items],
            [
                (j.row, j.column, j.code, j.message if j.code != codes.EXTRA_CELLS else "")
                for j in r.rejections
            ],
            [(d.row, d.duplicate_of) for d in r.duplicates],
        )
        for r in results
    ]


_CELL = {
    0: ["", "8 916 123-45-67", "+79161234567", "9161234567", "7,91612E+10", "916", "89031234567"],
    1: ["", "Анна", " Олег ", "=cmd"],
    2: ["", "1 500,00", "12", "1,2.3", "x"],
    3: ["", "31.12.2030", "2030-12-31", "01/02/2030", "31.02.2030"],
    4: ["", "GMT+3", "+25", "Europe/Moscow"],
    5: ["", "2030-02-01T10:00:00Z", "2029-01-01T00:00:00Z", "junk"],
    6: ["", "mon, fri", "sun", "noday"],
}
_ROW = st.tuples(*(st.sampled_from(_CELL[i]) for i in range(7))).map(list)
_CONFIGS = {
    "payload only": {"columns": {"phone": "phone", "payload": {"name": "name"}}},
    "typed and required": {
        "columns": {
            "phone": "phone",
            "payload": {
                "name": {"column": "name", "required": True},
                "debt": {"column": "debt", "type": "decimal"},
                "due": {"column": "due", "type": "date"},
            },
        }
    },
    "per-row policy": {
        "columns": {
            "phone": "phone",
            "payload": {"name": "name"},
            "policy": {"gmtZone": "zone", "startDateTime": "start", "allowedDays": "days"},
        },
        "policy": {"maxAttempts": 3},
    },
    "by phone": {
        "columns": {"phone": "phone", "payload": {"name": "name"}},
        "dedupe": {"key": "phone"},
    },
    "keep all": {"columns": {"phone": "phone"}, "dedupe": {"key": "none"}},
    "no payload": {
        "columns": {"phone": "phone"},
        "policy": {"finishDateTime": "2031-01-01T00:00:00Z"},
    },
}


@pytest.mark.parametrize("name", list(_CONFIGS))
@settings(max_examples=60, deadline=None)
@given(
    chunks=st.lists(st.lists(_ROW, max_size=15), max_size=5), shifted=st.sets(st.integers(1, 60))
)
def test_transform_matches_the_row_by_row_rules(
    name: str, chunks: list[list[list[str]]], shifted: set[int]
) -> None:
    config = parse_config(_CONFIGS[name], environ={})
    row_chunks, start = [], 1
    for rows in chunks:
        numbers = list(range(start, start + len(rows)))
        extra = {n: ["x"] for n in numbers if n in shifted}
        row_chunks.append(RowChunk(numbers, [list(r) for r in rows], extra))
        start += len(rows)
    fast = RowTransformer(config, HEADER, now=NOW)
    got = [fast.transform(chunk) for chunk in row_chunks]
    assert _comparable(got) == _comparable(_reference(config, row_chunks))


def test_the_collector_is_paused_only_during_a_chunk() -> None:
    config = parse_config(_CONFIGS["payload only"], environ={})
    transformer = RowTransformer(config, HEADER, now=NOW)
    chunk = RowChunk([1], [["89161234567", "A", "", "", "", "", ""]])
    assert gc.isenabled()
    transformer.transform(chunk)
    assert gc.isenabled()  # switched back on after the chunk
    gc.disable()
    try:
        transformer.transform(RowChunk([2], [["89161234568", "B", "", "", "", "", ""]]))
        assert not gc.isenabled()  # a caller's own choice is kept
    finally:
        gc.enable()
    with pytest.raises(ValueError, match="row numbers"):
        transformer.transform(RowChunk([3, 4], [["x"] * 7]))
    assert gc.isenabled()  # also after an error
