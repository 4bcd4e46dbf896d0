"""Canonical request bodies: the exact bytes the uploader stores and resends.

The uploader records the body of every ``addPhones`` request in its ledger *before* sending it
and must be able to resend it byte for byte under the same idempotence key (the server replays
a stored reply only for an identical body). So the encoding is fixed once, here, and nothing
else may serialise an ``addPhones`` body.

Usage::

    body = encode_add_phones([{"phone": "79001234567", "payload": {"name": "Анна"}}])
    body == b'[{"payload":{"name":"\\xd0\\x90...'   # UTF-8, no spaces, keys sorted
    hashlib.sha256(body).hexdigest()               # what the ledger stores as the digest
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any


def encode_add_phones(items: Sequence[Mapping[str, Any]]) -> bytes:
    """Return the canonical JSON bytes of an ``addPhones`` body (a list of call-job objects).

    Deterministic: the same items always give the same bytes (keys sorted at every level, no
    whitespace, non-ASCII kept as UTF-8), so a stored body and a re-encoded one compare equal.
    """
    return json.dumps(
        list(items), ensure_ascii=False, separators=(",", ":"), sort_keys=True
    ).encode("utf-8")
