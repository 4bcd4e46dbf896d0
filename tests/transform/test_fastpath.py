"""The fast path must agree with plain phonenumbers on every value it answers for."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers.phonemetadata import PhoneMetadata

from pipeline.transform.fastpath import TYPE_NAMES, FastPath, type_regex


def _reference(raw: str, region: str) -> tuple[str, str, str] | None:
    """What phonenumbers itself says: (digits, region, type) for a valid number, else None."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if number.extension or not phonenumbers.is_valid_number(number):
        return None
    nsn = phonenumbers.national_significant_number(number)
    return (
        f"{number.country_code}{nsn}",
        phonenumbers.region_code_for_number(number) or "",
        TYPE_NAMES[phonenumbers.number_type(number)],
    )


_SEPARATORS = st.sampled_from(["", " ", "-", " - ", "(", ")", "  ", "."])


@st.composite
def regular_shapes(draw: st.DrawFn) -> str:
    """Strings in the shapes the fast path handles: prefixes, digits and separators."""
    prefix = draw(st.sampled_from(["", "+7", "7", "8", "+1", "810", "+", "+8", "1", "+49", "0"]))
    digits = draw(st.text(alphabet="0123456789", min_size=1, max_size=14))
    # Bias the first digits towards real Russian ranges so many samples are valid.
    head = draw(st.sampled_from(["", "9", "91", "80", "81", "49", "3", "7", "8", "1", "0"]))
    out = prefix
    for ch in head + digits:
        out += draw(_SEPARATORS) + ch
    return draw(st.sampled_from(["", " ", "\t"])) + out + draw(st.sampled_from(["", " "]))


@pytest.mark.parametrize("region", ["RU", "US", "DE", "UA"])
@settings(max_examples=400, deadline=None)
@given(raw=regular_shapes())
def test_fast_path_agrees_with_phonenumbers(region: str, raw: str) -> None:
    fast = FastPath(region)
    assert fast.enabled
    answer = fast.lookup(raw)
    if answer is not None:
        assert answer == _reference(raw, region), raw


@pytest.mark.parametrize("region", ["RU", "US", "DE", "KZ", "GB", "IT", "BY"])
@settings(max_examples=300, deadline=None)
@given(nsn=st.text(alphabet="0123456789", min_size=4, max_size=15))
def test_type_regex_reproduces_number_type(region: str, nsn: str) -> None:
    meta = PhoneMetadata.metadata_for_region(region)
    assert meta is not None
    regex = type_regex(meta)
    assert regex is not None
    match = regex.fullmatch(nsn)
    number = phonenumbers.PhoneNumber(country_code=meta.country_code, national_number=int(nsn))
    if nsn.startswith("0"):
        return  # leading zeros need the italian_leading_zero flag; the fast path skips them
    expected = phonenumbers.number_type(number)
    if phonenumbers.region_code_for_number(number) != region:
        return  # classified against another region of the same country code
    got = match.lastgroup if match else None
    assert got == TYPE_NAMES.get(expected), nsn


def test_common_russian_shapes_take_the_fast_path() -> None:
    fast = FastPath("RU")
    for raw in [
        "8 (916) 123-45-67",
        "+7 916 123 45 67",
        "79161234567",
        "9161234567",
        "8.916.123.45.67",
    ]:
        assert fast.lookup(raw) == ("79161234567", "RU", "mobile")
    assert fast.lookup("+7 812 123-45-67") == ("78121234567", "RU", "fixed_line")


def test_irregular_shapes_are_left_to_phonenumbers() -> None:
    fast = FastPath("RU")
    for raw in [
        "8 916 123 45 67 доб. 5",
        "7,91612E+10",
        "+7 (916) 123/45/67",
        "",
        "tel:+79161234567",
    ]:
        assert fast.lookup(raw) is None
    assert not FastPath("GB").enabled  # a national prefix rule we do not mirror: always slow


@pytest.mark.parametrize("region", ["RU", "US", "DE", "KZ", "GB", "IT", "BY", "UA"])
@settings(max_examples=300, deadline=None)
@given(nsn=st.text(alphabet="0123456789", min_size=1, max_size=17))
def test_per_length_type_regex_decides_like_the_general_one(region: str, nsn: str) -> None:
    # The fast path uses one regex per length (length lookaheads decided in advance); on digit
    # strings of that length it must name the same type as the one general regex.
    meta = PhoneMetadata.metadata_for_region(region)
    assert meta is not None
    general, by_length = type_regex(meta), type_regex(meta, len(nsn))
    assert general is not None
    expected = general.fullmatch(nsn)
    got = by_length.fullmatch(nsn) if by_length is not None else None
    assert (got.lastgroup if got else None) == (expected.lastgroup if expected else None), nsn
