"""A realistic nightly CRM export for the ingest benchmark: 8 columns, phones as people type them.

The ``classic`` file of ``bench_ingest`` keeps 97 % of its phones on the regular, valid path;
real exports are messier, and the messy cells are the expensive ones. This file has, per
generated (non-duplicate) row, these phone kinds (``SHARES``, fixed seed ``SEED``):

===========================  ======  ==========================================================
kind                         share   what the cell looks like
===========================  ======  ==========================================================
valid RU mobile              81.5 %  ``+7 916 123-45-67``, ``8 (916) 123-45-67``, ``89161234567``,
                                     ``9161234567``, ``8.916.123.45.67``, ``+7-916-…`` (14 forms)
RU landline                   4.0 %  ~70 area codes of many regions: ``8 (4012) 12-34-56``,
                                     ``+7 (343) 123-45-67``, ``(495) 123-45-67``…
foreign                       1.5 %  UA, BY, KZ, UZ, DE, US, AM, GE, TR, CN, AZ, KG, IL:
                                     ``+380 50 …``, ``810 49 …`` (RU's IDD); a fifth in the
                                     ``00 …`` form, which RU's default region cannot read
non-existent range            3.0 %  ``+7 (555) …``, ``8 (600) …``, ``8 (930) 0…``, ``+7 (2xx) …``
words                         2.0 %  ``нет``, ``n/a``, ``-``, ``не указан``, ``—``, ``0``, ``?``
zeros                         1.5 %  ``+7 (000) 000-00-00``, ``+7 (000) 123-45-67``, ``0000000000``
too short                     1.5 %  ``123-45-67`` (local only), ``916 12 34``, ``+7 916 12``
too long                      1.5 %  ``8916123456789``, ``+7 916 123-45-678``
float-looking                 1.0 %  ``79161234567.0``, ``89161234567.0`` (a spreadsheet's float)
lossy                         0.5 %  ``7,91612E+10``, ``7.9161E+10``
extension                     0.5 %  ``8 916 123-45-67 доб. 12``
two numbers                   0.5 %  ``89161234567, 89031234567``
empty cell                    1.0 %  ``""``
===========================  ======  ==========================================================

So 13 % of the phones are invalid or junk (≥ 12 %), about 4 % landlines, 1.5 % foreign. On top
of those, 3 % of rows are exact copies of an earlier row (duplicates) and 0.2 % are blank
records. The other columns: ФИО, Сумма (decimal comma), Дата (dd.mm.yyyy), Город, Договор,
Email (sometimes empty), Комментарий (often empty). No cell needs CSV quoting, so the file
measures the phones more than the reader; ``bench_ingest --data quoted`` writes the same rows
with every cell quoted, as Bitrix24 exports CSV.

Usage::

    from benchmarks.realistic import HEADER, rows
    rows(100_000, seed=SEED)        # list of 8-cell rows, the same for the same seed
"""

from __future__ import annotations

import random
from collections.abc import Callable

import phonenumbers

SEED = 20261206
HEADER = ["Телефон", "ФИО", "Сумма", "Дата", "Город", "Договор", "Email", "Комментарий"]
CONFIG = """version: 1
columns:
  phone: Телефон
  payload:
    name: ФИО
    debt: {column: Сумма, type: decimal}
    due: {column: Дата, type: date}
    contract: Договор
phone:
  default_region: RU
"""
DUPLICATE_SHARE = 0.03
BLANK_SHARE = 0.002

