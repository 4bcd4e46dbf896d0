"""Identities: campaign fingerprints, row keys, request keys, canonical JSON.

Usage::

    fp = token_fingerprint(token)                         # "3f1c…" (16 hex), never the token
    row_key(fp, "79161234567", '{"name":"A"}', "{}")      # same row, same campaign → same key
    request_key(fp, 1, body_digest(body))                  # "5b0c…" UUIDv5: derived, not drawn
    new_request_key(clock())                               # "0190d5e2-…" random UUIDv7 (cancels)

Row keys are a 128-bit hash (like a UUIDv5) over the campaign fingerprint, phone and canonical
payload/policy JSON: the same person with the same data in the same campaign is the same row
across runs and files, and different campaigns never share a key.

Request keys of ``addPhones`` batches are **derived**: a UUIDv5 of the campaign fingerprint, the
batch's generation and the sha256 of its exact body. Why: the server keeps a key (and replays
its first reply for the same body) for 24 hours, account-wide. If the ledger is lost — deleted,
or a second ledger by mistake (another working directory) — the same file under the same config
is frozen into the same batches again, which get the same keys, so within those 24 hours the
server replays the jobs it already created instead of calling everyone a second time. A batch
that must go out again on purpose gets a new key because something in the name changes: a
refresh after expiry or a split after a refusal takes generation + 1 (and a refreshed body may
be the old one), a split also changes the body, and an intended repeat of an identical batch
already in this ledger takes the next generation whose key the ledger has not used
(``batches.request_key`` is unique). The fingerprint in the name keeps keys of two campaigns
apart, and the namespace keeps them apart from any other tool's UUIDv5s.

Cancel requests keep random UUIDv7 keys (48-bit millisecond time, then random bits): each is
stored before it is sent and re-sent from the ledger, and none is ever made twice on purpose.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from datetime import datetime
from typing import Any

# Personalisation of the row-key hash: keys of this tool never collide with other hashes.
_ROW_KEY_PERSON = b"jaicp-rowkey-v1"
_FINGERPRINT_CONTEXT = b"jaicp-pipeline campaign fingerprint v1\x00"
# The UUIDv5 namespace of request keys (fixed for good: changing it changes every key, and a
# batch frozen again after a lost ledger would no longer be replayed by the server).
REQUEST_KEY_NAMESPACE = uuid.UUID("6f1d4a52-8a0e-5c3b-9d27-4b1f0e8c7a15")


def token_fingerprint(token: str) -> str:
    """A 16-hex-digit hash prefix of the campaign token: identifies, cannot reveal it."""
    return hashlib.sha256(_FINGERPRINT_CONTEXT + token.encode("utf-8")).hexdigest()[:16]


# One encoder for all calls: json.dumps() with options builds a new encoder every time.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: equal data, equal text, on every machine."""
    if not value and (value is None or isinstance(value, dict)):
        return "{}"
    return _CANONICAL.encode(value)


def row_key(fingerprint: str, phone: str, payload_json: str, policy_json: str) -> str:
    """The stable identity (32 hex) of a row: campaign + phone + canonical payload and policy.

    A 128-bit BLAKE2b digest (the role of a UUIDv5, at a third of its cost per row): the
    fields are joined with newlines, which none of them can contain unescaped.
    """
    name = f"{fingerprint}\n{phone}\n{payload_json}\n{policy_json}"
    return hashlib.blake2b(name.encode("utf-8"), digest_size=16, person=_ROW_KEY_PERSON).hexdigest()


def request_key(fingerprint: str, generation: int, body_sha256: str) -> str:
    """The request key of a batch: UUIDv5 of campaign fingerprint, generation and body digest.

    Same campaign, generation and body → same key, on every machine and in every ledger;
    anything different → a different key (see the module doc for why).
    """
    if generation < 1:
        raise ValueError("generations count from 1")
    return str(uuid.uuid5(REQUEST_KEY_NAMESPACE, f"{fingerprint}:{generation}:{body_sha256}"))


def new_request_key(now: datetime) -> str:
    """A fresh UUIDv7-style request key ordered by ``now`` (74 random bits keep it unique)."""
    ms = int(now.timestamp() * 1000) & ((1 << 48) - 1)
    rand = secrets.randbits(74)
    value = (
        (ms << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62) | (rand & ((1 << 62) - 1))
    )
    return str(uuid.UUID(int=value))


def body_digest(body: bytes) -> str:
    """sha256 hex of a request body: the ledger keeps this to prove a resend is byte-identical."""
    return hashlib.sha256(body).hexdigest()
