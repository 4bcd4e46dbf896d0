"""Frozen batches: creating one, loading its items back, and rebuilding its body safely.

A batch is frozen once: its rows (in body order), request key, generation and body digest are
written in one transaction and never change. The body is not stored; it is rebuilt from the
rows' canonical JSON with the same ``body_for`` function and checked against the digest before
every send, so a changed encoder can never put a second body under the same key.

When ``body_for`` is :func:`canonical_body` (the encoding of ``pipeline.api.encode_add_phones``:
sorted keys, no spaces, UTF-8), the body is spliced from the stored canonical JSON texts
without decoding them: a canonical text of a value is exactly what the encoder writes for it.
Any other ``body_for`` gets the decoded :class:`CallItem` objects.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from itertools import starmap
from typing import Any, NamedTuple

import sqlalchemy as sa

from pipeline.errors import LedgerError
from pipeline.ledger.store import schema as t
from pipeline.ledger.store.database import (
    bulk_insert,
    db_value,
    driver_sql,
    inserted_id,
    reserve_ids,
)
from pipeline.ledger.store.keys import body_digest, canonical_json, request_key
from pipeline.ledger.store.states import B_PLANNED, BATCHED
from pipeline.records import CallItem

BodyFor = Callable[[Sequence[CallItem]], bytes]


def _load(text: str) -> dict[str, Any]:
    value: dict[str, Any] = {} if text == "{}" else json.loads(text)
    return value


@lru_cache(maxsize=256)
def _policy_cached(text: str) -> dict[str, Any]:
    return _load(text)


def _load_policy(text: str) -> dict[str, Any]:
    # Most rows share one policy: decode it once; a copy, so no two items share a dict.
    return dict(_policy_cached(text))


class PlannedRow(NamedTuple):
    """A row as stored, enough to rebuild its API item.

    A named tuple rather than a frozen dataclass: planning and claiming make one per row, and
    a tuple is made in a third of the time.
    """

    id: int
    row_number: int
    phone: str
    payload: str
    policy: str

    def item(self) -> CallItem:
        """The :class:`CallItem` this row was planned from (canonical key order)."""
        return CallItem(
            row=self.row_number,
            phone=self.phone,
            payload=_load(self.payload),
            policy=_load_policy(self.policy),
        )


# The encoder of api.encode_add_phones (canonical_json's, without its "{}" for None).
_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_body(items: Sequence[CallItem]) -> bytes:
    """The ``addPhones`` body of ``items`` in the canonical encoding (sorted keys, UTF-8).

    Byte for byte ``pipeline.api.encode_add_phones([i.to_api() for i in items])`` (a test holds
    the two together). Passed as ``body_for``, it lets the ledger splice bodies from stored
    JSON instead of decoding and re-encoding every row.
    """
    return canonical_json([item.to_api() for item in items]).encode("utf-8")


class _Template:
    """How the elements of rows sharing one policy are spliced together (keys sorted)."""

    __slots__ = ("end", "payload_after", "payload_before", "without_payload")

    def __init__(self, head: str, mid: str, tail: str) -> None:
        start = "{" + (head + "," if head else "")
        before_phone = (mid + "," if mid else "") + '"phone":"'
        self.payload_before = start + '"payload":'
        self.payload_after = "," + before_phone
        self.without_payload = start + before_phone
        self.end = '"' + ("," + tail if tail else "") + "}"


@lru_cache(maxsize=256)
def _template(policy: str) -> _Template | None:
    """The splice template of a policy's rows; most rows of a file share one policy.

    None when the policy itself names "payload" or "phone" (it would override them in
    :meth:`CallItem.to_api`): such rows take the decoding path.
    """
    value = _load(policy)
    if "payload" in value or "phone" in value:
        return None
    members = {key: f"{_JSON.encode(key)}:{_JSON.encode(value[key])}" for key in value}
    keys = sorted(members)
    return _Template(
        ",".join(members[k] for k in keys if k < "payload"),
        ",".join(members[k] for k in keys if "payload" < k < "phone"),
        ",".join(members[k] for k in keys if k > "phone"),
    )


def _spliced(rows: Sequence[PlannedRow]) -> bytes | None:
    """The canonical body of ``rows`` from their stored texts, or None if one cannot be."""
    parts: list[str] = []
    add = parts.append
    for row in rows:
        tpl = _template(row.policy)
        if tpl is None:
            return None
        # Digits need no escaping; anything else is escaped as the encoder would (no quotes).
        phone = row.phone if row.phone.isdigit() else _JSON.encode(row.phone)[1:-1]
        # The payload text is canonical JSON of a dict: "{}" when empty, which to_api() omits.
        if row.payload == "{}":
            add(tpl.without_payload + phone + tpl.end)
        else:
            add(tpl.payload_before + row.payload + tpl.payload_after + phone + tpl.end)
    return ("[" + ",".join(parts) + "]").encode("utf-8")


def rows_body(rows: Sequence[PlannedRow], body_for: BodyFor) -> bytes:
    """The body of ``rows`` (body order): spliced for :func:`canonical_body`, else encoded."""
    if body_for is canonical_body and (body := _spliced(rows)) is not None:
        return body
    return body_for([r.item() for r in rows])


@dataclass(frozen=True, slots=True)
class BatchWork:
    """A batch handed to the uploader: everything needed to send it again byte-identical."""

    id: int
    request_key: str
    generation: int
    body_sha256: str
    attempts: int
    first_sent_at: datetime | None
    rows: tuple[PlannedRow, ...]

    @property
    def row_ids(self) -> tuple[int, ...]:
        """The batch's row ids in body order."""
        return tuple(r.id for r in self.rows)

    @property
    def items(self) -> tuple[CallItem, ...]:
        """The batch's rows as :class:`CallItem` objects (decoded on each access)."""
        return tuple(r.item() for r in self.rows)

    def body(self, body_for: BodyFor) -> bytes:
        """Rebuild the request body and prove it is the one frozen under this key."""
        body = rows_body(self.rows, body_for)
        if body_digest(body) != self.body_sha256:
            raise LedgerError(
                f"batch {self.id} (key {self.request_key}): the rebuilt body does not match "
                f"the digest frozen with its key, so it must not be sent under that key. The "
                f"body encoding changed since the batch was frozen; run `jaicp-pipeline "
                f"reconcile` after the key expires, or restore the previous version."
            )
        return body


