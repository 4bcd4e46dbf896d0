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
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import compress, repeat
from typing import Any

import numpy as np
import numpy.typing as npt

from pipeline.config import Config
from pipeline.errors import ConfigError, InputFileError
from pipeline.records import CallItem, Duplicate, Rejection, RowChunk, header_key
from pipeline.transform import codes
from pipeline.transform.columns import EMPTY, Column, convert_column
from pipeline.transform.dedupe import Deduper
from pipeline.transform.fields import CONVERTERS, POLICY_CONVERTERS, FieldError
from pipeline.transform.listed_rows import Unlisted, listed_rows, merged, suppressed_rejection
from pipeline.transform.phones import PhoneNormalizer, PhoneProblem
from pipeline.transform.timezones_rules import CallingRules, Decided

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


# rows, keys, rejections as (row, column, code, message), items as (phones, payloads, policies,
# zone sources, given policies)
PackedClassified = tuple[
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
    list[tuple[int, str | None, str, str]],
    tuple[list[str], list[dict[str, Any]], list[dict[str, Any]], list[Any], list[Any]] | None,
    dict[tuple[str, str], int],
    dict[int, str],
]


@dataclass(slots=True)
class Classified:
    """A chunk's verdicts before the in-file dedupe (see :meth:`RowTransformer.classify`).

    ``rows[i]`` is an accepted row and ``keys[i]`` its dedupe key (``keys`` is empty under
    ``dedupe.key: none``); ``items[i]`` its call item, or ``items`` is None when they were not
    built. Every row of the chunk is in ``rows`` or ``rejections``.
    """

    rows: list[int] | npt.NDArray[np.int64]
    keys: list[int] | npt.NDArray[np.int64]
    rejections: list[Rejection]
    items: list[CallItem] | None
    # (zone source, zone) → accepted rows, for validate's preview (pipeline.transform.timezones)
    zones: Counter[tuple[str, str]] = field(default_factory=Counter)
    # accepted row → the phone column its number came from, when not the first listed one
    phone_columns: dict[int, str] = field(default_factory=dict)

    def pack(self) -> PackedClassified:
        """A compact form that is cheap to pickle (arrays and plain tuples, no objects)."""
        rows = np.asarray(self.rows, dtype=np.int64)
        keys = np.asarray(self.keys, dtype=np.int64)
        rejections = [(r.row, r.column, r.code, r.message) for r in self.rejections]
        items = None
        if self.items is not None:
            items = (
                [item.phone for item in self.items],
                [item.payload for item in self.items],
                [item.policy for item in self.items],
                [item.zone_source for item in self.items],
                [item.given for item in self.items],
            )
        return rows, keys, rejections, items, dict(self.zones), self.phone_columns

    @classmethod
    def unpack(cls, packed: PackedClassified, shift: int = 0) -> Classified:
        """The classified chunk of :meth:`pack`, its row numbers moved on by ``shift``
        (a part of a file numbers its rows from 1; the merge knows the rows before it)."""
        rows, keys, rejections, items, zones, phone_columns = packed
        if shift:
            rows = rows + shift
            phone_columns = {row + shift: column for row, column in phone_columns.items()}
        out = cls(
            rows,
            keys,
            [Rejection(row + shift, column, code, text) for row, column, code, text in rejections],
            None,
            Counter(zones),
            phone_columns,
        )
        if items is not None:
            out.items = list(map(CallItem, rows.tolist(), *items))
        return out


@dataclass(slots=True)
class ChunkResult:
    """The outcome of one chunk; together the lists hold every row of the chunk once."""

    items: list[CallItem] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    zones: Counter[tuple[str, str]] = field(default_factory=Counter)  # see Classified.zones
    phone_columns: dict[int, str] = field(default_factory=dict)  # see Classified.phone_columns