_FIRST = ["Иванов", "Петрова", "Сидоров", "Кузнецова", "Смирнов", "Попова", "Ким", "Smith"]
_GIVEN = ["Иван", "Анна", "Олег", "Ольга", "Сергей", "Мария", "Алексей", "John"]
_CITIES = ["Москва", "Санкт-Петербург", "Казань", "Новосибирск", "Екатеринбург", "Самара", ""]
_COMMENTS = [
    "",
    "",
    "",
    "",
    "обещал оплатить",
    "перезвонить вечером",
    "не берёт трубку",
    "долг, пени",
]
# Real RU area codes of many regions (the generator's choice of data, not the fast path's).
_AREAS = (  # noqa: SIM905 - a block of codes reads better than a list of quoted strings
    "495 499 812 343 383 843 846 861 863 831 351 342 473 391 381 345 347 352 353 384 385 388 "
    "411 413 415 416 421 423 424 427 471 472 474 475 481 482 484 487 491 492 493 494 496 498 "
    "811 814 815 816 817 818 820 821 833 834 835 836 841 842 844 845 847 848 851 855 857 862 "
    "865 866 867 869 871 872 873 877 878 879 4012 3012 3022 3412 3452 3812 3822 3852 4212"
).split()
_FOREIGN = ["UA", "BY", "KZ", "UZ", "DE", "US", "AM", "GE", "TR", "CN", "AZ", "KG", "IL"]
_WORDS = ["нет", "n/a", "-", "не указан", "—", "0", "?", "нет телефона", "N/A", "отказ"]


def _digits(rnd: random.Random, n: int) -> str:
    return "".join(rnd.choice("0123456789") for _ in range(n))


def _mobile_nsn(rnd: random.Random) -> str:
    # 9 then any digit but 3: every such range is a mobile range in phonenumbers' metadata
    return "9" + rnd.choice("01245678" + "9") + _digits(rnd, 8)


def _ru_form(rnd: random.Random, nsn: str) -> str:
    """A 10-digit RU national number in one of the forms operators type."""
    a, b, c, d = nsn[:3], nsn[3:6], nsn[6:8], nsn[8:]
    forms = [
        f"+7 {a} {b}-{c}-{d}",
        f"8 ({a}) {b}-{c}-{d}",
        f"7{nsn}",
        f"8{nsn}",
        nsn,
        f"8-{a}-{b}-{c}-{d}",
        f"+7({a}){b}{c}{d}",
        f"+7 {a} {b} {c} {d}",
        f"+7{nsn}",
        f"8 {a} {b}{c}{d}",
        f"7 ({a}) {b}-{c}-{d}",
        f"+7-{a}-{b}-{c}-{d}",
        f" 8({a}){b}-{c}-{d} ",
        f"8.{a}.{b}.{c}.{d}",
    ]
    return rnd.choice(forms)


def _landline(rnd: random.Random) -> str:
    area = rnd.choice(_AREAS)
    local = _digits(rnd, 10 - len(area))
    if len(area) == 4:
        return rnd.choice([f"8 ({area}) {local[:2]}-{local[2:4]}-{local[4:]}", f"+7{area}{local}"])
    return rnd.choice(
        [
            _ru_form(rnd, area + local),
            f"({area}) {local[:3]}-{local[3:5]}-{local[5:]}",
            f"+7 ({area}) {local[:3]}-{local[3:5]}-{local[5:]}",
        ]
    )


_EXAMPLES: dict[str, str] = {}


def _foreign(rnd: random.Random) -> str:
    region = rnd.choice(_FOREIGN)
    if region not in _EXAMPLES:
        example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        assert example is not None
        _EXAMPLES[region] = f"{example.country_code} {example.national_number}"
    code, nsn = _EXAMPLES[region].split()
    nsn = nsn[:-4] + _digits(rnd, 4)  # the example's range, another subscriber
    style = rnd.random()
    if style < 0.2:
        return f"00 {code} {nsn}"
    if style < 0.4:
        return f"810 {code} {nsn}"
    if style < 0.7:
        return f"+{code}{nsn}"
    return f"+{code} {nsn[:2]} {nsn[2:5]} {nsn[5:]}"


def _no_range(rnd: random.Random) -> str:
    head = rnd.choice(["555", "600", "2" + _digits(rnd, 2), "1" + _digits(rnd, 2), "500"])
    if rnd.random() < 0.3:
        head = "930"  # 930 0…: a gap inside a mobile block
        return _ru_form(rnd, head + "0" + rnd.choice("0123456789") + _digits(rnd, 5))
    return _ru_form(rnd, head + _digits(rnd, 7))


