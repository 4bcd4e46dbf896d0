"""The column verdicts on invalid numbers (``PlainVerdicts``) must be ``decide_plain``'s, cell
for cell, wherever they give one, in every region they are built for."""

from __future__ import annotations

import random

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import NumberParseException, ValidationResult

from pipeline.config import PhoneConfig
from pipeline.transform.fastverdict import PlainVerdicts
from pipeline.transform.numbering import Invalid, Numbering
from pipeline.transform.phones import PhoneNormalizer

from .test_fastpath import regular_shapes

_REGIONS = [r for r in sorted(phonenumbers.SUPPORTED_REGIONS) if PlainVerdicts.build(r)]


def _same(a: object, b: object) -> bool:
    if isinstance(a, NumberParseException) and isinstance(b, NumberParseException):
        return (a.error_type, str(a)) == (b.error_type, str(b))
    return a == b


def _cells(region: str, rnd: random.Random) -> list[str]:
    """Numbers of the region written with and without country code, national prefix and
    IDD, some of them with a digit changed, dropped or added: mostly invalid numbers."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    assert meta is not None
    code, prefix = str(meta.country_code), meta.national_prefix or ""
    idd = meta.international_prefix or ""
    heads = ["", f"+{code}", code, prefix, "+", f"+{code}{prefix}", f"{code}{prefix}", idd]
    heads += [f"{idd}{code}", f"{idd}0", "8", "7", "1", "+1", prefix * 2]
    out = ["", "12", "+7", "8 (", "810", f"{idd}"]
    for _ in range(300):
        digits = "".join(rnd.choice("0123456789") for _ in range(rnd.randint(0, 16)))
        text = rnd.choice(heads) + digits
        text = "".join(ch + rnd.choice(["", "", "", " ", "-", "(", ")", "."]) for ch in text)
        out.append(rnd.choice(["", " "]) + text + rnd.choice(["", " "]))
    for desc in (meta.fixed_line, meta.mobile, meta.toll_free):
        example = desc.example_number if desc is not None else None
        if not example:
            continue
        for variant in (example, prefix + example, code + example, f"+{code}{example}"):
            for shape in (variant, variant[:-1], variant + "1", f"{code}{prefix}{example}"):
                changed = list(shape)
                changed[rnd.randrange(len(changed))] = rnd.choice("0123456789")
                out += [shape, "".join(changed)]
    return out


@pytest.mark.parametrize("region", _REGIONS)
def test_every_region_agrees_cell_by_cell(region: str) -> None:
    verdicts, numbering = PlainVerdicts.build(region), Numbering(region)
    assert verdicts is not None
    cells = _cells(region, random.Random(region))
    found = verdicts.decide(cells)
    for cell, verdict in zip(cells, found, strict=True):
        if verdict is not None:
            assert _same(verdict, numbering.decide_plain(cell)), cell
    assert sum(v is not None for v in found) > len(cells) // 10  # not an empty promise


@pytest.mark.parametrize("region", ["RU", "US", "DE", "UA", "IT", "IN", "FR", "TR", "UZ"])
@settings(max_examples=60, deadline=None)
@given(
    cells=st.lists(regular_shapes() | st.text("0123456789 +-().\t\u0416", max_size=20), min_size=1)
)
def test_generated_columns_agree(region: str, cells: list[str]) -> None:
    verdicts, numbering = PlainVerdicts.build(region), Numbering(region)
    assert verdicts is not None
    for cell, verdict in zip(cells, verdicts.decide(cells), strict=True):
        if verdict is not None:
            assert _same(verdict, numbering.decide_plain(cell)), cell


def test_what_it_answers_and_what_it_leaves() -> None:
    verdicts = PlainVerdicts.build("RU")
    assert verdicts is not None
    cells = [
        "+7 (000) 123-45-67", "8 916 123 45 6", "7123", "8 800", "9" * 18, "+7 91612345678901",
        "+79161234567", "8 (701) 123-45-67", "+375 29 123 45 67", "810 375 29 1234567", "12",
        "8\t916 123 45 67", "нет",
    ]  # fmt: skip
    found = verdicts.decide(cells)
    possible, short = ValidationResult.IS_POSSIBLE, ValidationResult.TOO_SHORT
    assert found[:4] == [Invalid(7, possible)] * 2 + [Invalid(7, short)] * 2
    assert isinstance(found[4], NumberParseException)
    assert found[4].error_type == NumberParseException.TOO_LONG
    assert found[5] == Invalid(7, possible)  # 14 digits: a possible length, no such range
    # valid (home or Kazakh), foreign, IDD, too few digits, a tab, not a number: asked
    assert found[6:] == [None] * 7
    # 810 then 0 is no IDD; the national prefix stays where the rest would be too short
    assert verdicts.decide(["810 0123456", "8 (100) 123-45-6"]) == [Invalid(7, possible)] * 2


def test_a_country_code_with_too_little_after_it() -> None:
    verdicts = PlainVerdicts.build("UA")
    assert verdicts is not None
    found = verdicts.decide(["+380 5", "+380"])
    assert all(isinstance(verdict, NumberParseException) for verdict in found)
    assert [v.error_type for v in found if isinstance(v, NumberParseException)] == [
        NumberParseException.TOO_SHORT_NSN
    ] * 2


def test_regions_it_cannot_read_are_not_built() -> None:
    assert PlainVerdicts.build("KZ") is None  # not the main region of +7
    assert PlainVerdicts.build("ZZ") is None
    assert PlainVerdicts.build("GB") is None  # a national prefix that is a pattern (0|180020)


def test_the_normalizer_gives_the_same_problems_with_and_without_the_column() -> None:
    rnd = random.Random(7)
    cells = _cells("RU", rnd) * 2 + ["нет", "", "8 916 123 45 67 доб. 5"]
    normalizer = PhoneNormalizer(PhoneConfig(default_region="RU"))
    by_column = normalizer.normalize_many(cells)
    one_by_one = PhoneNormalizer(PhoneConfig(default_region="RU"))
    assert by_column == [one_by_one.normalize(cell) for cell in cells]
