"""Request bodies of frozen batches: a batch's rows as stored, and its body rebuilt safely.

Usage::

    work = ledger.sending.claim_sendable(lease, limit=1)[0]      # a BatchWork
    body = work.body(canonical_body)       # the exact bytes frozen under work.request_key

The body is not stored; it is rebuilt from the rows' canonical JSON with the same ``body_for``
function and checked against the digest frozen with the key before every send, so a changed
encoder can never put a second body under the same key.

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
from typing import Any, NamedTuple

from pipeline.errors import LedgerError
from pipeline.ledger.store.keys import body_digest, canonical_json
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
