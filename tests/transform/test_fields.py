"""Payload typing, per-row call-policy cells, and the same rules for fixed config values."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.config import parse_config
from pipeline.errors import ConfigError
from pipeline.transform import codes
from pipeline.transform.fields import POLICY_CONVERTERS, FieldError, to_json


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("string", "Иванов И.И.", "Иванов И.И."),
        ("int", "1 000", 1000),
        ("int", "-12", -12),
        ("decimal", "1 234,50", "1234.50"),
        ("decimal", "0.10", "0.10"),
        ("date", "31.12.2024", "2024-12-31"),
        ("date", "2024-12-31", "2024-12-31"),
        ("date", "2024-12-31 00:00:00", "2024-12-31"),
        ("datetime", "31.12.2024 09:05", "2024-12-31T09:05:00"),
        ("datetime", "2024-12-31T09:05:00+03:00", "2024-12-31T09:05:00+03:00"),
        ("datetime", "2024-12-31 09:05:07", "2024-12-31T09:05:07"),
        ("bool", "Да", True),
        ("bool", "no", False),
    ],
)
def test_payload_types(kind: str, text: str, expected: Any) -> None:
    assert to_json(kind, text) == expected


@pytest.mark.parametrize(
    ("kind", "text", "code"),
    [
        ("int", "12.5", codes.PAYLOAD_INVALID),
        ("decimal", "1,234.50", codes.PAYLOAD_AMBIGUOUS),
        ("decimal", "1.5E+3", codes.PAYLOAD_INVALID),
        ("date", "01/02/2024", codes.PAYLOAD_AMBIGUOUS),
        ("date", "31.02.2024", codes.PAYLOAD_INVALID),
        ("date", "31.12.24", codes.PAYLOAD_INVALID),
        ("datetime", "01/02/2024 10:00", codes.PAYLOAD_AMBIGUOUS),
        ("datetime", "2024-12-31", codes.PAYLOAD_INVALID),
        ("bool", "maybe", codes.PAYLOAD_INVALID),
    ],
)
def test_payload_rejections(kind: str, text: str, code: str) -> None:
    with pytest.raises(FieldError) as err:
        to_json(kind, text)
    assert err.value.code == code and repr(text) in err.value.message


@pytest.mark.parametrize(
    ("field", "text", "expected"),
    [
        ("gmtZone", "Z", "+00:00"),
        ("gmtZone", "+3", "+03:00"),
        ("gmtZone", "-0530", "-05:30"),
        ("gmtZone", "GMT-05:30", "-05:30"),
        ("gmtZone", "UTC+18", "+18:00"),
        ("gmtZone", "+03:30:15", "+03:30:15"),
        ("gmtZone", "Europe/Moscow", "Europe/Moscow"),
        ("startDateTime", "2030-01-31T10:00:00Z", "2030-01-31T10:00:00+00:00"),
        ("allowedDays", "Fri, mon wed", ["mon", "wed", "fri"]),
        (
            "allowedTime",
            "9:00-13:00, 14:00-18:00",
            {
                "default": [
                    {"localTimeFrom": "09:00", "localTimeTo": "13:00"},
                    {"localTimeFrom": "14:00", "localTimeTo": "18:00"},
                ]
            },
        ),
        ("maxAttempts", "50", 50),
        ("retryIntervalInMinutes", "2880", 2880),
        ("dialerPriority", "1", 1),
    ],
)
def test_policy_cells(field: str, text: str, expected: Any) -> None:
    assert POLICY_CONVERTERS[field](text) == expected


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("gmtZone", "+19"),
        ("gmtZone", "+18:01"),
        ("gmtZone", "+03:60"),
        ("gmtZone", "Moscow"),
        ("gmtZone", "Mars/Olympus"),
        ("startDateTime", "2030-01-31T10:00:00"),  # no offset
        ("allowedDays", "mon, funday"),
        ("allowedDays", "mon mon"),
        ("allowedTime", "10:00-12:00, 11:00-13:00"),  # overlap
        ("allowedTime", "10:00-12:00, 12:00-13:00"),  # touching
        ("allowedTime", "18:00-09:00"),  # over midnight
        ("allowedTime", "24:00-25:00"),
        ("maxAttempts", "0"),
        ("maxAttempts", "51"),
        ("retryIntervalInMinutes", "2881"),
        ("dialerPriority", "6"),
        ("dialerPriority", "2.0"),
    ],
)
def test_policy_cell_rejections_name_the_field(field: str, text: str) -> None:
    with pytest.raises(FieldError) as err:
        POLICY_CONVERTERS[field](text)
    assert err.value.code == codes.POLICY_INVALID and field in err.value.message


def test_fixed_policy_is_checked_at_config_load_naming_the_key() -> None:
    cfg = parse_config(
        {
            "policy": {
                "gmtZone": "GMT+3",
                "allowedDays": ["mon", "tue"],
                "allowedTime": {"default": [{"localTimeFrom": "10:00", "localTimeTo": "18:00"}]},
                "maxAttempts": 3,
            }
        },
        environ={},
    )
    assert cfg.policy.api_values() == {
        "gmtZone": "+03:00",
        "allowedDays": ["mon", "tue"],
        "allowedTime": {"default": [{"localTimeFrom": "10:00", "localTimeTo": "18:00"}]},
        "maxAttempts": 3,
    }
    bad = {
        "gmtZone": "+25",
        "maxAttempts": 99,
        "dialerPriority": 0,
        "retryIntervalInMinutes": 3000,
        "allowedDays": ["mon", "mon"],
        "startDateTime": "2030-01-01T10:00:00",
    }
    for key, value in bad.items():
        with pytest.raises(ConfigError, match=rf"policy\.{key}"):
            parse_config({"policy": {key: value}}, environ={})
    overlap = {
        "mon": [
            {"localTimeFrom": "10:00", "localTimeTo": "12:00"},
            {"localTimeFrom": "11:00", "localTimeTo": "13:00"},
        ]
    }
    with pytest.raises(ConfigError, match=r"policy\.allowedTime.*overlaps"):
        parse_config({"policy": {"allowedTime": overlap}}, environ={})
    window = {"startDateTime": "2030-01-02T00:00:00Z", "finishDateTime": "2030-01-01T00:00:00Z"}
    with pytest.raises(ConfigError, match="before finishDateTime"):
        parse_config({"policy": window}, environ={})


def test_columns_and_phone_sections_validate() -> None:
    cfg = parse_config(
        {
            "columns": {
                "phone": ["Телефон", "Phone"],
                "payload": {"name": "ФИО", "debt": {"column": "Сумма", "type": "decimal"}},
                "policy": {"gmtZone": "Часовой пояс"},
            },
            "phone": {"default_region": "kz", "allowed_regions": ["ru", "KZ"]},
        },
        environ={},
    )
    assert cfg.columns.payload_fields()["name"].type == "string"
    assert cfg.phone.default_region == "KZ" and cfg.phone.allowed_regions == ["RU", "KZ"]
    with pytest.raises(ConfigError, match=r"phone\.default_region"):
        parse_config({"phone": {"default_region": "XX"}}, environ={})
    with pytest.raises(ConfigError, match=r"columns\.policy"):
        parse_config({"columns": {"policy": {"gmtzone": "tz"}}}, environ={})
    with pytest.raises(ConfigError, match=r"phone\.multiple"):
        parse_config({"phone": {"multiple": "split"}}, environ={})
