"""Identities: campaign fingerprints, row keys, request keys, canonical JSON.

Usage::

    fp = token_fingerprint(token)                         # "3f1c…" (16 hex), never the token
    row_key(fp, "79161234567", '{"name":"A"}', "{}")      # same row, same campaign → same key
    new_request_key(clock())                               # "0190d5e2-…" time-ordered UUIDv7

Row keys are a 128-bit hash (like a UUIDv5) over the campaign fingerprint, phone and canonical
payload/policy JSON: the same person with the same data in the same campaign is the same row
across runs and files, and different campaigns never share a key. Request keys are UUIDv7
(48-bit millisecond time, then random bits): unique account-wide like a UUIDv4, but
time-ordered, so the unique index on them
grows at its right edge instead of at random pages.
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
