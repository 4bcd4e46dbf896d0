"""A zone for every row: the column (also MSK±N in either alphabet), the number (area code,
Russian mobile range), then the explicit fallback; how it was decided travels with the row."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from pipeline.config import Config, parse_config
from pipeline.errors import ConfigError
from pipeline.records import RowChunk
from pipeline.transform import codes
from pipeline.transform.assembly import RowTransformer
from pipeline.transform.fields import POLICY_CONVERTERS
from pipeline.transform.timezones import ZoneDecider, mobile_zones, ru_mobile_table

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
NUMBER = ZoneDecider(use_number=True, fallback=None)


@pytest.mark.parametrize(
    ("phone", "zone"),
    [
        ("74951234567", "Europe/Moscow"),  # Moscow fixed line
        ("74232123456", "Asia/Vladivostok"),  # Vladivostok
        ("73812123456", "Asia/Omsk"),  # Omsk
        ("73832123456", "Asia/Novosibirsk"),  # Novosibirsk
        ("73432123456", "Asia/Yekaterinburg"),  # Yekaterinburg
        ("74152123456", "Asia/Kamchatka"),  # Petropavlovsk-Kamchatsky
        # phonenumbers says Europe/Bucharest (summer time!) for Kaliningrad: corrected
        ("74012123456", "Europe/Kaliningrad"),
        ("14155550000", "America/Los_Angeles"),  # a US area code
        ("4930123456", "Europe/Berlin"),  # a one-zone country
        ("61212345678", "Australia/Sydney"),  # Australian area code 2
    ],
)
def test_fixed_lines_get_their_area_codes_zone(phone: str, zone: str) -> None:
    assert NUMBER.decide(phone) == (zone, "number_prefix")


@pytest.mark.parametrize(
    ("phone", "zone"),
    [
        ("79161234567", "Europe/Moscow"),  # MTS Moscow
        ("79241234567", "Asia/Vladivostok"),  # MegaFon Far East
        ("79011100000", "Asia/Omsk"),
        ("79004400000", "Asia/Kamchatka"),
        ("79003450000", "Europe/Kaliningrad"),
        ("79140100000", "Asia/Irkutsk"),
        ("79140150000", "Asia/Vladivostok"),  # a longer prefix inside 791401 wins
    ],
)
def test_russian_mobiles_get_the_zone_of_their_range(phone: str, zone: str) -> None:
    assert NUMBER.decide(phone) == (zone, "mobile_range")


@pytest.mark.parametrize(
    "phone",
    [
        "79141000000",  # Yakutia: the region spans UTC+9, +10 and +11
        "79400000000",  # no region known for the range (Abkhazia's numbers)
        "78005553535",  # toll-free: no place
        "61412345678",  # an Australian mobile: the country spans zones
        "77012345678",  # a Kazakh mobile: the country spans zones
    ],
)
def test_numbers_with_no_single_zone_go_to_the_fallback(phone: str) -> None:
    assert NUMBER.decide(phone) == (None, "fallback")
    named = ZoneDecider(use_number=True, fallback="Europe/Moscow")
    assert named.decide(phone) == ("Europe/Moscow", "fallback")


def test_without_the_number_every_row_takes_the_fallback() -> None:
    column_only = ZoneDecider(use_number=False, fallback="+03:00")
    assert column_only.decide("79241234567") == ("+03:00", "fallback")


def test_the_mobile_table_answers_for_most_of_the_russian_mobile_space() -> None:
    table, _ = ru_mobile_table()
    assert len(table) > 5000 and all(p.startswith("79") for p in table)
    assert mobile_zones("79490000000") == ()  # a range given out after the 2015 table


@pytest.mark.parametrize(
    ("cell", "zone"),
    [
        ("МСК", "+03:00"),  # noqa: RUF001
        ("МСК+4", "+07:00"),  # noqa: RUF001
        ("мск -1", "+02:00"),
        ("MSK+4", "+07:00"),
        ("UTC+7", "+07:00"),
        ("Asia/Omsk", "Asia/Omsk"),
    ],
)
def test_the_zone_column_takes_russian_forms(cell: str, zone: str) -> None:
    assert POLICY_CONVERTERS["gmtZone"](cell) == zone


HEADER = ("phone", "name", "zone")


def _config(timezone: dict[str, Any] | None, **policy: Any) -> Config:
    return parse_config(
        {
            "columns": {
                "phone": "phone",
                "payload": {"name": "name"},
                "policy": {"gmtZone": "zone"},
            },
            "policy": {**policy, **({"timezone": timezone} if timezone else {})},
        },
        environ={},
    )


def _run(cfg: Config, *rows: list[str]) -> Any:
    chunk = RowChunk(list(range(1, len(rows) + 1)), [list(r) for r in rows])
    return RowTransformer(cfg, HEADER, now=NOW).transform(chunk)


def test_rows_carry_the_zone_and_how_it_was_decided() -> None:
    result = _run(
        _config({"from": "number", "fallback": "reject"}),
        ["+7 924 123-45-67", "A", ""],
        ["8 (4012) 12-34-56", "B", ""],
        ["+7 999 123-45-67", "C", "МСК+4"],  # noqa: RUF001
        ["+7 940 000-00-00", "D", ""],
    )
    got = [(i.row, i.policy["gmtZone"], i.zone_source) for i in result.items]
    assert got == [
        (1, "Asia/Vladivostok", "mobile_range"),
        (2, "Europe/Kaliningrad", "number_prefix"),
        (3, "+07:00", "column"),
    ]
    assert [(r.row, r.code) for r in result.rejections] == [(4, codes.TIMEZONE_UNKNOWN)]
    assert result.zones[("mobile_range", "Asia/Vladivostok")] == 1
    # the row's identity stays the operator's policy: the decided zone is not part of it
    assert result.items[0].given == {}
    assert result.items[2].given is None  # nothing decided by the tool: the policy itself


def test_a_named_fallback_serves_rows_without_a_zone() -> None:
    result = _run(
        _config({"from": "column", "fallback": "Europe/Moscow"}), ["+7 924 123-45-67", "A", ""]
    )
    assert [(i.policy["gmtZone"], i.zone_source) for i in result.items] == [
        ("Europe/Moscow", "fallback")
    ]


def test_from_campaign_sends_no_zone_and_records_the_columns() -> None:
    result = _run(
        _config({"from": "campaign"}), ["+7 924 123-45-67", "A", ""], ["79161234567", "B", "+5"]
    )
    assert [(i.policy.get("gmtZone"), i.zone_source) for i in result.items] == [
        (None, None),
        ("+05:00", "column"),
    ]


@pytest.mark.parametrize(
    ("timezone", "policy", "says"),
    [
        ({"from": "number"}, {}, "fallback is required"),
        ({"from": "campaign", "fallback": "reject"}, {}, "remove fallback"),
        ({"from": "number", "fallback": "Mars/Base"}, {}, "not a time zone"),
        ({"from": "number", "fallback": "reject"}, {"gmtZone": "+03:00"}, "both decide"),
        ({"from": "phone", "fallback": "reject"}, {}, "policy.timezone.from"),
    ],
)
def test_the_timezone_settings_are_explicit(
    timezone: dict[str, Any], policy: dict[str, Any], says: str
) -> None:
    with pytest.raises(ConfigError, match=says):
        _config(timezone, **policy)
