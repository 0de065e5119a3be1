"""Recorder file-name conventions: what a body camera's file name says.

Body cameras (执法记录仪) name their files after the device, the officer's
执法证号, the local start time and a sequence number, or after the device and
the time alone (the officer is then the device's assignee at that time, which
the importer looks up); Axon cameras use titles such as
``Axon Body 3 Video 2021-03-15 0830.mp4``.  :func:`parse_name` turns a
name into :class:`NameFacts`; the patterns come from ``recordkeep.toml``
(:func:`patterns_from_config`) or :data:`DEFAULT_PATTERNS`.

A pattern is a regular expression with named groups that must match the whole
base name (``re.fullmatch``; folders are never matched).  Groups understood:

``device``     device id, kept verbatim
``officer``    执法证号, kept verbatim (leading zeros matter)
``start``      start time ``YYYYMMDDHHMMSS`` (naive local time)
``date``       start date ``YYYY-MM-DD`` (``-``, ``_`` or ``.`` separators, or
               none); needs ``hhmm``
``hhmm``       start time of day ``HHMM`` or ``HHMMSS``; needs ``date``
``seq``        sequence number (decimal digits)
``important``  any non-empty text marks the file as important (重要标记)
``model``      camera model

Any other named group is a configuration error (most often a typo).  A time
that is not a real calendar time (``20211332…``) gives no ``started_at``; it
never raises.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import ConfigError
from ..i18n import _

__all__ = [
    "DEFAULT_PATTERNS",
    "GROUPS",
    "RECORDER_PREFIXES",
    "NameFacts",
    "NamePattern",
    "parse_name",
    "patterns_from_config",
]

GROUPS: frozenset[str] = frozenset(
    {"device", "officer", "start", "date", "hhmm", "seq", "important", "model"}
)
"""The named groups a pattern may use."""

_CONFIG_KEYS = frozenset({"name", "regex"})
_ASCII_DIGITS = re.compile(r"[0-9]+")
_DATE_SEPARATORS = re.compile(r"[-_.]")
_PATH_SEPARATORS = re.compile(r"[/\\]")


@dataclass(frozen=True)
class NamePattern:
    """A named file-name convention; ``regex`` is compiled on first use."""

    name: str
    regex: str

    @property
    def compiled(self) -> re.Pattern[str]:
        """The compiled regex (cached); ConfigError naming this pattern if it
        does not compile or uses a group that is not understood."""
        return _compile(self.name, self.regex)


@functools.lru_cache(maxsize=256)
def _compile(name: str, regex: str) -> re.Pattern[str]:
    try:
        compiled = re.compile(regex)
    except re.error as exc:
        raise ConfigError(
            _("naming pattern {name!r}: invalid regular expression: {error}").format(name=name, error=exc)
        ) from exc
    groups = set(compiled.groupindex)
    unknown = sorted(groups - GROUPS)
    if unknown:
        raise ConfigError(
            _("naming pattern {name!r}: unknown group(s) {unknown}; understood groups are {groups}").format(
                name=name, unknown=", ".join(unknown), groups=", ".join(sorted(GROUPS)))
        )
    if ("date" in groups) != ("hhmm" in groups):
        raise ConfigError(
            _("naming pattern {name!r}: groups 'date' and 'hhmm' must be used together").format(name=name)
        )
    return compiled


RECORDER_PREFIXES: tuple[str, ...] = ("DSJ", "ZF")
"""How recorders' own device ids begin (DSJ: 单兵执法记录仪, ZF: 执法仪, any case): a name
that carries a device and a time but no officer is read only for these, so that a
phone's ``IMG_20210520160000_0001.jpg`` is not taken for device ``IMG``."""

DEFAULT_PATTERNS: tuple[NamePattern, ...] = (
    NamePattern(
        "dsj",
        r"^(?P<device>[A-Za-z0-9]+)_(?P<officer>\d{6,12})_(?P<start>\d{14})"
        r"_(?P<seq>\d{1,6})(?P<important>_IMP)?\.\w+$",
    ),
    NamePattern(
        "dsj_device_time",
        rf"^(?P<device>(?i:{'|'.join(RECORDER_PREFIXES)})[A-Za-z0-9]*)_(?P<start>\d{{14}})"
        r"(?:_(?P<seq>\d{1,6}))?(?P<important>_IMP)?\.\w+$",
    ),
    NamePattern(
        "axon",
        r"^(?P<model>Axon .+?) [Vv]ideo (?P<date>\d{4}-\d{2}-\d{2})[ -](?P<hhmm>\d{4})\.\w+$",
    ),
)
"""``dsj``: ``DEVICE_OFFICER_YYYYMMDDHHMMSS_SEQ[_IMP].ext``;
``dsj_device_time``: ``DEVICE_YYYYMMDDHHMMSS[_SEQ][_IMP].ext``, the device beginning with
one of :data:`RECORDER_PREFIXES` (``DSJ003_20210520160000_0001.MP4``);
``axon``: ``Axon <model> Video YYYY-MM-DD HHMM.ext``."""


