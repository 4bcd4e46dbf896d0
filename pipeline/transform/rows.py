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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pipeline.config import Config
from pipeline.errors import ConfigError, InputFileError
from pipeline.records import CallItem, Duplicate, Rejection, RowChunk, header_key
from pipeline.transform import codes
from pipeline.transform.dedupe import Deduper
from pipeline.transform.fields import CONVERTERS, POLICY_CONVERTERS, FieldError
from pipeline.transform.phones import PhoneNormalizer


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
        self._check_times = bool(
            {"startDateTime", "finishDateTime"} & (set(self._fixed) | set(config.columns.policy))
        )
        self._dedupe = Deduper(config.dedupe.key)
        problem = self._window_problem(self._fixed)
        if problem is not None:
            raise ConfigError(f"policy: {problem[1]}; fix the fixed call policy in the config.")

    def transform(self, chunk: RowChunk) -> ChunkResult:
        """Classify every row of ``chunk``."""
        result = ChunkResult()
        normalize = self._phones.normalize
        extra = chunk.extra
        for row, cells in zip(chunk.row_numbers, chunk.rows, strict=True):
            if extra and row in extra:
                result.rejections.append(
                    Rejection(
                        row,
                        None,
                        codes.EXTRA_CELLS,
                        f"the record has {len(extra[row])} non-empty cell(s) beyond the last "
                        f"header column, so its columns may be shifted; fix the row in the file",
                    )
                )
                continue
            phone = normalize(cells[self._phone_index])
            if not isinstance(phone, str):
                if not any(c.strip() for c in cells):
                    result.rejections.append(
                        Rejection(row, None, codes.EMPTY_ROW, "the record is empty")
                    )
                else:
                    column = self._header[self._phone_index]
                    result.rejections.append(Rejection(row, column, phone.code, phone.message))
                continue
            item = self._build(row, phone, cells, result.rejections)
            if item is None:
                continue
            first = self._dedupe.first_row(item)
            if first is None:
                result.items.append(item)
            else:
                result.duplicates.append(Duplicate(row, first))
        return result

    def _build(
        self, row: int, phone: str, cells: list[str], rejections: list[Rejection]
    ) -> CallItem | None:
        payload: dict[str, Any] = {}
        for name, index, convert, required in self._payload:
            text = cells[index].strip()
            if not text:
                if required:
                    rejections.append(
                        Rejection(
                            row,
                            self._header[index],
                            codes.PAYLOAD_MISSING,
                            f"payload field {name!r} is required and the cell is empty",
                        )
                    )
                    return None
                continue
            try:
                payload[name] = convert(text)
            except FieldError as exc:
                rejections.append(Rejection(row, self._header[index], exc.code, exc.message))
                return None
        policy = dict(self._fixed)
        for name, index, convert in self._policy:
            text = cells[index].strip()
            if text:
                try:
                    policy[name] = convert(text)
                except FieldError as exc:
                    rejections.append(Rejection(row, self._header[index], exc.code, exc.message))
                    return None
        if self._check_times:
            problem = self._window_problem(policy)
            if problem is not None:
                rejections.append(Rejection(row, None, *problem))
                return None
        return CallItem(row=row, phone=phone, payload=payload, policy=policy)

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
