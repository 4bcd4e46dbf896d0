"""Phone policy: lossy inputs, extensions, several numbers, filters, and the properties."""

from __future__ import annotations

import re

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.config import PhoneConfig
from pipeline.transform import codes
from pipeline.transform.phones import PhoneNormalizer, PhoneProblem

from .test_fastpath import regular_shapes


def _code(result: str | PhoneProblem) -> str:
    return result if isinstance(result, str) else result.code


@pytest.fixture
def ru() -> PhoneNormalizer:
    return PhoneNormalizer(PhoneConfig(default_region="RU"))


@pytest.mark.parametrize(
    "raw",
    [
        "8 (916) 123-45-67",
        "+7 916 123-45-67",
        "79161234567",
        "9161234567",
        " 8-916-1234567 ",
        "+7 (916) 123.45.67",
        "8 916 123 45 67\u00a0",
    ],
)
def test_common_shapes_give_digits_with_country_code(ru: PhoneNormalizer, raw: str) -> None:
    assert ru.normalize(raw) == "79161234567"


@pytest.mark.parametrize(
    "raw",
    [
        "7,91612E+10",
        "7.9e10",
        "7,91612\u0415+10",  # a Cyrillic capital IE, as a spreadsheet shows an E
        "7.91612345E+10",
        "7916###4567",
        "7916XXX4567",
        "+7 916 ***-45-67",
    ],
)
def test_lossy_inputs_are_rejected_not_guessed(ru: PhoneNormalizer, raw: str) -> None:
    assert _code(ru.normalize(raw)) == codes.PHONE_LOSSY


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", codes.PHONE_MISSING),
        ("   ", codes.PHONE_MISSING),
        ("8916123", codes.PHONE_TOO_SHORT),
        ("+7 916 123 45 67 89 01 23", codes.PHONE_TOO_LONG),
        ("привет", codes.PHONE_INVALID),
        ("+7 916 ABC-03-01", codes.PHONE_INVALID),  # keypad letters are not digits
        ("8 800 FLOWERS", codes.PHONE_INVALID),
        ("+7 116 123 45 67", codes.PHONE_INVALID),
        ("8 800 555 35 35", codes.PHONE_TYPE),  # toll free is not in the default types
    ],
)
def test_problems_have_their_own_codes(ru: PhoneNormalizer, raw: str, code: str) -> None:
    result = ru.normalize(raw)
    assert isinstance(result, PhoneProblem) and result.code == code
    assert "916" not in result.message  # messages never carry the number itself


def test_extension_is_rejected_by_default_and_stripped_on_request() -> None:
    raw = "+7 916 123-45-67 доб. 12"
    assert _code(PhoneNormalizer(PhoneConfig()).normalize(raw)) == codes.PHONE_EXTENSION
    assert PhoneNormalizer(PhoneConfig(extensions="strip")).normalize(raw) == "79161234567"


def test_several_numbers_in_one_cell() -> None:
    raw = "8 916 123-45-67, 8 (903) 765-43-21"
    assert _code(PhoneNormalizer(PhoneConfig()).normalize(raw)) == codes.PHONE_MULTIPLE
    assert PhoneNormalizer(PhoneConfig(multiple="first")).normalize(raw) == "79161234567"
    # a separator alone does not make a second number: "/ 5" is not seven digits
    assert _code(PhoneNormalizer(PhoneConfig()).normalize("89161234567 / 5")) != "phone_multiple"


def test_region_and_type_filters() -> None:
    only_ru = PhoneNormalizer(PhoneConfig(allowed_regions=["ru"]))
    assert _code(only_ru.normalize("+1 650 253 0000")) == codes.PHONE_REGION
    assert _code(only_ru.normalize("+7 701 123 45 67")) == codes.PHONE_REGION  # Kazakhstan
    assert only_ru.normalize("+7 916 123 45 67") == "79161234567"
    mobile = PhoneNormalizer(PhoneConfig(allowed_types=["mobile"]))
    assert _code(mobile.normalize("+7 812 123-45-67")) == codes.PHONE_TYPE
    toll = PhoneNormalizer(PhoneConfig(allowed_types=["toll_free"]))
    assert toll.normalize("8 800 555 35 35") == "78005553535"


