"""numbering.decide must give phonenumbers' own verdict on every plain cell it answers for —
valid (digits, region, type), invalid (country code, possible-length reason) or unparsable
(error type and message) — and must answer for every plain cell of the covered countries."""

from __future__ import annotations

import itertools
import random
from typing import Any

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import NumberParseException

from pipeline.config import PhoneConfig
from pipeline.transform.fastpath import TYPE_NAMES
from pipeline.transform.numbering import MAX_PLAIN, Invalid, Numbering, Valid
from pipeline.transform.phones import PhoneNormalizer

# The default region of most exports, and the countries whose numbers show up in them.
HOME = "RU"
FOREIGN = ["UA", "BY", "KZ", "UZ", "DE", "US", "AM", "GE", "TR", "CN", "AZ", "KG", "IL", "GB"]
FOREIGN += ["IT", "FR", "PL", "LV", "LT", "EE", "FI", "MD", "TJ", "CA"]
_TYPES = [t for t in TYPE_NAMES if t != phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE]


def reference(text: str, region: str) -> tuple[Any, ...]:
    """phonenumbers' verdict, in the form :func:`as_tuple` gives a decision."""
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        return ("error", exc.error_type, str(exc))
    if number.extension:
        return ("extension",)
    if not phonenumbers.is_valid_number(number):
        return ("invalid", number.country_code, phonenumbers.is_possible_number_with_reason(number))
    nsn = phonenumbers.national_significant_number(number)
    return (
        "valid",
        f"{number.country_code}{nsn}",
        phonenumbers.region_code_for_number(number),
        TYPE_NAMES[phonenumbers.number_type(number)],
    )


def as_tuple(decision: Any) -> tuple[Any, ...]:
    if isinstance(decision, Valid):
        return ("valid", decision.digits, decision.region, decision.kind)
    if isinstance(decision, Invalid):
        return ("invalid", decision.country_code, decision.reason)
    assert isinstance(decision, NumberParseException), decision
    return ("error", decision.error_type, str(decision))


def _national_forms(region: str) -> list[str]:
    """National significant numbers of ``region`` from its own metadata: the example number of
    every type, each with one digit changed, one dropped, one or two added."""
    out: list[str] = []
    for kind in _TYPES:
        example = phonenumbers.example_number_for_type(region, kind)
        if example is None:
            continue
        nsn = phonenumbers.national_significant_number(example)
        out.append(nsn)
        for at, digit in itertools.product(range(len(nsn)), "0159"):
            out.append(nsn[:at] + digit + nsn[at + 1 :])
        out += [nsn[:-1], nsn[:-2], nsn + "5", nsn + "05", nsn + "12345", nsn[:3]]
    return list(dict.fromkeys(out))


def _written(code: int, nsn: str, national_prefix: str) -> list[str]:
    """The ways a number is written in an export read with default region RU."""
    grouped = f"{nsn[:3]} {nsn[3:6]}-{nsn[6:]}" if len(nsn) > 6 else nsn
    return [
        f"+{code}{nsn}",
        f"+{code} ({nsn[:3]}) {nsn[3:]}",
        f"+{code} {grouped}",
        f"810{code}{nsn}",
        f"810 {code} {grouped}",
        f"00{code}{nsn}",
        f"{code}{nsn}",
        f"{national_prefix}{nsn}",
        f"{national_prefix} {grouped}",
        nsn,
        f"{nsn}.0",
    ]


@pytest.mark.parametrize("region", [HOME, *FOREIGN])
def test_numbers_from_the_metadata_get_phonenumbers_verdict(region: str) -> None:
    numbering = Numbering(HOME)
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    assert meta is not None
    assert meta.country_code is not None
    checked = 0
    for nsn in _national_forms(region):
        for text in _written(meta.country_code, nsn, meta.national_prefix or ""):
            decision = numbering.decide(text)
            assert decision is not None, f"{text!r} is plain: the fast path must decide it"
            assert as_tuple(decision) == reference(text, HOME), text
            checked += 1
    assert checked > 300


_PUNCT = st.sampled_from(["", "", "", " ", "-", "(", ")", ".", " - ", "  "])


@st.composite
def plain_cells(draw: st.DrawFn) -> str:
    """Plain cells (digits, `` ().-``, a leading plus), biased towards real prefixes."""
    head = draw(
        st.sampled_from(
            ["", "+", "+7", "7", "8", "810", "00", "+380", "+375", "+49", "+1", "+8", "+0", "0"]
        )
    )
    digits = draw(st.text(alphabet="0123456789", min_size=0, max_size=18))
    body = draw(st.sampled_from(["", "9", "91", "930", "495", "4012", "7", "8", "000", "6"]))
    out = head
    for ch in body + digits:
        out += draw(_PUNCT) + ch
    return out + draw(st.sampled_from(["", "", ")", "-", ".0", " ("]))


@pytest.mark.parametrize("region", ["RU", "DE", "US", "UA", "GB", "IT"])
@settings(max_examples=500, deadline=None)
@given(text=plain_cells())
def test_plain_cells_get_phonenumbers_verdict(region: str, text: str) -> None:
    text = text.strip()
    decision = Numbering(region).decide(text)
    if not text:
        return  # the normalizer calls an empty cell missing before any parsing
    if len(text) > MAX_PLAIN:  # longer cells are left to phonenumbers by design
        assert decision is None, text
        return
    assert decision is not None, f"{text!r} is plain: the fast path must decide it"
    assert as_tuple(decision) == reference(text, region), text


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from("нетn/aNA-—?.xX абв"), min_size=1, max_size=12))  # noqa: RUF001
def test_cells_without_digits_are_not_numbers(text: str) -> None:
    text = text.strip()
    decision = Numbering(HOME).decide(text)
    if decision is not None:
        assert as_tuple(decision) == reference(text, HOME), text


def test_cells_that_are_not_plain_are_left_to_phonenumbers() -> None:
    numbering = Numbering(HOME)
    for text in ["8 916 123 45 67 доб. 5", "+7 916 123 45 67 ext 5", "tel:+79161234567", "8 9l6"]:
        assert numbering.decide(text) is None, text
    assert Numbering("KZ").decide("+7 701 123 45 67") is None  # not the main region of +7


def test_the_normalizer_words_fast_verdicts_as_phonenumbers_does() -> None:
    config = PhoneConfig(default_region=HOME)
    fast, plain = PhoneNormalizer(config), PhoneNormalizer(config, fast=False)
    rnd = random.Random(5)
    cells = ["нет", "n/a", "+7 (000) 000-00-00", "123-45-67", "89161234567.0", "+380501234567"]
    cells += ["8 (555) 123-45-67", "810 49 151 2345 6789", "00 380 50 123 4567", "+8 916 1234567"]
    for _ in range(300):
        cells.append("".join(rnd.choice("0123456789 -") for _ in range(rnd.randint(1, 16))))
    answers = fast.normalize_many(cells)
    assert answers == [plain.normalize(cell) for cell in cells]
    assert {a.code for a in answers if not isinstance(a, str)} >= {
        "phone_invalid",
        "phone_too_short",
        "phone_too_long",
    }