def _zeros(rnd: random.Random) -> str:
    return rnd.choice(
        [
            "+7 (000) 000-00-00",
            f"+7 (000) {_digits(rnd, 3)}-{_digits(rnd, 2)}-{_digits(rnd, 2)}",
            "0000000000",
            "8 (000) 000-00-00",
            "00000000000",
        ]
    )


def _too_short(rnd: random.Random) -> str:
    mobile = _mobile_nsn(rnd)
    return rnd.choice(
        [
            f"{_digits(rnd, 3)}-{_digits(rnd, 2)}-{_digits(rnd, 2)}",
            f"{mobile[:3]} {mobile[3:5]} {mobile[5:7]}",
            f"+7 {mobile[:3]} {mobile[3:5]}",
            f"8{mobile[:8]}",
        ]
    )


def _too_long(rnd: random.Random) -> str:
    mobile = _mobile_nsn(rnd)
    return rnd.choice(
        [
            f"8{mobile}{_digits(rnd, 2)}",
            f"+7 {mobile[:3]} {mobile[3:6]}-{mobile[6:8]}-{mobile[8:]}5",
        ]
    )


def _float(rnd: random.Random) -> str:
    return f"{rnd.choice('78')}{_mobile_nsn(rnd)}.0"


def _lossy(rnd: random.Random) -> str:
    mobile = _mobile_nsn(rnd)
    return rnd.choice([f"7,{mobile[:5]}E+10", f"7.{mobile[:4]}E+10"])


def _extension(rnd: random.Random) -> str:
    return _ru_form(rnd, _mobile_nsn(rnd)) + f" доб. {rnd.randint(1, 999)}"


def _two(rnd: random.Random) -> str:
    return f"8{_mobile_nsn(rnd)}, 8{_mobile_nsn(rnd)}"


SHARES: tuple[tuple[str, float, Callable[[random.Random], str]], ...] = (
    ("valid RU mobile", 0.815, lambda rnd: _ru_form(rnd, _mobile_nsn(rnd))),
    ("RU landline", 0.04, _landline),
    ("foreign", 0.015, _foreign),
    ("non-existent range", 0.03, _no_range),
    ("words", 0.02, lambda rnd: rnd.choice(_WORDS)),
    ("zeros", 0.015, _zeros),
    ("too short", 0.015, _too_short),
    ("too long", 0.015, _too_long),
    ("float-looking", 0.01, _float),
    ("lossy", 0.005, _lossy),
    ("extension", 0.005, _extension),
    ("two numbers", 0.005, _two),
    ("empty cell", 0.01, lambda rnd: ""),
)
assert abs(sum(share for _, share, _ in SHARES) - 1.0) < 1e-9


def phone(rnd: random.Random) -> str:
    """One phone cell, its kind drawn by ``SHARES``."""
    pick = rnd.random()
    for _, share, make in SHARES:
        if pick < share:
            return make(rnd)
        pick -= share
    return SHARES[0][2](rnd)  # pragma: no cover - float rounding at the very end


def rows(n: int, seed: int = SEED) -> list[list[str]]:
    """``n`` rows of 8 cells; the same ``seed`` gives the same rows."""
    rnd = random.Random(seed)
    out: list[list[str]] = []
    for i in range(n):
        if out and rnd.random() < DUPLICATE_SHARE:
            out.append(list(out[rnd.randrange(len(out))]))
            continue
        if rnd.random() < BLANK_SHARE:
            out.append([""] * len(HEADER))
            continue
        name = f"{rnd.choice(_FIRST)} {rnd.choice(_GIVEN)} {i % 997}"
        amount = f"{rnd.randint(0, 99999)},{rnd.randint(0, 99):02d}"
        date = f"{rnd.randint(1, 28):02d}.{rnd.randint(1, 12):02d}.2026"
        contract = f"Д-2026/{rnd.randint(1, 999999):06d}"
        email = f"client{rnd.randint(1, 10**6)}@mail.ru" if rnd.random() < 0.6 else ""
        comment = rnd.choice(_COMMENTS)
        out.append([phone(rnd), name, amount, date, rnd.choice(_CITIES), contract, email, comment])
    return out
