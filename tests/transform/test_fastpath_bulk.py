"""The column-at-once fast path (``FastPath.digits_many``) must give exactly the digits of
``lookup_many``, value by value, for every region and every filter of types."""

from __future__ import annotations

import random

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.transform.digit_sets import DigitSet, UncompilableError, compile_digits
from pipeline.transform.fastcolumn import DigitColumn
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


_MESSY = st.text(alphabet="0123456789789 +-().\t\u0416x,\u00a0\r", max_size=24)


@pytest.mark.parametrize("region", ["RU", "US", "DE", "IT", "GB", "BR", "IN", "AR", "FR"])
@settings(max_examples=80, deadline=None)
@given(raws=st.lists(_MESSY | regular_shapes(), min_size=1, max_size=30))
def test_messy_columns_agree(region: str, raws: list[str]) -> None:
    # blanks and pluses anywhere, tabs, letters, non-breaking spaces, carriage returns
    fast = FastPath(region)
    for kinds in (_DEFAULT, frozenset({"fixed_line"})):
        assert fast.digits_many(raws, kinds=kinds) == _by_value(fast, raws, kinds)


def test_the_column_is_judged_with_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    # the regex is not asked at all; lookup_many only for the cells the arrays do not read
    fast = FastPath("RU")
    handed: list[str] = []
    by_value = fast.lookup_many

    def lookup_many(raws: list[str], *, kinds: frozenset[str]) -> list[tuple[str, str, str] | None]:
        handed.extend(raws)
        return by_value(raws, kinds=kinds)

    monkeypatch.setattr(fast, "_bulk_regex", None)
    monkeypatch.setattr(fast, "lookup_many", lookup_many)
    raws = [
        "8 (916) 123-45-67", "+7 916 123 45 67", "  +79161234567", "\t89161234567",
        "8 916 123 45 67\t", "+ 79161234567", "8+79161234567", "+7+9161234567", "(+7)9161234567",
        "8-916-123-45-67" + "0" * 8, "7" * 19, "", "нет", "8\t916", "8 (495) 123-45-67",
        "8 (800) 555-35-35", " " * 70 + "89161234567", "+7 (000) 123-45-67",
        " " * 70 + "\t89161234567",
    ]  # fmt: skip
    assert fast.digits_many(raws, kinds=_DEFAULT) == [
        "79161234567", "79161234567", "79161234567", "79161234567",
        "79161234567", None, None, None, None,
        None, None, None, None, None, "74951234567",
        None, None, None, None,
    ]  # fmt: skip
    long = "8-916-123-45-67" + "0" * 8  # 19 digits: past an int64's 18
    assert handed == ["\t89161234567", "8 916 123 45 67\t", long, "7" * 19, "8\t916"]


def test_a_pattern_the_sets_cannot_read_leaves_the_column_to_the_regex(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pipeline.transform import fastpath

    def refuse(*_: object, **__: object) -> None:
        raise UncompilableError("not here")

    fast = FastPath("RU")
    monkeypatch.setattr(fastpath, "compile_digits", refuse)
    monkeypatch.setattr("pipeline.transform.fastcolumn.compile_digits", refuse)
    raws = ["8 (916) 123-45-67", "нет", "+7 495 123 45 67"]
    assert fast.digits_many(raws, kinds=_DEFAULT) == ["79161234567", None, "74951234567"]
    assert fast._column is None  # the fallback is what is tested


class _Desc:
    def __init__(self, pattern: str) -> None:
        self.national_number_pattern = pattern


class _Meta:
    general_desc = _Desc(r"8?9\d{9}")


def _mobiles(_: object, length: int) -> list[tuple[str, DigitSet]]:
    return [("mobile", compile_digits(r"8?9\d{9}", length))]


def _column(**idd: str | None) -> DigitColumn:
    return DigitColumn(
        _Meta(), "7", "8", idd=idd.get("idd"), idd_text=idd.get("idd_text"), leading=None,
        kind_sets=_mobiles,
    )  # fmt: skip


def _answers(column: DigitColumn, raws: list[str]) -> list[str | None]:
    found = column.digits(raws, frozenset({"mobile"}), lambda alone: [None] * len(alone))
    assert found is not None
    return found


def test_branches_real_metadata_never_reaches() -> None:
    # A region where a national number may start with the national prefix (8 9161234567 is
    # itself a number here): the branches of lookup_many that no real region's numbers reach
    # with today's metadata must still decide as it does.
    column = _column()
    assert _answers(column, ["89161234567", "9161234567", "+7 8 916 123 45 67"]) == [
        None,  # prefix + a viable rest: phonenumbers would strip the prefix, so ask it
        "79161234567",
        None,  # after the country code, the same
    ]
    assert _answers(column, ["+7 9161234567", "7 9161234567"]) == ["79161234567"] * 2
    # a leading international prefix is never read as a national number
    assert _answers(_column(idd="9[0-9]"), ["9161234567", "89161234567"]) == [None, None]
    assert _answers(_column(idd_text="9"), ["9161234567"]) == [None]
    assert _answers(_column(idd="5"), ["9161234567"]) == ["79161234567"]