def resolve_columns(config: Config, header: Sequence[str]) -> dict[str, int]:
    """Map every configured column to its index in ``header``.

    Keys: ``"phone"`` (the first listed phone column present), ``"phone.2"``, ``"phone.3"``...
    (the other listed ones present, in config order), ``"payload.<name>"`` and
    ``"policy.<field>"``. A missing column raises
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
    hits = list(dict.fromkeys(index[header_key(p)] for p in phones if header_key(p) in index))
    if not hits:
        missing.append(f"columns.phone ({' or '.join(repr(p) for p in phones)})")
    else:
        found["phone"] = hits[0]
        # the others, in config order: a row's phone is its first valid non-empty one
        found.update({f"phone.{n}": hit for n, hit in enumerate(hits[1:], start=2)})
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
        suppressed: frozenset[str] | None = None,
    ) -> None:
        self.now = now
        # Phones on a do-not-call list (validate: rejected ``suppressed``). None for upload,
        # whose ledger checks its list in the planning transaction and records the match.
        self._suppressed = suppressed or None
        self._columns = resolve_columns(config, header)
        self._phone_index = self._columns["phone"]
        self._phone_fallbacks = [i for k, i in self._columns.items() if k.startswith("phone.")]
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
        self._calling = CallingRules.from_config(config, now=now)

    def transform(self, chunk: RowChunk) -> ChunkResult:
        """Classify every row of ``chunk``.

        The work goes column by column (each distinct phone or cell converted once, see
        :mod:`.columns`); only rows with a problem, an empty optional cell or per-row policy
        take the row-by-row path, which decides in the documented order.
        """
        numbers, rows = chunk.row_numbers, chunk.rows
        if len(numbers) != len(rows):
            raise ValueError(f"chunk has {len(numbers)} row numbers for {len(rows)} rows")
        return self.settle(
            self.classify(
                numbers,
                lambda index: [cells[index] for cells in rows],
                rows.__getitem__,
                chunk.extra,
            )
        )

    def transform_columns(
        self,
        first_row: int,
        columns: Sequence[Sequence[str]],
        extra: dict[int, list[str]] | None = None,
    ) -> ChunkResult:
        """:meth:`transform` for a chunk given column by column (``columns[c][i]`` is the cell
        under ``header[c]`` of row ``first_row + i``), as the parallel readers produce it."""
        return self.settle(self.classify_columns(first_row, columns, extra))

    def classify_columns(
        self,
        first_row: int,
        columns: Sequence[Sequence[str]],
        extra: dict[int, list[str]] | None = None,
        *,
        items: bool = True,
    ) -> Classified:
        """:meth:`classify` for a chunk given column by column (see :meth:`transform_columns`)."""
        size = len(columns[0]) if columns else 0
        return self.classify(
            range(first_row, first_row + size),
            columns.__getitem__,
            lambda i: [column[i] for column in columns],
            extra or {},
            items=items,
        )

    def classify(
        self,
        numbers: Sequence[int],
        column: Callable[[int], Sequence[str]],
        cells_of: Callable[[int], Sequence[str]],
        extra: dict[int, list[str]],
        *,
        items: bool = True,
    ) -> Classified:
        """Every row's verdict before the in-file dedupe: rejected, or accepted with its key.

        ``column(c)`` gives the cells of header column ``c`` for all rows, ``cells_of(i)`` the
        cells of row ``i`` (only rejected rows need it). With ``items=False`` the accepted rows
        are counted and keyed but no :class:`CallItem` is built: what a dry run that only
        counts needs. Pure: the same rows give the same verdicts in any process.
        """
        # A chunk allocates tens of thousands of containers and no reference cycles; with the
        # collector on, it would run ~50 times per chunk over objects that are all alive
        # (measured: a quarter of the transform's time). Paused, it runs once afterwards.
        paused = gc.isenabled()
        gc.disable()
        try:
            return self._classify(numbers, column, cells_of, extra, items)
        finally:
            if paused:
                gc.enable()

    def settle(self, classified: Classified) -> ChunkResult:
        """The in-file dedupe of a classified chunk; chunks must come in file order."""
        result = ChunkResult(
            rejections=classified.rejections,
            zones=classified.zones,
            phone_columns=classified.phone_columns,
        )
        items = classified.items if classified.items is not None else []
        if classified.phone_columns and items:  # the rows whose phone is not the first column's
            used = classified.phone_columns.get
            for item in items:
                item.phone_column = used(item.row)
        firsts = self._dedupe.first_rows(classified.keys, classified.rows)
        if firsts.count(None) < len(firsts):  # some rows repeat earlier ones
            result.duplicates = [
                Duplicate(row, first)
                for row, first in zip(classified.rows, firsts, strict=True)
                if first is not None
            ]
            if items:
                items = list(compress(items, [first is None for first in firsts]))
        result.items = items
        return result

    def settle_count(self, classified: Classified) -> int:
        """:meth:`settle` when only counts matter: the number of duplicate rows."""
        return self._dedupe.count_repeats(classified.keys, classified.rows)

    def _classify(
        self,
        numbers: Sequence[int],
        column: Callable[[int], Sequence[str]],
        cells_of: Callable[[int], Sequence[str]],
        extra: dict[int, list[str]],
        build: bool,
    ) -> Classified:
        # Any: a str for every row outside `careful`, which is what the fast loop relies on
        phones: list[Any] = self._phones.normalize_many(column(self._phone_index))
        # row → phone column, for rows whose number (or reported problem) is not the first's
        phone_cols = self._fall_back(phones, column) if self._phone_fallbacks else {}
        if self._suppressed is not None:  # listed rows: rejected here, the rest stays plain
            listed = listed_rows(phones, numbers, extra, self._suppressed)
            if listed:
                rest = Unlisted.of(listed, numbers, phones, phone_cols, column, cells_of)
                out = self._classify_phones(
                    rest.numbers, rest.phones, rest.phone_cols, rest.column, rest.cells_of,
                    extra, build,
                )  # fmt: skip
                col_of, first = phone_cols.get, self._phone_index
                gone = [
                    suppressed_rejection(numbers[i], self._header[col_of(i, first)]) for i in listed
                ]
                out.rejections = merged(gone, out.rejections)
                out.phone_columns = {
                    numbers[i]: self._header[c]
                    for i, c in phone_cols.items()
                    if type(phones[i]) is str
                }
                return out
        return self._classify_phones(numbers, phones, phone_cols, column, cells_of, extra, build)

    def _classify_phones(  # noqa: PLR0917 - the chunk's parts, as _classify holds them
        self,
        numbers: Sequence[int],
        phones: list[Any],
        phone_cols: dict[int, int],
        column: Callable[[int], Sequence[str]],
        cells_of: Callable[[int], Sequence[str]],
        extra: dict[int, list[str]],
        build: bool,
    ) -> Classified:
        size = len(numbers)
        payload = [convert_column(convert, column(index)) for _, index, convert, _ in self._payload]
        policy = [
            convert_column(convert, column(index), shared=name in _SCALAR)
            for name, index, convert in self._policy
        ]
        fixed_problem = self._window_problem(self._fixed) if self._check_times else None
        # Rows that need the careful path; all others are accepted straight from the columns.
        careful = self._careful_rows(numbers, phones, payload, extra)
        if policy or fixed_problem is not None:
            careful = set(range(size))
        decided = self._decide_plain(phones, careful)

        out = Classified([], [], [], None)
        out.phone_columns = {
            numbers[i]: self._header[c] for i, c in phone_cols.items() if type(phones[i]) is str
        }
        names = [name for name, *_ in self._payload]
        fixed = self._fixed
        columns = [converted.values for converted in payload]
        ordered = sorted(careful)
        # The plain rows (all but the careful ones) are taken out of every column at once:
        # one C-level compress per column instead of a slice per run between careful rows.
        plain_rows = list(numbers)
        pick: Callable[[Sequence[Any]], list[Any]] = list
        if ordered:
            mask = [True] * size
            for i in ordered:
                mask[i] = False
            plain_rows = list(compress(numbers, mask))

            def pick(values: Sequence[Any]) -> list[Any]:
                return list(compress(values, mask))

        plain_phones, plain_columns = pick(phones), [pick(values) for values in columns]
        keys = self._dedupe.keys_by_column(plain_phones, plain_columns)
        items: list[CallItem] | None = None
        if build:
            dicts = _dicts_by_column(names, plain_columns, len(plain_rows))
            if decided is not None:  # zones and windows decided up front
                plain = pick(decided)
                out.zones.update(_zone_counts(plain))
                items = _decided_items(plain_rows, plain_phones, dicts, plain, fixed)
            else:
                copies = map(dict.copy, repeat(fixed, len(plain_rows)))
                items = list(map(CallItem, plain_rows, plain_phones, dicts, copies))
        elif decided is not None:
            out.zones.update(_zone_counts(pick(decided)))
        late = self._careful_pass(
            out, ordered, numbers, phones, phone_cols, cells_of, extra,
            payload=payload, policy=policy, fixed_problem=fixed_problem,
        )  # fmt: skip
        out.rows, out.keys, out.items = plain_rows, keys, items
        if late:
            self._join_late(out, late)
        return out

    def _careful_pass(  # noqa: PLR0917 - the chunk's parts, as _classify_phones holds them
        self,
        out: Classified,
        ordered: list[int],
        numbers: Sequence[int],
        phones: list[Any],
        phone_cols: dict[int, int],
        cells_of: Callable[[int], Sequence[str]],
        extra: dict[int, list[str]],
        *,
        payload: list[Column],
        policy: list[Column],
        fixed_problem: tuple[str, str] | None,
    ) -> list[tuple[CallItem, tuple[Any, ...]]]:
        """The careful rows (``ordered``, positions in the chunk): rejections go to ``out``;
        returns the rows that pass, with their dedupe values."""
        late: list[tuple[CallItem, tuple[Any, ...]]] = []
        for stop in ordered:
            phone, row = phones[stop], numbers[stop]
            if (
                type(phone) is PhoneProblem
                and phone.code != codes.PHONE_MISSING
                and not (extra and row in extra)
            ):
                # what _careful decides, without its steps: a cell that holds something
                # is no empty row, so the phone's problem is the row's
                column_name = self._header[phone_cols.get(stop, self._phone_index)]
                out.rejections.append(Rejection(row, column_name, phone.code, phone.message))
                continue
            outcome = self._careful(
                row,
                cells_of,
                stop,
                extra,
                phone,
                phone_col=phone_cols.get(stop, self._phone_index),
                payload=payload,
                policy=policy,
                fixed_problem=fixed_problem,
            )
            if isinstance(outcome, Rejection):
                out.rejections.append(outcome)
                continue
            if outcome[0].zone_source is not None:
                out.zones[(outcome[0].zone_source, outcome[0].policy["gmtZone"])] += 1
            late.append(outcome)
        return late

    def _join_late(self, out: Classified, late: list[tuple[CallItem, tuple[Any, ...]]]) -> None:
        """Put the careful rows that pass among the plain ones, in row order (the dedupe
        reads a chunk's rows in file order)."""
        rows = [*out.rows, *(item.row for item, _ in late)]
        order = sorted(range(len(rows)), key=rows.__getitem__)
        out.rows = [rows[j] for j in order]
        late_keys = self._dedupe.keys([item.phone for item, _ in late], [v for _, v in late])
        if late_keys:
            keys = [*out.keys, *late_keys]
            out.keys = [keys[j] for j in order]
        if out.items is not None:
            items = [*out.items, *(item for item, _ in late)]
            out.items = [items[j] for j in order]

    def _careful_rows(
        self,
        numbers: Sequence[int],
        phones: list[Any],
        payload: list[Column],
        extra: dict[int, list[str]],
    ) -> set[int]:
        """Rows with a problem of phone, payload or shape."""
        careful: set[int] = set().union(*(converted.bad for converted in payload))
        careful.update(i for i, phone in enumerate(phones) if type(phone) is not str)
        if extra:
            careful.update(i for i, row in enumerate(numbers) if row in extra)
        return careful

    def _decide_plain(self, phones: list[Any], careful: set[int]) -> list[Any] | None:
        """Zone and window of every row up front, when some rows may take the plain path
        (``policy.timezone``/``window`` set); a row they reject is added to ``careful``."""
        if self._calling is None or len(careful) == len(phones):
            return None
        decided = self._calling.apply_many(phones, self._fixed)
        careful.update(i for i, d in enumerate(decided) if type(d) is not Decided)
        return decided

    def _careful(
        self,
        row: int,
        cells_of: Callable[[int], Sequence[str]],
        i: int,
        extra: dict[int, list[str]],
        phone: str | PhoneProblem,
        *,
        phone_col: int,
        payload: list[Column],
        policy: list[Column],
        fixed_problem: tuple[str, str] | None,
    ) -> Rejection | tuple[CallItem, tuple[Any, ...]]:
        """One row, checked in order: shape, phone, payload fields, policy, call window.

        Returns the rejection, or the item with the values its dedupe key is made of.
        """
        if not isinstance(phone, str) or (extra and row in extra):
            return self._shape_or_phone_problem(row, cells_of(i), extra, phone, phone_col)
        values = self._row_values(row, i, self._payload, payload)
        if isinstance(values, Rejection):
            return values
        rules = self._row_values(row, i, self._policy, policy)
        if isinstance(rules, Rejection):
            return rules
        own, rules = rules, {**self._fixed, **rules}
        problem = self._window_problem(rules) if self._per_row_times else fixed_problem
        if problem is not None:
            return Rejection(row, None, *problem)
        zone_source = given = None
        if self._calling is not None:  # zone and calling window (pipeline.transform.timezones)
            decided = self._calling.apply(phone, rules, own=own)
            if isinstance(decided, tuple):
                return Rejection(row, None, *decided)
            if decided.policy is not rules:
                given = rules
            rules, zone_source = decided.policy, decided.zone_source
        # the same values in config order, a marker where an optional field was empty, and
        # the per-row policy (the fixed part is the same for every row, so it is left out)
        key = tuple(values.get(name, EMPTY) for name, *_ in self._payload)
        if self._policy:
            key += (repr(rules),)
        return CallItem(row, phone, values, rules, zone_source, given), key

    def _shape_or_phone_problem(
        self,
        row: int,
        cells: Sequence[str],
        extra: dict[int, list[str]],
        phone: str | PhoneProblem,
        phone_col: int,
    ) -> Rejection:
        if extra and row in extra:
            return Rejection(
                row,
                None,
                codes.EXTRA_CELLS,
                f"the record has {len(extra[row])} non-empty cell(s) beyond the last "
                f"header column, so its columns may be shifted; fix the row in the file",
            )
        if not any(c.strip() for c in cells):
            return Rejection(row, None, codes.EMPTY_ROW, "the record is empty")
        if isinstance(phone, str):  # not reached: a valid phone comes here for its extra cells
            raise TypeError(f"row {row}: no problem to report")
        return Rejection(row, self._header[phone_col], phone.code, phone.message)

    def _fall_back(
        self, phones: list[Any], column: Callable[[int], Sequence[str]]
    ) -> dict[int, int]:
        """Per cell, not per header: a row whose first phone column gives no valid number
        takes the first valid one of the other listed columns (``phones`` is updated). Returns
        row index → the column its phone (or, when none is valid, its reported problem: the
        first non-empty cell's) came from, for the rows where that is not the first column."""
        used: dict[int, int] = {}
        left = [i for i, phone in enumerate(phones) if type(phone) is not str]
        for index in self._phone_fallbacks:
            if not left:
                break
            cells = column(index)
            tried = self._phones.normalize_many([cells[i] for i in left])
            still: list[int] = []
            for i, phone in zip(left, tried, strict=True):
                if isinstance(phone, str):
                    phones[i], used[i] = phone, index
                    continue
                still.append(i)
                if phones[i].code == codes.PHONE_MISSING and phone.code != codes.PHONE_MISSING:
                    phones[i], used[i] = phone, index  # the first non-empty cell's problem
            left = still
        return used

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


def _zone_counts(decided: list[Any]) -> Counter[tuple[str, str]]:
    """(source, zone) → rows among decided plain rows, for validate's preview."""
    return Counter((d.zone_source, d.policy["gmtZone"]) for d in decided if d.zone_source)


def _decided_items(
    rows: Sequence[int],
    phones: list[Any],
    payloads: list[dict[str, Any]],
    decided: list[Any],
    fixed: dict[str, Any],
) -> list[CallItem]:
    """Call items of plain rows whose zone and window were decided (see CallingRules)."""
    return [
        CallItem(row, phone, payload, d.policy, d.zone_source, None if d.policy is fixed else fixed)
        for row, phone, payload, d in zip(rows, phones, payloads, decided, strict=True)
    ]


def _dicts_by_column(names: list[str], columns: list[list[Any]], size: int) -> list[dict[str, Any]]:
    """One payload dict per row, filled a column at a time (cheaper than a dict(zip()) per row;
    the rows of the careful path get their own dict instead)."""
    dicts: list[dict[str, Any]] = [{} for _ in range(size)]
    for name, values in zip(names, columns, strict=True):
        for values_dict, value in zip(dicts, values, strict=True):
            values_dict[name] = value
    return dicts
