"""Patterns compiled into digit sets must accept exactly the digit strings the regex accepts."""

from __future__ import annotations

import random
import re

import numpy as np
import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers.phonemetadata import PhoneMetadata

from pipeline.transform.digit_sets import DigitSet, UncompilableError, compile_digits

_DESCS = ("general_desc", "fixed_line", "mobile", "toll_free", "premium_rate", "voip", "uan")


def _patterns() -> list[str]:
    found = set()
    for region in phonenumbers.SUPPORTED_REGIONS:
        meta = PhoneMetadata.metadata_for_region(region)
        for name in _DESCS:
            desc = getattr(meta, name)
            if desc is not None and desc.national_number_pattern:
                found.add(desc.national_number_pattern)
    return sorted(found)


def _samples(found: DigitSet, length: int, rnd: random.Random) -> list[int]:
    """Random numbers and both sides of every range edge: where a wrong bound would show."""
    top = 10**length
    values = [rnd.randrange(top) for _ in range(40)]
    for start, end in found.ranges[:: max(1, len(found.ranges) // 40)]:
        values += [start, end - 1, end, start - 1]
    return [value for value in values if 0 <= value < top]


def _agrees(pattern: str, length: int, rnd: random.Random, *, prefix: bool = False) -> None:
    found = compile_digits(pattern, length, prefix=prefix)
    regex = re.compile(pattern)
    test = regex.match if prefix else regex.fullmatch
    values = _samples(found, length, rnd)
    inside = found.contains(np.array(values, dtype=np.int64)).tolist()
    for value, answer in zip(values, inside, strict=True):
        text = str(value).zfill(length)[-length:] if length else ""
        assert answer == (test(text) is not None), (pattern, text)


@pytest.mark.parametrize("length", [1, 5, 7, 9, 10, 11, 12, 14, 17])
def test_every_metadata_pattern_is_read_exactly(length: int) -> None:
    rnd = random.Random(length)
    for pattern in _patterns():
        _agrees(pattern, length, rnd)


def test_prefix_sets_are_what_match_accepts() -> None:
    rnd = random.Random(3)
    prefixes = {"810", "00", "0(?:0|1[0-3])", "[3489]", "9[0-5]|7", "1?"}
    for region in phonenumbers.SUPPORTED_REGIONS:
        meta = PhoneMetadata.metadata_for_region(region)
        assert meta is not None
        prefixes.update(p for p in (meta.international_prefix, meta.leading_digits) if p)
    for pattern in sorted(prefixes):
        for length in (0, 1, 3, 10, 12):
            _agrees(pattern, length, rnd, prefix=True)


_ATOMS = [
    "7",
    "0",
    "[2-5]",
    "[013]",
    r"\d",
    r"\d{2}",
    r"\d{1,3}",
    "[89]?",
    "(?:1|23)?",
    "(?:4|5[6-8]){1,2}",
]


@settings(max_examples=300, deadline=None)
@given(
    parts=st.lists(st.sampled_from(_ATOMS), min_size=1, max_size=5),
    split=st.integers(0, 5),
    length=st.integers(0, 7),
)
def test_generated_patterns_agree_with_the_regex(parts: list[str], split: int, length: int) -> None:
    # a sequence of atoms, or two sequences as alternatives
    pattern = (
        "".join(parts)
        if not 0 < split < len(parts)
        else ("".join(parts[:split]) + "|" + "".join(parts[split:]))
    )
    try:
        found = compile_digits(pattern, length)
    except UncompilableError:  # any digits before a fixed one: too many ranges, the regex stays
        assert re.search(r"\\d.*[0-9\]]", pattern)
        return
    regex = re.compile(pattern)
    values = range(10**length) if length <= 4 else _samples(found, length, random.Random(0))
    inside = found.contains(np.array(list(values), dtype=np.int64)).tolist()
    for value, answer in zip(values, inside, strict=True):
        text = str(value).zfill(length)[-length:] if length else ""
        assert answer == (regex.fullmatch(text) is not None), (pattern, text)


def test_set_operations() -> None:
    a, b = DigitSet([(0, 10), (20, 30)]), DigitSet([(5, 25)])
    assert (a & b).ranges == [(5, 10), (20, 25)]
    assert (a | b).ranges == [(0, 30)]
    assert (a - b).ranges == [(0, 5), (25, 30)]
    assert (b - a).ranges == [(10, 20)]
    assert not DigitSet([])


def test_what_it_cannot_read_is_refused() -> None:
    with pytest.raises(UncompilableError):
        compile_digits(r"(?=9)\d{3}", 3)  # a lookahead
    with pytest.raises(UncompilableError):
        compile_digits(r"\d[1-9]\d[1-9]\d[1-9]\d", 7, limit=100)  # too many ranges
    with pytest.raises(UncompilableError):
        compile_digits(r"\d", 19)  # past an int64