def campaign_fingerprint(conn: sa.Connection, campaign_id: int) -> str:
    """The token fingerprint of a campaign of this ledger (part of every request key)."""
    fingerprint: str | None = conn.execute(
        sa.select(t.campaigns.c.fingerprint).where(t.campaigns.c.id == campaign_id)
    ).scalar_one_or_none()
    if fingerprint is None:
        raise LedgerError(f"campaign {campaign_id} is not in this ledger.")
    return fingerprint


# Keys looked up per statement (well below SQLite's limit of bound parameters).
_KEYS_PER_QUERY = 500


def derive_keys(
    conn: sa.Connection, campaign_id: int, wanted: Sequence[tuple[int, str]]
) -> list[tuple[int, str]]:
    """(generation, request key) for batches given as (generation, body sha256).

    The key is :func:`~pipeline.ledger.store.keys.request_key` of the campaign, generation and
    digest. A key this ledger already holds — or one an earlier batch of ``wanted`` takes —
    belongs to an identical batch made before: this one is an intended repeat (or a repeat
    inside one file with ``dedupe.key: none``) and takes the next free generation, so it gets
    a key of its own.
    """
    fingerprint = campaign_fingerprint(conn, campaign_id)
    chosen = [(gen, request_key(fingerprint, gen, digest)) for gen, digest in wanted]
    todo = list(range(len(chosen)))
    taken: set[str] = set()
    while todo:
        candidates = [chosen[i][1] for i in todo]
        used: set[str] = set()
        for start in range(0, len(candidates), _KEYS_PER_QUERY):
            part = candidates[start : start + _KEYS_PER_QUERY]
            used.update(
                conn.execute(
                    sa.select(t.batches.c.request_key).where(t.batches.c.request_key.in_(part))
                ).scalars()
            )
        again: list[int] = []
        for i in todo:
            gen, key = chosen[i]
            if key in used or key in taken:
                gen += 1
                chosen[i] = (gen, request_key(fingerprint, gen, wanted[i][1]))
                again.append(i)
            else:
                taken.add(key)
        todo = again
    return chosen


