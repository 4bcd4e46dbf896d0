"""The column-at-once fast path (``FastPath.digits_many``) must give exactly the digits of
``lookup_many``, value by value, for every region and every filter of types."""

from __future__ import annotations

import random

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.transform.fastpath import TYPE_NAMES, FastPath

from .test_fastpath import regular_shapes

_DEFAULT = frozenset({"mobile", "fixed_line", "fixed_line_or_mobile"})
_KINDS = [
    _DEFAULT,
    frozenset({"mobile"}),
    frozenset({"fixed_line"}),
    frozenset({"fixed_line_or_mobile", "toll_free"}),
    frozenset(TYPE_NAMES.values()),
    frozenset(),
]


def _by_value(fast: FastPath, raws: list[str], kinds: frozenset[str]) -> list[str | None]:
    return [hit[0] if hit else None for hit in fast.lookup_many(raws, kinds=kinds)]


def _shapes(region: str, rnd: random.Random) -> list[str]:
    """Example numbers of every type of the region, written the ways exports write them,
    and broken the ways exports break them."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    assert meta is not None
    code, prefix = str(meta.country_code), meta.national_prefix or ""
    out = ["", " ", "+", "++7", "+ 7 916 123 45 67", "\t+79161234567", "79161234567\t", "нет"]
    for desc in (meta.fixed_line, meta.mobile, meta.toll_free, meta.premium_rate, meta.voip):
        nsn = desc.example_number if desc is not None else None
        if not nsn:
            continue
        variants = [nsn, f"+{code}{nsn}", f"{code}{nsn}", f"{prefix}{nsn}", f"00{code}{nsn}"]
        variants += [f"810{code}{nsn}", f"+{code} ({nsn[:3]}) {nsn[3:6]}-{nsn[6:]}"]
        variants += [f"{prefix} {nsn[:3]}.{nsn[3:]}", f"+({code}){nsn}", nsn[:-1], nsn + "5"]
        variants += [f"+{code}{nsn}" + " " * 60, "0" + nsn, f"+{code}{nsn}.0", f"{nsn},{nsn}"]
        for variant in variants:
            out.append(variant)
            digits = list(variant)
            if digits:  # one random digit changed: often another type, or none
                at = rnd.randrange(len(digits))
                digits[at] = rnd.choice("0123456789") if digits[at].isdigit() else digits[at]
                out.append("".join(digits))
    return out


@pytest.mark.parametrize("region", sorted(phonenumbers.SUPPORTED_REGIONS))
def test_every_region_agrees_value_by_value(region: str) -> None:
    fast = FastPath(region)
    raws = _shapes(region, random.Random(region))
    for kinds in _KINDS:
        assert fast.digits_many(raws, kinds=kinds) == _by_value(fast, raws, kinds), kinds


@pytest.mark.parametrize("region", ["RU", "US", "DE", "UA", "KZ", "GB", "IT", "BY"])
@settings(max_examples=60, deadline=None)
@given(raws=st.lists(regular_shapes(), min_size=1, max_size=40))
def test_generated_columns_agree(region: str, raws: list[str]) -> None:
    fast = FastPath(region)
    for kinds in (_DEFAULT, frozenset({"mobile"})):
        assert fast.digits_many(raws, kinds=kinds) == _by_value(fast, raws, kinds)


def test_a_value_with_a_line_break_is_judged_alone() -> None:
    fast = FastPath("RU")
    raws = ["89161234567\n89031234567", "+7 916 123-45-67", "8 916\n"]
    assert fast.digits_many(raws, kinds=_DEFAULT) == [None, "79161234567", None]


def test_russian_shapes_are_found_in_bulk(monkeypatch: pytest.MonkeyPatch) -> None:
    # the regular shapes of a Russian export come out of the one regex, not value by value
    fast = FastPath("RU")
    raws = ["8 (916) 123-45-67", "+7 916 123 45 67", "79161234567", "9161234567", "8.916.123.45.67"]
    monkeypatch.setattr(fast, "lookup_many", None)  # must not be needed
    assert fast.digits_many(raws, kinds=_DEFAULT) == ["79161234567"] * 5
