"""Rejection reasons say what is in the cell, not what phonenumbers thought of its digits."""

from __future__ import annotations

import pytest

from pipeline.config import parse_config
from pipeline.transform import codes
from pipeline.transform.fields import FieldError, to_json
from pipeline.transform.phones import PhoneNormalizer, PhoneProblem

PHONES = PhoneNormalizer(parse_config({}, environ={}).phone)


def _problem(raw: str) -> PhoneProblem:
    result = PHONES.normalize(raw)
    assert isinstance(result, PhoneProblem), result
    return result


@pytest.mark.parametrize("raw", ["79161234578.0", "79161234567.0"])
def test_a_float_looking_cell_is_called_that(raw: str) -> None:
    problem = _problem(raw)
    assert problem.message.startswith(f"a float-looking cell ({raw!r})")
    assert "number range" not in problem.message


def test_text_beside_the_number_is_named_without_phonenumbers_internals() -> None:
    problem = _problem("+7(916)1234577 моб.")
    assert problem.code == codes.PHONE_INVALID
    assert "The string supplied" not in problem.message
    assert "text besides the number ('моб.')" in problem.message


def test_plain_garbage_gets_plain_words() -> None:
    problem = _problem("не указан")
    assert problem.message == "not a phone number (no digits that read as one); check the cell"


def test_an_amount_with_a_currency_is_not_called_ambiguous() -> None:
    with pytest.raises(FieldError) as caught:
        to_json("decimal", "1234,5 руб.")  # noqa: RUF001
    assert caught.value.code == codes.PAYLOAD_INVALID
    assert "both ',' and '.'" not in caught.value.message
    assert "text besides the amount" in caught.value.message
    with pytest.raises(FieldError, match="both"):
        to_json("decimal", "1,234.50")  # still ambiguous when both are among digits
