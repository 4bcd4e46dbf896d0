"""The words of a phone rejection, chosen where the cell's own shape explains it better than
phonenumbers does.

phonenumbers' messages are for programmers ("(1) The string supplied did not seem to be a
phone number.") and its verdicts can mislead about the cause: ``79161234578.0`` is "not a
valid number (no such number range)" to it, while the cell is a float rendering of a number
(the ``.0`` became a digit). These functions name what an operator sees in the cell.

Usage::

    unparsable("+7(916)1234577 моб.", NumberParseException.NOT_A_NUMBER)
    # "the cell holds text besides the number ('моб.'); keep only the number in the cell"
    not_valid("79161234578.0", "no such number range for +7, read with default region RU")
    # "a float-looking cell ('79161234578.0'): ... export the column as text ..."
"""

from __future__ import annotations

import re

from phonenumbers import NumberParseException

_FLOATISH = re.compile(r"\+?\d{5,}[.,]\d+|\+?\d(?:[.,]\d+)?[eE][+-]?\d+")
_WORDS = re.compile(r"[^\W\d_]+\.?")
_PARSE_WORDS = {
    NumberParseException.INVALID_COUNTRY_CODE: "not a phone number (no such country code)",
    NumberParseException.NOT_A_NUMBER: "not a phone number (no digits that read as one)",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too few digits after the international prefix",
    NumberParseException.TOO_SHORT_NSN: "too few digits for a phone number",
    NumberParseException.TOO_LONG: "too many digits for a phone number",
}


def unparsable(text: str, error_type: int) -> str:
    """Why phonenumbers could not read ``text`` at all, in the operator's terms."""
    if _FLOATISH.fullmatch(text):
        return _float_message(text)
    words = [w for w in _WORDS.findall(text) if not _is_extension(w)]
    if words and any(ch.isdigit() for ch in text):
        shown = " ".join(words)[:40]
        return (
            f"the cell holds text besides the number ({shown!r}); keep only the number in the "
            f"cell (a note belongs in another column)"
        )
    return f"{_PARSE_WORDS.get(error_type, 'not a phone number')}; check the cell"


def not_valid(text: str, detail: str) -> str:
    """Why a parsed ``text`` is not a valid number; ``detail`` is the length/range verdict."""
    if _FLOATISH.fullmatch(text):
        return _float_message(text)
    return f"not a valid number ({detail}); check it"


def _float_message(text: str) -> str:
    return (
        f"a float-looking cell ({text!r}): the number was stored as a decimal, so its '.0' "
        f"or exponent is read as digits; export the column as text from the CRM (or format "
        f"it as a number without decimals) and run again"
    )


def _is_extension(word: str) -> bool:
    # "доб."/"ext." are extensions, judged by phone.extensions, not text besides the number
    return word.rstrip(".").lower() in {"доб", "ext", "x", "вн", "extension"}
