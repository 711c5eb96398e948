"""Schedule expressions: when a ``schedule:`` trigger fires next.

The one ``cron:`` field takes three forms, all evaluated in UTC:

- a classic five-field cron line (``0 3 * * *``), evaluated by croniter;
- EventBridge's ``rate(N minute|minutes|hour|hours|day|days)``: every N units
  on a fixed UTC grid (multiples of the period since the epoch), so every node
  of a cluster computes the same ticks and the store's claim keeps one firing
  per tick (EventBridge anchors a rate at the rule's creation instead; the
  period is the same);
- EventBridge's ``cron(minutes hours day-of-month month day-of-week year)``
  with its own rules: day-of-week ``1-7`` is ``SUN-SAT``, exactly one of the
  two day fields is ``?``, ``L`` (last day of the month; ``5L`` the last
  Thursday), ``W`` (``15W`` the weekday nearest the 15th, ``LW`` the last
  weekday), ``#`` (``2#1`` the first Monday) and a year field (1970-2199).

Anything else is refused with a ``ScheduleError`` that says what is wrong, at
deploy time (the manifest validates every expression), so the scheduler
never meets an expression it cannot evaluate.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from croniter import croniter

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1
    )
}
_DAYS = {d: i for i, d in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), 1)}
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_YEARS = (1970, 2199)
_HINT = "use a five-field cron line, rate(5 minutes) or cron(0/2 * ? * MON-FRI *)"


class ScheduleError(ValueError):
    """An expression that cannot be evaluated.  A ``ValueError`` so that the
    manifest reports it as a problem of the ``cron`` field."""


class Schedule(Protocol):
    def next_after(self, ts: float) -> float | None:
        """The first fire time strictly after ``ts`` (epoch seconds), or None: never again."""
        ...


def parse_schedule(expression: str) -> Schedule:
    """Parse any of the three forms; raise ``ScheduleError`` naming the problem."""
    if not isinstance(expression, str):
        raise ScheduleError(f"a schedule is text: {_HINT}")
    text = expression.strip()
    if text.startswith("rate(") and text.endswith(")"):
        return _rate(text)
    if text.startswith("cron(") and text.endswith(")"):
        return _AwsCron.parse(text)
    if len(text.split()) == 5:
        if not croniter.is_valid(text):
            raise ScheduleError(f"{expression!r} is not a valid five-field cron expression")
        return _Classic(text)
    raise ScheduleError(f"{expression!r} is not a schedule expression: {_HINT}")


@dataclass(frozen=True)
class _Classic:
    expression: str

    def next_after(self, ts: float) -> float | None:
        return float(croniter(self.expression, ts).get_next(float))


@dataclass(frozen=True)
class _Rate:
    period: int  # seconds

    def next_after(self, ts: float) -> float | None:
        return float((math.floor(ts / self.period) + 1) * self.period)


def _rate(text: str) -> _Rate:
    match = re.fullmatch(r"rate\(\s*(\S+)\s+(\S+)\s*\)", text)
    if not match or not match.group(1).isdigit():
        raise ScheduleError(
            f"{text!r}: rate(...) takes a whole number and a unit, as rate(5 minutes)"
        )
    value, unit = int(match.group(1)), match.group(2).lower()
    if value <= 0:
        raise ScheduleError(f"{text!r}: the rate must be a positive number")
    singular = unit.removesuffix("s")
    if singular not in _UNITS:
        raise ScheduleError(f"{text!r}: the unit must be minute(s), hour(s) or day(s)")
    if value == 1 and unit != singular:
        raise ScheduleError(f"{text!r}: a rate of 1 takes the singular unit: rate(1 {singular})")
    if value > 1 and unit == singular:
        raise ScheduleError(f"{text!r}: a rate above 1 takes the plural unit: {singular}s")
    return _Rate(value * _UNITS[singular])


# --- EventBridge cron(...) ---------------------------------------------------------------------


def _number(token: str, lo: int, hi: int, names: dict[str, int] | None, field: str) -> int:
    upper = token.upper()
    if names and upper in names:
        return names[upper]
    if not token.isdigit():
        raise ScheduleError(f"{field} field: {token!r} is not a number from {lo} to {hi}")
    value = int(token)
    if not lo <= value <= hi:
        raise ScheduleError(f"{field} field: {value} is outside {lo}-{hi}")
    return value


def _values(
    text: str, lo: int, hi: int, field: str, names: dict[str, int] | None = None
) -> frozenset[int]:
    """``*``, ``a``, ``a-b`` (wrapping past ``hi``), each with an optional ``/step``, in lists."""
    out: set[int] = set()
    for part in text.split(","):
        base, slash, step_text = part.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ScheduleError(
                    f"{field} field: the step in {part!r} must be a positive number"
                )
            step = int(step_text)
        if base == "*":
            start, end = lo, hi
        elif "-" in base:
            a, _, b = base.partition("-")
            start, end = _number(a, lo, hi, names, field), _number(b, lo, hi, names, field)
        else:
            start = _number(base, lo, hi, names, field)
            end = hi if slash else start
        span = (
            list(range(start, end + 1))
            if start <= end
            else [*range(start, hi + 1), *range(lo, end + 1)]
        )
        out.update(span[::step])
    return frozenset(out)


@dataclass(frozen=True)
class _DaySpec:
    """Which days of a month match: the one non-``?`` day field, already parsed."""

    days: frozenset[int] = frozenset()  # day-of-month numbers, or
    weekdays: frozenset[int] = frozenset()  # day-of-week numbers (1 = SUN)
    last: bool = False  # L in day-of-month
    nearest: int = 0  # NW in day-of-month (0: none); -1: LW
    last_weekday: int = 0  # NL in day-of-week: the last such weekday
    nth: tuple[int, int] = (0, 0)  # N#k in day-of-week: the k-th such weekday

    def matching(self, year: int, month: int) -> list[int]:
        length = calendar.monthrange(year, month)[1]

        def dow(day: int) -> int:  # 1 = SUN ... 7 = SAT
            return (calendar.weekday(year, month, day) + 1) % 7 + 1

        if self.last:
            return [length]
        if self.nearest:
            target = length if self.nearest == -1 else self.nearest
            if target > length:
                return []
            return [_nearest_weekday(target, length, dow)]
        if self.last_weekday:
            return [max(d for d in range(length - 6, length + 1) if dow(d) == self.last_weekday)]
        if self.nth[0]:
            weekday, k = self.nth
            found = [d for d in range(1, length + 1) if dow(d) == weekday]
            return [found[k - 1]] if k <= len(found) else []
        if self.weekdays:
            return [d for d in range(1, length + 1) if dow(d) in self.weekdays]
        return [d for d in sorted(self.days) if d <= length]


def _nearest_weekday(target: int, length: int, dow: Callable[[int], int]) -> int:
    """The weekday nearest ``target`` without leaving the month (Quartz's ``W``)."""
    d = dow(target)
    if d == 7:  # Saturday: Friday before, or Monday after if the 1st
        return target - 1 if target > 1 else target + 2
    if d == 1:  # Sunday: Monday after, or Friday before if the last day
        return target + 1 if target < length else target - 2
    return target


def _day_of_month(text: str) -> _DaySpec:
    upper = text.upper()
    if upper == "L":
        return _DaySpec(last=True)
    if upper == "LW":
        return _DaySpec(nearest=-1)
    if upper.endswith("W"):
        return _DaySpec(nearest=_number(upper[:-1], 1, 31, None, "day-of-month"))
    if "L" in upper or "W" in upper or "#" in upper:
        raise ScheduleError(f"day-of-month field: {text!r} is not supported (use L, LW or NW)")
    return _DaySpec(days=_values(text, 1, 31, "day-of-month"))


def _day_of_week(text: str) -> _DaySpec:
    upper = text.upper()
    if upper == "L":
        return _DaySpec(weekdays=frozenset({7}))
    if "#" in upper:
        day, _, k = upper.partition("#")
        weekday = _number(day, 1, 7, _DAYS, "day-of-week")
        if not k.isdigit() or not 1 <= int(k) <= 5:
            raise ScheduleError(f"day-of-week field: in {text!r} the # must be followed by 1 to 5")
        return _DaySpec(nth=(weekday, int(k)))
    if upper.endswith("L"):
        return _DaySpec(last_weekday=_number(upper[:-1], 1, 7, _DAYS, "day-of-week"))
    return _DaySpec(weekdays=_values(text, 1, 7, "day-of-week", _DAYS))


@dataclass(frozen=True)
class _AwsCron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: _DaySpec
    months: frozenset[int]
    years: frozenset[int]

    @classmethod
    def parse(cls, text: str) -> _AwsCron:
        fields = text[len("cron(") : -1].split()
        if len(fields) != 6:
            raise ScheduleError(
                f"{text!r}: cron(...) takes six fields: minutes hours day-of-month month "
                "day-of-week year"
            )
        minute, hour, dom, month, dow, year = fields
        if (dom == "?") == (dow == "?"):
            raise ScheduleError(f"{text!r}: use ? in exactly one of day-of-month and day-of-week")
        return cls(
            minutes=_values(minute, 0, 59, "minutes"),
            hours=_values(hour, 0, 23, "hours"),
            days=_day_of_week(dow) if dom == "?" else _day_of_month(dom),
            months=_values(month, 1, 12, "month", _MONTHS),
            years=_values(year, *_YEARS, "year"),
        )

    def next_after(self, ts: float) -> float | None:
        start = datetime.fromtimestamp(math.floor(ts / 60) * 60, UTC) + timedelta(minutes=1)
        for year in sorted(y for y in self.years if y >= start.year):
            for month in sorted(self.months):
                if (year, month) < (start.year, start.month):
                    continue
                for day in self.days.matching(year, month):
                    if (year, month, day) < (start.year, start.month, start.day):
                        continue
                    same_day = (year, month, day) == (start.year, start.month, start.day)
                    for hour in sorted(self.hours):
                        if same_day and hour < start.hour:
                            continue
                        same_hour = same_day and hour == start.hour
                        for minute in sorted(self.minutes):
                            if same_hour and minute < start.minute:
                                continue
                            return datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp()
        return None
