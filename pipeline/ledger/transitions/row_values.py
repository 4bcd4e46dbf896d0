"""The values planning inserts for each input row: canonical JSON, row key, state, reason.

Usage::

    values = chunk_values(records, fingerprint, (input_id, run_id, campaign_id))
    values[0][ROW_COLS.index("payload")]        # '{"debt":120,"name":"Client 7"}'
    prepared = prepare_chunk(records, fingerprint, base)   # sorted, with in-file dup links
    mark_repeats(conn, values, input_id=…, campaign_id=…, since=…)   # cross-run duplicates

Each row is a list in :data:`ROW_COLS` order, edited in place by planning (id, duplicate
marks, batch) before it is inserted: one list per row, no copies. Everything but
:func:`mark_repeats` works without the ledger, so the uploader runs it in its reader process.

Why the payload JSON is spliced here: ``json.JSONEncoder.encode`` costs ~1.4 µs per small
dict, most of a row's planning cost in Python. A payload whose values are plain strings,
integers, booleans or None (nearly all rows) is written from its sorted keys' prefixes and
``json.encoder.encode_basestring`` (the encoder's own escaping), byte-identical to
:func:`~pipeline.ledger.store.keys.canonical_json`; anything else (floats, lists, nested objects)
goes through the encoder itself. A test holds the two together on varied payloads.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from operator import attrgetter
from typing import Any

import sqlalchemy as sa

from pipeline.collector import gc_paused
from pipeline.ledger.store import schema as t
from pipeline.ledger.store.keys import canonical_json, row_key
from pipeline.ledger.store.states import BATCHED, DUPLICATE, PLANNED, REJECTED, SENT
from pipeline.records import CallItem, Duplicate, Rejection

PlanRecord = CallItem | Rejection | Duplicate
_ROW = attrgetter("row")

# Column order of a row's values; planning fills "id" and "batch_id" (None until then).
ROW_COLS = (
    "id",
    "input_id",
    "row_number",
    "run_id",
    "campaign_id",
    "row_key",
    "phone",
    "payload",
    "policy",
    "state",
    "reason_code",
    "reason",
    "duplicate_of",
    "batch_id",
    "zone_source",
    "phone_column",
)
ID, ROW_NUMBER, KEY, PHONE, PAYLOAD, POLICY = 0, 2, 5, 6, 7, 8
STATE, REASON_CODE, REASON, DUP_OF, BATCH, ZONE_SOURCE, PHONE_COLUMN = 9, 10, 11, 12, 13, 14, 15

_STR: Any = json.encoder.encode_basestring  # the encoder's escaping (C), ensure_ascii=False
_INT = int.__repr__
_CONSTANTS: dict[Any, str] = {None: "null", True: "true", False: "false"}


@lru_cache(maxsize=256)
def _members(keys: tuple[Any, ...]) -> tuple[tuple[str, str], ...] | None:
    """The keys in the encoder's order, each with the text before its value (``{"k":``,
    ``,"k":``); None when a key is not a plain string (left to the encoder)."""
    if any(type(key) is not str for key in keys):
        return None
    return tuple(
        (key, ("{" if n == 0 else ",") + _STR(key) + ":") for n, key in enumerate(sorted(keys))
    )


def payload_json(payload: dict[str, Any]) -> str:
    """:func:`~pipeline.ledger.store.keys.canonical_json` of a payload, spliced when it is flat."""
    if not payload:
        return "{}"
    members = _members(tuple(payload))
    if members is None:
        return canonical_json(payload)
    parts: list[str] = []
    add = parts.append
    for key, before in members:
        value = payload[key]
        kind = type(value)
        if kind is str:
            add(before + _STR(value))
        elif kind is int:
            add(before + _INT(value))
        elif value is None or kind is bool:
            add(before + _CONSTANTS[value])
        else:  # float (NaN, exponent forms), list, dict: exactly as the encoder writes them
            return canonical_json(payload)
    add("}")
    return "".join(parts)


@lru_cache(maxsize=256)
def _policy_json_cached(items: tuple[tuple[str, Any], ...]) -> str:
    return canonical_json(dict(items))


def policy_json(policy: dict[str, Any]) -> str:
    """Canonical JSON of a policy; most rows of a file share one, so flat ones are cached."""
    if not policy:
        return "{}"
    items = tuple(policy.items())
    try:
        return _policy_json_cached(items)
    except TypeError:  # a list or dict value (allowedDays, allowedTime) is not hashable
        return canonical_json(policy)


@dataclass(slots=True)
class PreparedChunk:
    """A chunk of records turned into row values (file order) and in-file duplicate links
    (row → the row it repeats), ready for the ledger; made by :func:`prepare_chunk`,
    possibly in another process (it pickles cheaply: lists of strings and ints)."""

    values: list[list[Any]]
    dup_links: dict[int, int]

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as the columns that vary, one list each: a third cheaper to write for the
        # forked reader than a list per row, as cheap to read back for the uploader.
        first = self.values[0] if self.values else [None] * len(ROW_COLS)
        base = (first[1], first[3], first[4])  # input, run, campaign: the same on every row
        columns = [[row[i] for row in self.values] for i in _VARYING]
        return (_from_columns, (base, columns, self.dup_links))


_VARYING = (
    ROW_NUMBER, KEY, PHONE, PAYLOAD, POLICY, STATE, REASON_CODE, REASON, ZONE_SOURCE, PHONE_COLUMN
)  # fmt: skip


def _from_columns(
    base: tuple[Any, Any, Any], columns: list[list[Any]], dup_links: dict[int, int]
) -> PreparedChunk:
    input_id, run_id, campaign_id = base
    rows = zip(*columns, strict=True)
    # fmt: off
    values = [
        [None, input_id, row, run_id, campaign_id, key, phone, payload, policy, state, code,
         reason, None, None, zone, phone_column]
        for row, key, phone, payload, policy, state, code, reason, zone, phone_column in rows
    ]
    # fmt: on
    return PreparedChunk(values, dup_links)


def prepare_chunk(
    records: Sequence[PlanRecord], fingerprint: str, base: tuple[Any, ...]
) -> PreparedChunk:
    """The records of a chunk, sorted by row, as values for the ledger (see chunk_values)."""
    with gc_paused():
        todo = sorted(records, key=_ROW)
        links = {r.row: r.duplicate_of for r in todo if isinstance(r, Duplicate)}
        return PreparedChunk(chunk_values(todo, fingerprint, base), links)


def chunk_values(
    records: Sequence[PlanRecord], fingerprint: str, base: tuple[Any, ...]
) -> list[list[Any]]:
    """One value list per record (``ROW_COLS`` order; ``base`` = input, run, campaign ids)."""
    input_id, run_id, campaign_id = base
    out: list[list[Any]] = []
    add = out.append
    for rec in records:
        if isinstance(rec, CallItem):
            payload, policy = payload_json(rec.payload), policy_json(rec.policy)
            # the identity is the operator's policy, without the zone and window the tool
            # decided (pipeline.transform.timezones_rules): re-runs stay repeats
            given = policy if rec.given is None else policy_json(rec.given)
            key = row_key(fingerprint, rec.phone, payload, given)
            add([None, input_id, rec.row, run_id, campaign_id, key, rec.phone, payload, policy,
                 PLANNED, None, None, None, None, rec.zone_source, rec.phone_column])  # fmt: skip
        elif isinstance(rec, Rejection):
            where = f"{rec.column}: " if rec.column else ""
            add([None, input_id, rec.row, run_id, campaign_id, None, None, None, None,
                 REJECTED, rec.code, where + rec.message, None, None, None, None])  # fmt: skip
        else:
            why = f"repeats row {rec.duplicate_of} of the same file"
            add([None, input_id, rec.row, run_id, campaign_id, None, None, None, None,
                 DUPLICATE, "duplicate", why, None, None, None, None])  # fmt: skip
    return out


# Bound parameters per IN (...) query, far below SQLite's 32,766.
_LOOKUP_CHUNK = 5_000


def mark_repeats(
    conn: sa.Connection,
    values: list[list[Any]],
    *,
    input_id: int,
    campaign_id: int,
    since: datetime,
) -> int:
    """Turn rows that repeat a row of another input (same row key: phone, payload, policy)
    still on its way or sent at/after ``since`` into duplicates of it; returns how many."""
    i = t.inputs.c
    others = conn.execute(
        sa.select(i.id).where(i.campaign_id == campaign_id, i.id != input_id).limit(1)
    ).first()
    if others is None:
        return 0  # the campaign's first file: nothing it could repeat
    wanted = {v[KEY]: n for n, v in enumerate(values) if v[STATE] == PLANNED}
    # Looked up by phone (the one indexed column both `ledger phone` and this need), then
    # matched on the row key, which also covers payload and policy.
    phones = sorted({values[n][PHONE] for n in wanted.values()})
    r = t.rows.c
    live = sa.or_(r.state.in_((PLANNED, BATCHED)), sa.and_(r.state == SENT, r.sent_at >= since))
    earliest: dict[str, int] = {}
    for n in range(0, len(phones), _LOOKUP_CHUNK):
        query = sa.select(r.row_key, r.id).where(
            r.phone.in_(phones[n : n + _LOOKUP_CHUNK]), r.input_id != input_id, live
        )
        for key, row_id in conn.execute(query):
            if key in wanted and (key not in earliest or row_id < earliest[key]):
                earliest[key] = row_id
    for key, earlier in earliest.items():
        value = values[wanted[key]]
        value[STATE], value[REASON_CODE], value[DUP_OF] = DUPLICATE, "duplicate", earlier
        value[REASON] = (
            f"same phone, payload and policy as ledger row {earlier} "
            f"(another file, sent or still on its way)"
        )
    return len(earliest)