def test_cache_is_bounded_and_answers_stay_the_same() -> None:
    norm = PhoneNormalizer(PhoneConfig(), cache_size=3)
    values = [f"8916123456{i}" for i in range(10)]
    first = [norm.normalize(v) for v in values]
    assert len(norm._cache) <= 3
    assert [norm.normalize(v) for v in values] == first


_PHONE_CHARS = st.sampled_from([*"0123456789 +-()./,;#eExXABCDW", "доб", "ext"])


@settings(max_examples=500, deadline=None)
@given(raw=st.lists(_PHONE_CHARS, max_size=24).map("".join))
def test_properties_idempotent_no_invented_digits_same_as_phonenumbers(raw: str) -> None:
    fast = PhoneNormalizer(PhoneConfig(allowed_types=list(_ALL_TYPES)))
    slow = PhoneNormalizer(PhoneConfig(allowed_types=list(_ALL_TYPES)), fast=False)
    result = fast.normalize(raw)
    assert result == slow.normalize(raw)  # identical to plain phonenumbers
    if isinstance(result, str):
        assert result.isdigit()
        assert fast.normalize("+" + result) == result  # idempotent
        if result.startswith("7"):
            assert fast.normalize(result) == result
        # never invents digits: the national number's digits appear in order in the input
        national = result[1:] if result.startswith("7") else result
        assert re.search(".*".join(national), re.sub(r"\D", "", raw))


_ALL_TYPES = (
    "mobile",
    "fixed_line",
    "fixed_line_or_mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
)


@settings(max_examples=300, deadline=None)
@given(digits=st.text(alphabet="0123456789", min_size=10, max_size=10))
def test_scientific_notation_of_any_number_is_rejected(digits: str) -> None:
    norm = PhoneNormalizer(PhoneConfig())
    text = f"{digits[0]},{digits[1:6]}E+{len(digits) - 1}"
    assert _code(norm.normalize(text)) == codes.PHONE_LOSSY


_LABELS = st.sampled_from(["доб.", "доб", "ext.", "ext", "доб:", "ДОБ.", "x", "#", "доп."])


@pytest.mark.parametrize("region", ["RU", "US", "DE", "BY"])
@settings(max_examples=300, deadline=None)
@given(
    main=regular_shapes(),
    label=st.tuples(
        st.sampled_from(["", " ", "  ", ", ", "\t"]),
        _LABELS,
        st.sampled_from(["", " ", "-"]),
        st.text(alphabet="0123456789", min_size=0, max_size=8),
    ).map("".join),
)
def test_labelled_extensions_read_as_phonenumbers_reads_them(
    region: str, main: str, label: str
) -> None:
    # "8 916 123-45-67 доб. 12" is decided on compiled metadata; the verdict (code and
    # message) must be plain phonenumbers' for every shape around it
    cell = main + label
    config = PhoneConfig(default_region=region)
    assert PhoneNormalizer(config).normalize(cell) == PhoneNormalizer(config, fast=False).normalize(
        cell
    )


def test_a_labelled_extension_needs_no_full_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    normalizer = PhoneNormalizer(PhoneConfig(default_region="RU"))

    def no_parse(*_: object) -> None:
        raise AssertionError("phonenumbers.parse was called")

    monkeypatch.setattr(phonenumbers, "parse", no_parse)  # the module phones.py calls
    cells = ["8 916 123 45 67 доб. 12", "+7 (495) 123-45-67 ext 5", "8 (000) 000-00-00 доб 1"]
    for cell in cells:
        problem = normalizer.normalize(cell)
        assert isinstance(problem, PhoneProblem)
        assert problem.code == codes.PHONE_EXTENSION


@pytest.mark.parametrize(
    "cell",
    ["12 доб. 5", "1 доб. 5", "+7 доб. 1", "123 доб. 4", "8 доб 12", "(12) ext 3", "+12 ext. 3",
     "8 916 123 45 67 доб. 1234567", "8 916 123 45 67 доб.", "доб. 5", "8 800 доб. 2"],
)  # fmt: skip
def test_short_or_odd_labelled_cells_read_as_phonenumbers_reads_them(cell: str) -> None:
    config = PhoneConfig(default_region="RU")
    assert PhoneNormalizer(config).normalize(cell) == PhoneNormalizer(config, fast=False).normalize(
        cell
    )
