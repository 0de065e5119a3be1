"""Times as clerks type them: ``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM[:SS]`` in the store's
timezone, or ISO 8601 with an offset. All results are ISO 8601 strings with
milliseconds and an offset, the form the journal keeps.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from . import errors

_BARE_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_LOCAL = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?")


class BadTime(errors.MalformedInput):
    """A time that does not parse (the CLI treats it as a usage error)."""

    code = "RK405"
    hint = "write YYYY-MM-DD, YYYY-MM-DD HH:MM[:SS], or ISO 8601 with an offset"


FIRST_YEAR, LAST_YEAR = 1000, 9998  # a day and any offset either side stay inside datetime's range


def _in_range(moment: datetime, text: str) -> datetime:
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise errors.InvalidValue(f"time out of range: {text!r}",
                                  hint=f"give a time in the years {FIRST_YEAR} to {LAST_YEAR}")
    return moment


def iso(moment: datetime) -> str:
    """ISO 8601 with milliseconds and offset."""
    return moment.isoformat(timespec="milliseconds")


def parse(text: str, zone: ZoneInfo, *, end_of_day: bool = False) -> str:
    """Parse a time the clerk typed. With ``end_of_day``, a bare date means the next
    midnight (so ``--until 2021-03-15`` includes that whole day)."""
    value = text.strip()
    try:
        if _BARE_DATE.fullmatch(value):
            moment = _in_range(datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=zone), text)
            if end_of_day:
                moment += timedelta(days=1)
            return iso(moment)
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise BadTime(f"not a time: {text!r}") from exc
    if moment.tzinfo is None:
        if not _LOCAL.fullmatch(value):
            raise BadTime(f"not a time: {text!r}")
        moment = moment.replace(tzinfo=zone)
    return iso(_in_range(moment, text).astimezone(zone))


def in_zone(iso_text: str, zone: ZoneInfo) -> str:
    """The same instant shown in ``zone``."""
    return iso(datetime.fromisoformat(iso_text).astimezone(zone))
