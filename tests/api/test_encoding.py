"""encode_add_phones: the canonical bytes the uploader stores and resends."""

from __future__ import annotations

import json

from pipeline.api.encoding import encode_add_phones


def test_canonical_bytes_are_sorted_compact_utf8() -> None:
    items = [{"phone": "79001234567", "payload": {"b": 1, "a": "Анна"}, "maxAttempts": 2}]
    body = encode_add_phones(items)
    assert body == (
        '[{"maxAttempts":2,"payload":{"a":"Анна","b":1},"phone":"79001234567"}]'.encode()
    )


def test_key_order_of_the_input_does_not_change_the_bytes() -> None:
    one = [{"phone": "1", "payload": {"x": 1, "y": [1, 2]}}]
    two = [{"payload": {"y": [1, 2], "x": 1}, "phone": "1"}]
    assert encode_add_phones(one) == encode_add_phones(two)


def test_matches_the_documented_recipe_and_round_trips() -> None:
    items = [{"phone": "16500000000", "gmtZone": "+03:00"}, {"phone": "79110000000"}]
    expected = json.dumps(items, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    body = encode_add_phones(items)
    assert body == expected.encode("utf-8")
    assert json.loads(body) == items


def test_accepts_any_sequence() -> None:
    assert encode_add_phones(({"phone": "1"},)) == b'[{"phone":"1"}]'
