"""Row assembly: one text row → a :class:`CallItem`, a :class:`Rejection` or a :class:`Duplicate`.

Every input row ends in exactly one of the three lists, so
``rows read == accepted + rejected + duplicate`` holds chunk by chunk. The first problem of a
row decides its reason (phone, then payload fields in config order, then call policy).

Usage::

    rows = RowTransformer(cfg, table.info.header, now=datetime.now(UTC))  # InputFileError
    for chunk in table.chunks():                                             # if columns lack
        result = rows.transform(chunk)
        result.items, result.rejections, result.duplicates
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import compress, repeat
from typing import Any

from pipeline.config import Config
from pipeline.errors import ConfigError, InputFileError
from pipeline.records import CallItem, Duplicate, Rejection, RowChunk, header_key
from pipeline.transform import codes
from pipeline.transform.columns import EMPTY, Column, convert_column
from pipeline.transform.dedupe import Deduper
from pipeline.transform.fields import CONVERTERS, POLICY_CONVERTERS, FieldError
from pipeline.transform.phones import PhoneNormalizer, PhoneProblem

# Per-row policy fields whose values are immutable, so one converted value may serve every
# row with the same cell; allowedDays/allowedTime give lists and dicts, converted per row.
_SCALAR = frozenset(
    {
        "gmtZone",
        "startDateTime",
        "finishDateTime",
        "maxAttempts",
        "retryIntervalInMinutes",
        "dialerPriority",
    }
)


@dataclass(slots=True)
class ChunkResult:
    """The outcome of one chunk; together the lists hold every row of the chunk once."""

    items: list[CallItem] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)


def resolve_columns(config: Config, header: Sequence[str]) -> dict[str, int]:
    """Map every configured column to its index in ``header``.

    Keys: ``"phone"``, ``"payload.<name>"`` and ``"policy.<field>"``. A missing column raises
    :class:`InputFileError` naming what is missing and listing the headers that were found.
    """
    index: dict[str, int] = {}
    for i, cell in enumerate(header):
        index.setdefault(header_key(cell), i)
    found: dict[str, int] = {}
    missing: list[str] = []
    phones = (
        [config.columns.phone] if isinstance(config.columns.phone, str) else config.columns.phone
    )
    hit = next((index[header_key(p)] for p in phones if header_key(p) in index), None)
    if hit is None:
        missing.append(f"columns.phone ({' or '.join(repr(p) for p in phones)})")
    else:
        found["phone"] = hit
    wanted = {f"payload.{n}": f.column for n, f in config.columns.payload_fields().items()}
    wanted.update({f"policy.{n}": col for n, col in config.columns.policy.items()})
    for key, column in wanted.items():
        if header_key(column) in index:
            found[key] = index[header_key(column)]
        else:
            missing.append(f"columns.{key} ({column!r})")
    if missing:
        shown = ", ".join(repr(h) for h in header) or "(none)"
        raise InputFileError(
            f"the input lacks mapped columns: {'; '.join(missing)}. Headers found: {shown}. "
            f"Fix the header names under columns: in the config (case and spaces are ignored)."
        )
    return found


class RowTransformer:
    """Turn text rows into call items under one config; pure (``now`` is passed in)."""

    def __init__(
        self,
        config: Config,
        header: Sequence[str],
        *,
        now: datetime,
        phones: PhoneNormalizer | None = None,
    ) -> None:
        self.now = now
        self._columns = resolve_columns(config, header)
        self._phone_index = self._columns["phone"]
        self._phones = phones or PhoneNormalizer(config.phone)
        self._payload: list[tuple[str, int, Callable[[str], Any], bool]] = [
            (name, self._columns[f"payload.{name}"], CONVERTERS[f.type], f.required)
            for name, f in config.columns.payload_fields().items()
        ]
        self._policy: list[tuple[str, int, Callable[[str], Any]]] = [
            (name, self._columns[f"policy.{name}"], POLICY_CONVERTERS[name])
            for name in config.columns.policy
        ]
        self._header = tuple(header)
        self._fixed = config.policy.api_values()
        self._allow_past = config.policy.allow_start_in_past
        times = {"startDateTime", "finishDateTime"}
        self._check_times = bool(times & (set(self._fixed) | set(config.columns.policy)))
        self._per_row_times = bool(times & set(config.columns.policy))
        self._dedupe = Deduper(config.dedupe.key)
        problem = self._window_problem(self._fixed)
        if problem is not None:
            raise ConfigError(f"policy: {problem[1]}; fix the fixed call policy in the config.")

    def transform(self, chunk: RowChunk) -> ChunkResult:
        """Classify every row of ``chunk``.

        The work goes column by column (each distinct phone or cell converted once, see
        :mod:`.columns`); only rows with a problem, an empty optional cell or per-row policy
        take the row-by-row path, which decides in the documented order.
        """
        # A chunk allocates tens of thousands of containers and no reference cycles; with the
        # collector on, it would run ~50 times per chunk over objects that are all alive
        # (measured: a quarter of the transform's time). Paused, it runs once afterwards.
        paused = gc.isenabled()
        gc.disable()
        try:
            return self._transform(chunk)
        finally:
            if paused:
                gc.enable()

    def _transform(self, chunk: RowChunk) -> ChunkResult:
        numbers, rows = chunk.row_numbers, chunk.rows
        if len(numbers) != len(rows):
            raise ValueError(f"chunk has {len(numbers)} row numbers for {len(rows)} rows")
        phone_index = self._phone_index
        # Any: a str for every row outside `careful`, which is what the fast loop relies on
        phones: list[Any] = self._phones.normalize_many([cells[phone_index] for cells in rows])
        payload = [
            convert_column(convert, [cells[index] for cells in rows])
            for _, index, convert, _ in self._payload
        ]
        policy = [
            convert_column(convert, [cells[index] for cells in rows], shared=name in _SCALAR)
            for name, index, convert in self._policy
        ]
        fixed_problem = self._window_problem(self._fixed) if self._check_times else None
        # Rows that need the careful path; all others are accepted straight from the columns.
        careful: set[int] = set().union(*(column.bad for column in payload))
        careful.update(i for i, phone in enumerate(phones) if type(phone) is not str)
        if chunk.extra:
            careful.update(i for i, row in enumerate(numbers) if row in chunk.extra)
        if policy or fixed_problem is not None:
            careful = set(range(len(rows)))

        result = ChunkResult()
        items, keys, item_rows = result.items, list[int](), list[int]()
        key_of = self._dedupe.keys
        names = [name for name, *_ in self._payload]
        fixed = self._fixed
        columns = [column.values for column in payload]
        value_rows = list(zip(*columns, strict=True)) if columns else [()] * len(rows)
        dicts = _dicts_by_column(names, columns, len(rows))
        begin = 0
        for stop in [*sorted(careful), len(rows)]:
            if begin < stop:  # a run of plain rows: items made by one C-level map
                copies = map(dict.copy, repeat(fixed, stop - begin))
                span = slice(begin, stop)
                items.extend(map(CallItem, numbers[span], phones[span], dicts[span], copies))
                keys.extend(key_of(phones[span], value_rows[span]))
                item_rows.extend(numbers[span])
            if stop < len(rows):
                outcome = self._careful(
                    chunk,
                    stop,
                    phones[stop],
                    payload=payload,
                    policy=policy,
                    fixed_problem=fixed_problem,
                )
                if isinstance(outcome, Rejection):
                    result.rejections.append(outcome)
                else:
                    items.append(outcome[0])
                    keys.extend(key_of([outcome[0].phone], [outcome[1]]))
                    item_rows.append(outcome[0].row)
            begin = stop + 1
        firsts = self._dedupe.first_rows(keys, item_rows)
        if firsts.count(None) < len(firsts):  # some rows repeat earlier ones
            result.duplicates = [
                Duplicate(row, first)
                for row, first in zip(item_rows, firsts, strict=True)
                if first is not None
            ]
            result.items = list(compress(items, [first is None for first in firsts]))
        return result

    def _careful(
        self,
        chunk: RowChunk,
        i: int,
        phone: str | PhoneProblem,
        *,
        payload: list[Column],
        policy: list[Column],
        fixed_problem: tuple[str, str] | None,
    ) -> Rejection | tuple[CallItem, tuple[Any, ...]]:
        """One row, checked in order: shape, phone, payload fields, policy, call window.

        Returns the rejection, or the item with the values its dedupe key is made of.
        """
        row = chunk.row_numbers[i]
        if not isinstance(phone, str) or (chunk.extra and row in chunk.extra):
            return self._shape_or_phone_problem(chunk, i, phone)
        values = self._row_values(row, i, self._payload, payload)
        if isinstance(values, Rejection):
            return values
        rules = self._row_values(row, i, self._policy, policy)
        if isinstance(rules, Rejection):
            return rules
        rules = {**self._fixed, **rules}
        problem = self._window_problem(rules) if self._per_row_times else fixed_problem
        if problem is not None:
            return Rejection(row, None, *problem)
        # the same values in config order, a marker where an optional field was empty, and
        # the per-row policy (the fixed part is the same for every row, so it is left out)
        key = tuple(values.get(name, EMPTY) for name, *_ in self._payload)
        if self._policy:
            key += (repr(rules),)
        return CallItem(row, phone, values, rules), key

    def _shape_or_phone_problem(
        self, chunk: RowChunk, i: int, phone: str | PhoneProblem
    ) -> Rejection:
        row, cells = chunk.row_numbers[i], chunk.rows[i]
        if chunk.extra and row in chunk.extra:
            return Rejection(
                row,
                None,
                codes.EXTRA_CELLS,
                f"the record has {len(chunk.extra[row])} non-empty cell(s) beyond the last "
                f"header column, so its columns may be shifted; fix the row in the file",
            )
        assert not isinstance(phone, str)
        if not any(c.strip() for c in cells):
            return Rejection(row, None, codes.EMPTY_ROW, "the record is empty")
        return Rejection(row, self._header[self._phone_index], phone.code, phone.message)

    def _row_values(
        self, row: int, i: int, fields: Sequence[tuple[Any, ...]], columns: list[Column]
    ) -> dict[str, Any] | Rejection:
        """Row ``i``'s converted cells of ``fields`` (payload or policy), or the first problem.

        A field tuple is ``(name, index, convert[, required])``; an empty optional cell is
        left out of the result.
        """
        values: dict[str, Any] = {}
        for spec, column in zip(fields, columns, strict=True):
            name, index = spec[0], spec[1]
            value = column.values[i]
            if type(value) is FieldError:
                return Rejection(row, self._header[index], value.code, value.message)
            if value is not EMPTY:
                values[name] = value
            elif len(spec) > 3 and spec[3]:
                return Rejection(
                    row,
                    self._header[index],
                    codes.PAYLOAD_MISSING,
                    f"payload field {name!r} is required and the cell is empty",
                )
        return values

    def _window_problem(self, policy: dict[str, Any]) -> tuple[str, str] | None:
        start_text, finish_text = policy.get("startDateTime"), policy.get("finishDateTime")
        start = datetime.fromisoformat(start_text) if start_text else None
        finish = datetime.fromisoformat(finish_text) if finish_text else None
        if start and finish and start >= finish:
            return codes.POLICY_WINDOW, f"startDateTime {start_text} is not before {finish_text}"
        if finish and finish <= self.now:
            return codes.POLICY_IN_PAST, f"finishDateTime {finish_text} has already passed"
        if start and start < self.now and not self._allow_past:
            return (
                codes.POLICY_IN_PAST,
                f"startDateTime {start_text} lies in the past (set policy.allow_start_in_past "
                f"to allow it)",
            )
        return None


def _dicts_by_column(names: list[str], columns: list[list[Any]], size: int) -> list[dict[str, Any]]:
    """One payload dict per row, filled a column at a time (cheaper than a dict(zip()) per row;
    the rows of the careful path get their own dict instead)."""
    dicts: list[dict[str, Any]] = [{} for _ in range(size)]
    for name, values in zip(names, columns, strict=True):
        for values_dict, value in zip(dicts, values, strict=True):
            values_dict[name] = value
    return dicts
