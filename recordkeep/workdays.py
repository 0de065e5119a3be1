"""Mainland China working days (工作日), holidays and make-up days included.

A thin wrapper over the chinese-calendar package (PyPI ``chinesecalendar``),
which knows each year only once the State Council has published its holiday
arrangement. A day in a year it does not know raises :class:`errors.UnknownYear`:
callers report the answer as unknown, never guess from weekdays.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar

from . import errors


def is_workday(day: date) -> bool:
    """True for a working day: a weekday that is not a holiday, or a make-up day (调休)."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError as exc:
        raise errors.UnknownYear(day.year) from exc


def nth_workday_after(day: date, n: int) -> date:
    """The ``n``-th working day counted from the day after ``day`` (n >= 1)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    count, probe = 0, day
    while count < n:
        probe += timedelta(days=1)
        if is_workday(probe):
            count += 1
    return probe


def workdays_between(start: date, end: date) -> int:
    """Working days strictly after ``start`` and up to and including ``end`` (0 when
    ``end <= start``): the ordinal of ``end`` when it is itself a working day."""
    count, probe = 0, start
    while probe < end:
        probe += timedelta(days=1)
        if is_workday(probe):
            count += 1
    return count


def within_workdays(start: date, end: date, n: int) -> bool:
    """Whether ``end`` falls on or before the ``n``-th working day after ``start``.

    Only the days that decide the answer are looked up, so an end date early in a
    year the calendar knows is answered even when the deadline would lie beyond it.
    """
    count, probe = 0, start
    while probe + timedelta(days=1) < end:  # the working days strictly before ``end``
        probe += timedelta(days=1)
        if is_workday(probe):
            count += 1
            if count >= n:
                return False
    return True
