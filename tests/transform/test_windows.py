"""Calling-window presets: the API's per-day form, narrowed (never widened) by the operator,
public holidays of the row's country taking the holiday hours."""

from __future__ import annotations

import typing
from datetime import UTC, datetime
from typing import Any

import pytest

from pipeline.config import Config, parse_config
from pipeline.config.calling import PresetName
from pipeline.errors import ConfigError
from pipeline.records import RowChunk
from pipeline.transform import codes
from pipeline.transform.assembly import RowTransformer
from pipeline.transform.windows import PRESETS, WindowDecider

# A Wednesday in March: no Russian public holiday in the week ahead.
PLAIN_WEEK = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
# A Monday: Friday 2027-01-01 to Friday 01-08 are Russia's New Year holidays, so the week
# ahead holds a holiday on every weekday.
NEW_YEAR = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
MOSCOW = "79161234567"


def _spans(window: dict[str, Any], day: str) -> list[tuple[str, str]]:
    return [(w["localTimeFrom"], w["localTimeTo"]) for w in window["allowedTime"][day]]


def test_ru_230fz_expands_to_the_laws_hours_per_day() -> None:
    window = WindowDecider(PRESETS["ru-230fz"], now=PLAIN_WEEK).decide(MOSCOW, {})
    assert isinstance(window, dict)
    assert window["allowedDays"] == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    for day in ("mon", "tue", "wed", "thu", "fri"):
        assert _spans(window, day) == [("08:00", "22:00")]
    assert _spans(window, "sat") == _spans(window, "sun") == [("09:00", "20:00")]


def test_business_calls_on_working_days_only() -> None:
    window = WindowDecider(PRESETS["business"], now=PLAIN_WEEK).decide(MOSCOW, {})
    assert isinstance(window, dict)
    assert window["allowedDays"] == ["mon", "tue", "wed", "thu", "fri"]
    assert set(window["allowedTime"]) == set(window["allowedDays"])


def test_the_operators_window_narrows_the_preset() -> None:
    own = {
        "allowedDays": ["mon", "sat"],
        "allowedTime": {
            "default": [{"localTimeFrom": "10:00", "localTimeTo": "19:00"}],
            "sat": [{"localTimeFrom": "12:00", "localTimeTo": "14:00"}],
        },
    }
    window = WindowDecider(PRESETS["ru-230fz"], now=PLAIN_WEEK).decide(MOSCOW, own)
    assert isinstance(window, dict)
    assert window["allowedDays"] == ["mon", "sat"]
    assert _spans(window, "mon") == [("10:00", "19:00")]
    assert _spans(window, "sat") == [("12:00", "14:00")]


@pytest.mark.parametrize(
    "own",
    [
        # 21:00 on a Saturday: 230-FZ allows 09:00-20:00 at weekends
        {"allowedTime": {"default": [{"localTimeFrom": "10:00", "localTimeTo": "21:00"}]}},
        {"allowedTime": {"mon": [{"localTimeFrom": "07:30", "localTimeTo": "12:00"}]}},
    ],
)
def test_a_window_wider_than_the_preset_is_refused_not_clipped(own: dict[str, Any]) -> None:
    problem = WindowDecider(PRESETS["ru-230fz"], now=PLAIN_WEEK).decide(MOSCOW, own)
    assert isinstance(problem, tuple) and problem[0] == codes.WINDOW_NOT_ALLOWED


def test_a_weekend_day_is_refused_by_the_business_preset() -> None:
    problem = WindowDecider(PRESETS["business"], now=PLAIN_WEEK).decide(
        MOSCOW, {"allowedDays": ["sat"]}
    )
    assert problem == (
        codes.WINDOW_NOT_ALLOWED,
        "the row's call window is wider than the preset: business allows no calls on sat",
    )


def test_public_holidays_get_the_weekend_hours() -> None:
    window = WindowDecider(PRESETS["ru-230fz"], now=NEW_YEAR).decide(MOSCOW, {})
    assert isinstance(window, dict)
    # Jan 4-8 cover every weekday: all of them take the weekend's 09:00-20:00
    assert {day: _spans(window, day) for day in window["allowedDays"]} == {
        day: [("09:00", "20:00")] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    }
    off = WindowDecider(PRESETS["ru-230fz"], now=NEW_YEAR, use_holidays=False).decide(MOSCOW, {})
    assert isinstance(off, dict) and _spans(off, "mon") == [("08:00", "22:00")]


def test_holidays_follow_the_rows_own_period_and_country() -> None:
    windows = WindowDecider(PRESETS["ru-230fz"], now=PLAIN_WEEK)
    # Unity Day, Thursday 2027-11-04, falls in the row's start..finish; Tuesday does not
    unity = {
        "startDateTime": "2027-11-03T09:00:00+03:00",
        "finishDateTime": "2027-11-04T20:00:00+03:00",
    }
    window = windows.decide(MOSCOW, unity)
    assert isinstance(window, dict) and _spans(window, "thu") == [("09:00", "20:00")]
    assert _spans(window, "tue") == [("08:00", "22:00")]
    # a German number in the same period: Russia's holiday is not Germany's
    german = windows.decide("4930123456", unity)
    assert isinstance(german, dict) and _spans(german, "thu") == [("08:00", "22:00")]


def test_business_drops_holiday_weekdays_and_refuses_a_week_of_holidays() -> None:
    problem = WindowDecider(PRESETS["business"], now=NEW_YEAR).decide(MOSCOW, {})
    assert isinstance(problem, tuple) and problem[0] == codes.WINDOW_NOT_ALLOWED
    assert "public holidays" in problem[1]


def test_config_preset_names_are_the_transforms_presets() -> None:
    assert set(typing.get_args(PresetName)) == set(PRESETS)


HEADER = ("phone", "days", "time")


def _config(window: dict[str, Any], **policy: Any) -> Config:
    return parse_config(
        {
            "columns": {
                "phone": "phone",
                "policy": {"allowedDays": "days", "allowedTime": "time"},
            },
            "policy": {**policy, "window": window},
        },
        environ={},
    )


def test_rows_asking_for_more_than_the_preset_are_rejected_with_a_reason() -> None:
    rows = RowTransformer(_config({"preset": "ru-230fz"}), HEADER, now=PLAIN_WEEK)
    result = rows.transform(
        RowChunk([1, 2, 3], [[MOSCOW, "", ""], [MOSCOW, "sat", "09:00-21:00"], [MOSCOW, "mon", ""]])
    )
    assert [(r.row, r.code) for r in result.rejections] == [(2, codes.WINDOW_NOT_ALLOWED)]
    assert [i.policy["allowedDays"] for i in result.items] == [
        ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        ["mon"],
    ]
    # the row's identity is what the operator gave, not the preset's expansion
    assert result.items[0].given == {} and result.items[1].given == {"allowedDays": ["mon"]}


def test_a_fixed_window_wider_than_the_preset_is_a_config_error() -> None:
    wide = {"default": [{"localTimeFrom": "07:00", "localTimeTo": "12:00"}]}
    with pytest.raises(ConfigError, match=r"policy.allowedDays/allowedTime.*ru-230fz"):
        RowTransformer(_config({"preset": "ru-230fz"}, allowedTime=wide), HEADER, now=PLAIN_WEEK)


def test_an_unknown_preset_is_a_config_error_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"policy\.window\.preset") as caught:
        _config({"preset": "ru-152fz"})
    assert caught.value.exit_code == 4