@dataclass(frozen=True)
class NameFacts:
    """What a file name says; ``started_at`` is ISO 8601 with milliseconds and
    the offset of the timezone the name's local time was read in."""

    pattern: str
    device: str | None = None
    officer: str | None = None
    started_at: str | None = None
    seq: int | None = None
    important: bool = False
    model: str | None = None

    def to_data(self) -> dict[str, str | int | bool]:
        """The facts as journal data: str/int/bool only, None left out."""
        return {key: value for key, value in asdict(self).items() if value is not None}


def parse_name(
    name: str | os.PathLike[str],
    *,
    patterns: Sequence[NamePattern] = DEFAULT_PATTERNS,
    timezone: str = "Asia/Shanghai",
) -> NameFacts | None:
    """Facts from the first pattern whose regex matches the whole base name of
    ``name``, or None when none matches.

    Folders (``/`` or ``\\``) are ignored.  The name's naive local time is read
    in ``timezone`` (an IANA name); an unknown timezone or a bad pattern raises
    ConfigError.
    """
    zone = _zone(timezone)
    base = _PATH_SEPARATORS.split(os.fspath(name))[-1]
    for pattern in patterns:
        match = pattern.compiled.fullmatch(base)
        if match is None:
            continue
        groups = {k: v for k, v in match.groupdict().items() if v}
        return NameFacts(
            pattern=pattern.name,
            device=groups.get("device"),
            officer=groups.get("officer"),
            started_at=_started_at(groups, zone),
            seq=_ascii_int(groups.get("seq")),
            important=bool(groups.get("important")),
            model=_stripped(groups.get("model")),
        )
    return None


def patterns_from_config(items: list[dict]) -> tuple[NamePattern, ...]:
    """Patterns from the tables in ``recordkeep.toml``
    (``{"name": ..., "regex": ...}``), in order, each compiled now.

    Returns exactly the configured patterns (an empty list gives ``()``); the
    caller decides when to fall back to :data:`DEFAULT_PATTERNS`.  Anything
    malformed raises ConfigError naming the pattern.
    """
    if not isinstance(items, list):
        raise ConfigError(_("naming patterns must be a list of {name, regex} tables"))
    patterns: list[NamePattern] = []
    seen: set[str] = set()
    for position, item in enumerate(items, start=1):
        if not isinstance(item, Mapping):
            raise ConfigError(_("naming pattern #{position} must be a table with name and regex").format(
                position=position))
        label = repr(item["name"]) if isinstance(item.get("name"), str) else f"#{position}"
        extra = sorted(set(item) - _CONFIG_KEYS, key=str)
        if extra:
            raise ConfigError(
                _("naming pattern {label}: unknown key(s) {keys}; only name and regex are read").format(
                    label=label, keys=", ".join(map(str, extra)))
            )
        name, regex = item.get("name"), item.get("regex")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(_("naming pattern {label}: 'name' must be a non-empty string").format(
                label=label))
        if not isinstance(regex, str) or not regex:
            raise ConfigError(_("naming pattern {label}: 'regex' must be a non-empty string").format(
                label=label))
        if name in seen:
            raise ConfigError(_("naming pattern {label}: the name is used twice").format(label=label))
        seen.add(name)
        _compile(name, regex)  # fail at load, not at the first import
        patterns.append(NamePattern(name, regex))
    return tuple(patterns)


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ConfigError(
            _("unknown timezone {timezone!r}").format(timezone=timezone),
            hint=_("give an IANA name such as Asia/Shanghai")
        ) from exc


def _started_at(groups: dict[str, str], zone: ZoneInfo) -> str | None:
    start = groups.get("start")
    if start is not None:
        digits = start if _is_ascii_digits(start, 14) else None
    elif "date" in groups and "hhmm" in groups:
        day = _DATE_SEPARATORS.sub("", groups["date"])
        clock = groups["hhmm"]
        ok = _is_ascii_digits(day, 8) and (
            _is_ascii_digits(clock, 4) or _is_ascii_digits(clock, 6)
        )
        digits = (day + clock).ljust(14, "0") if ok else None
    else:
        digits = None
    if digits is None:
        return None
    try:
        local = datetime(
            int(digits[0:4]), int(digits[4:6]), int(digits[6:8]),
            int(digits[8:10]), int(digits[10:12]), int(digits[12:14]),
            tzinfo=zone,
        )
    except ValueError:
        return None
    return local.isoformat(timespec="milliseconds")


def _is_ascii_digits(text: str, length: int) -> bool:
    return len(text) == length and _ASCII_DIGITS.fullmatch(text) is not None


def _ascii_int(text: str | None) -> int | None:
    if text is None or _ASCII_DIGITS.fullmatch(text) is None:
        return None
    return int(text)


def _stripped(text: str | None) -> str | None:
    if text is None:
        return None
    return text.strip() or None
