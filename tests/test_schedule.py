"""Channel schedules mean what crontab means."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.schedule import cron_trigger


def fires(expr: str, n: int = 6, tz: str = "Europe/Berlin") -> list[str]:
    trigger = cron_trigger(expr, tz)
    at = datetime(2026, 11, 20, tzinfo=UTC)  # a Friday
    out = []
    for _ in range(n):
        at = trigger.get_next_fire_time(None, at)
        out.append(at.strftime("%a %d %H:%M"))
        at += timedelta(seconds=1)
    return out


def test_weekdays_one_to_five_are_monday_to_friday() -> None:
    assert [f[:3] for f in fires("30 7 * * 1-5")] == ["Fri", "Mon", "Tue", "Wed", "Thu", "Fri"]
    assert fires("30 7 * * 1-5")[0] == "Fri 20 07:30"  # local time in the channel's zone


def test_zero_and_seven_are_sunday() -> None:
    assert {f[:3] for f in fires("0 9 * * 0")} == {"Sun"}
    assert {f[:3] for f in fires("0 9 * * 7")} == {"Sun"}
    assert [f[:3] for f in fires("0 9 * * 5-7", 3)] == ["Fri", "Sat", "Sun"]


def test_day_of_month_or_weekday_as_in_crontab() -> None:
    assert fires("0 7 1 * 1", 3) == ["Mon 23 07:00", "Mon 30 07:00", "Tue 01 07:00"]


@pytest.mark.parametrize("bad", ["* * * *", "0 7 * * 8", "0 7 * * 5-2", "soon"])
def test_bad_expressions_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        cron_trigger(bad)