def new_batch(
    conn: sa.Connection,
    *,
    campaign_id: int,
    rows: Sequence[PlannedRow],
    body_for: BodyFor,
    now: datetime,
    generation: int = 1,
    parent_id: int | None = None,
) -> tuple[int, str, int]:
    """Insert the ``batches`` row of ``rows`` (body order): key, digest, size; nothing else.

    The caller links the rows (``batch_rows``) and marks them batched in the same transaction
    (:func:`insert_batch` does both; planning inserts its new rows already batched). Returns
    (batch id, request key, generation): the generation is ``generation`` unless an identical
    batch already took its key (see :func:`derive_keys`).
    """
    digest = body_digest(rows_body(rows, body_for))
    [(generation, key)] = derive_keys(conn, campaign_id, [(generation, digest)])
    batch_id: int = inserted_id(
        conn.execute(
            sa.insert(t.batches).values(
                campaign_id=campaign_id,
                request_key=key,
                generation=generation,
                parent_id=parent_id,
                body_sha256=digest,
                size=len(rows),
                state=B_PLANNED,
                created_at=now,
            )
        )
    )
    return batch_id, key, generation


_BATCH_COLS = (
    "id",
    "campaign_id",
    "request_key",
    "generation",
    "body_sha256",
    "size",
    "state",
    "created_at",
)


def new_batches(
    conn: sa.Connection,
    *,
    campaign_id: int,
    groups: Sequence[Sequence[PlannedRow]],
    body_for: BodyFor,
    now: datetime,
) -> list[tuple[int, str, int]]:
    """:func:`new_batch` (generation 1, or the next free one) for several groups in one
    statement; returns their (batch id, request key, generation) in order."""
    if not groups:
        return []
    ids = reserve_ids(conn, t.batches, len(groups))
    digests = [body_digest(rows_body(group, body_for)) for group in groups]
    keys = derive_keys(conn, campaign_id, [(1, digest) for digest in digests])
    created = db_value(conn, t.batches.c.created_at, now)
    values = [
        (batch_id, campaign_id, key, gen, digest, len(group), B_PLANNED, created)
        for batch_id, (gen, key), digest, group in zip(ids, keys, digests, groups, strict=True)
    ]
    bulk_insert(conn, t.batches, _BATCH_COLS, values)
    return [(batch_id, key, gen) for batch_id, (gen, key) in zip(ids, keys, strict=True)]


def insert_batch(
    conn: sa.Connection,
    *,
    campaign_id: int,
    rows: Sequence[PlannedRow],
    body_for: BodyFor,
    now: datetime,
    generation: int = 1,
    parent_id: int | None = None,
) -> tuple[int, str, int]:
    """Freeze ``rows`` (body order) into a new batch; returns (batch id, key, generation)."""
    batch_id, key, generation = new_batch(
        conn,
        campaign_id=campaign_id,
        rows=rows,
        body_for=body_for,
        now=now,
        generation=generation,
        parent_id=parent_id,
    )
    bulk_insert(
        conn,
        t.batch_rows,
        ("batch_id", "position", "row_id"),
        [(batch_id, i, r.id) for i, r in enumerate(rows)],
    )
    members = sa.select(t.batch_rows.c.row_id).where(t.batch_rows.c.batch_id == batch_id)
    conn.execute(
        sa.update(t.rows).where(t.rows.c.id.in_(members)).values(state=BATCHED, batch_id=batch_id)
    )
    return batch_id, key, generation


_BATCH_ROWS = (
    "SELECT r.id, r.row_number, r.phone, r.payload, r.policy FROM batch_rows b "
    "JOIN rows r ON r.id = b.row_id WHERE b.batch_id = ? ORDER BY b.position"
)


def load_rows(conn: sa.Connection, batch_id: int) -> list[PlannedRow]:
    """The rows of a batch in body order."""
    # Through the driver cursor (plain text columns, no type processing): SQLAlchemy's
    # per-row result work was most of the cost of claiming a batch of 2,000 rows.
    cursor = conn.connection.cursor()
    try:
        cursor.execute(driver_sql(conn, _BATCH_ROWS), (batch_id,))
        return list(starmap(PlannedRow, cursor.fetchall()))
    finally:
        cursor.close()


def load_work(
    conn: sa.Connection,
    batch: sa.Row[tuple[object, ...]],
    *,
    known: tuple[PlannedRow, ...] | None = None,
) -> BatchWork:
    """A :class:`BatchWork` for a selected ``batches`` row (``known``: its rows, when this
    process froze them; the body digest is still checked before every send)."""
    rows = known if known is not None else load_rows(conn, batch.id)
    return BatchWork(
        id=batch.id,
        request_key=batch.request_key,
        generation=batch.generation,
        body_sha256=batch.body_sha256,
        attempts=batch.attempts,
        first_sent_at=batch.first_sent_at,
        rows=tuple(rows),
    )
