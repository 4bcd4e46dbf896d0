"""The formula-injection rule: what is neutralised, what stays readable."""

from __future__ import annotations

import pytest

from pipeline.reports.safety import neutralise


@pytest.mark.parametrize(
    "value",
    [
        '=HYPERLINK("http://example.invalid/x","click")',
        "+SUM(1;2)",
        "@cmd",
        "-2+3",
        "=1+1",
        "+cmd|' /C calc'!A0",
        "-",
        "\t=1",
        "\r=1",
        "  =1",  # leading spaces do not hide a formula
        "+7 916 000-00-01 доб. 5",  # letters: no longer phone-shaped
        "+7(916)000,00,01",  # a comma could separate function arguments
    ],
)
def test_formula_like_cells_get_an_apostrophe(value: str) -> None:
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize(
    "value",
    [
        "+79160000001",
        "+7 916 000-00-01",
        "+7 (916) 000-00-01",
        "-3.25",
        "-1500",
        "8 (916) 000-00-01",
        "Иванов",
        "",
        "a=b",  # only the first character matters
        " +7 916 000-00-01",
    ],
)
def test_phones_amounts_and_plain_text_stay_as_they_are(value: str) -> None:
    assert neutralise(value) == value
