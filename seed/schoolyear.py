"""The mock district's school-year calendar, derived from `as_of` alone."""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, timedelta

MONDAY, THURSDAY, FRIDAY = 0, 3, 4


def school_year_of(day: date) -> int:
    """The calendar year the school year holding `day` starts in (years turn on 1 August)."""
    return day.year if day.month >= 8 else day.year - 1


def nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def last_weekday(year: int, month: int, weekday: int) -> date:
    following = date(year + month // 12, month % 12 + 1, 1)
    last = following - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def holidays(year: int) -> set[date]:
    """A typical US district's days off between late August and mid June."""
    thanksgiving = nth_weekday(year, 11, THURSDAY, 4)
    spring_break = nth_weekday(year + 1, 4, MONDAY, 1)
    days = {
        nth_weekday(year, 9, MONDAY, 1),  # Labor Day
        nth_weekday(year, 10, MONDAY, 2),  # Indigenous Peoples' Day
        date(year, 11, 11),  # Veterans Day
        thanksgiving - timedelta(days=1),
        thanksgiving,
        thanksgiving + timedelta(days=1),
        nth_weekday(year + 1, 1, MONDAY, 3),  # Martin Luther King Jr. Day
        nth_weekday(year + 1, 2, MONDAY, 3) - timedelta(days=3),  # mid-winter Friday
        nth_weekday(year + 1, 2, MONDAY, 3),  # Presidents' Day
        last_weekday(year + 1, 5, MONDAY),  # Memorial Day
    }
    days.update(days_between(date(year, 12, 22), date(year + 1, 1, 2)))
    days.update(days_between(spring_break, spring_break + timedelta(days=4)))
    return days


@dataclass(frozen=True)
class SchoolCalendar:
    """One district calendar shared by every school: `weekdays` are the calendar rows,
    `instructional` the school days among them, `elapsed` those up to and including as_of."""

    year: int
    as_of: date
    starts_on: date
    ends_on: date
    weekdays: tuple[date, ...]
    instructional: tuple[date, ...]
    elapsed: tuple[date, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "elapsed", self.instructional[: bisect_right(self.instructional, self.as_of)])

    @property
    def quarter_ends(self) -> tuple[date, ...]:
        total = len(self.instructional)
        return tuple(self.instructional[round(total * k / 4) - 1] for k in range(1, 5))


def build_calendar(as_of: date) -> SchoolCalendar:
    year = school_year_of(as_of)
    starts_on = date(year, 8, 17) + timedelta(days=(MONDAY - date(year, 8, 17).weekday()) % 7)
    ends_on = date(year + 1, 6, 16) - timedelta(days=(date(year + 1, 6, 16).weekday() - FRIDAY) % 7)
    weekdays = tuple(d for d in days_between(starts_on, ends_on) if d.weekday() < 5)
    off = holidays(year)
    return SchoolCalendar(
        year=year,
        as_of=as_of,
        starts_on=starts_on,
        ends_on=ends_on,
        weekdays=weekdays,
        instructional=tuple(d for d in weekdays if d not in off),
    )
