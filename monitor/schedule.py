"""Crontab expressions -> APScheduler triggers, with crontab's meaning of weekday numbers.

APScheduler 3 counts weekdays from Monday = 0, so its own `CronTrigger.from_crontab("30 7 * * 1-5")`
fires Tuesday to Saturday. Maintainers write crontab, where 0 and 7 are Sunday and 1-5 is Monday to
Friday; we translate the weekday field to names before APScheduler sees it.
"""

from __future__ import annotations

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _weekdays(field: str) -> str:
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for part in field.lower().split(","):
        rng, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(f"bad step in weekday field {field!r}")
        if rng == "*":
            lo, hi = 0, 6
        else:
            a, _, b = rng.partition("-")
            lo, hi = _day(a), _day(b) if b else _day(a)
            if hi < lo:
                raise ValueError(f"weekday range {rng!r} runs backwards")
        days.update(d % 7 for d in range(lo, hi + 1, step))
    return ",".join(_NAMES[d] for d in sorted(days))


def _day(text: str) -> int:
    text = text.strip()
    if text in _NAMES:
        return _NAMES.index(text)
    if text.isdigit() and 0 <= int(text) <= 7:
        return int(text)  # 7 is Sunday too; kept as 7 so that "5-7" is a valid range
    raise ValueError(f"{text!r} is not a weekday (0-7 or sun-sat)")


def cron_trigger(expr: str, timezone: str = "UTC") -> BaseTrigger:
    """A trigger for a 5-field crontab line (minute hour day month weekday) in a time zone.

    As in crontab, when both the day of month and the weekday are restricted, a day matching
    either one fires ("0 7 1 * 1": the 1st of each month and every Monday).
    """
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"wrong number of fields; got {len(fields)}, expected 5")
    minute, hour, day, month, weekday = fields

    def trigger(day: str, weekday: str) -> CronTrigger:
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=_weekdays(weekday),
            timezone=timezone,
        )

    if day not in ("*", "?") and weekday not in ("*", "?"):
        return OrTrigger([trigger(day, "*"), trigger("*", weekday)])
    return trigger(day, weekday)
