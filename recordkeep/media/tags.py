"""Facts in embedded metadata: recording times (ISO, EXIF, PDF dates), GPS positions
(ISO 6709, EXIF) and the make, model, serial and officer a tag names.

Times come back as ISO 8601 with offset and milliseconds in the given zone; a clock without
an offset is taken in that zone and the zone is returned as assumed. GPS is decimal degrees
as text with six decimals; no floats leave this module.
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import ConfigError

_EXIF_TIME = re.compile(r"^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}:\d{2}(?::\d{2})?)(.*)$")
_TIME_ONLY = re.compile(r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")
_DATE_ONLY = re.compile(r"^\d{4}[-:]\d{2}[-:]\d{2}$")
_OFFSET = re.compile(r"^(?:Z|[+-]\d{2}:?\d{2})$")
_PDF_DATE = re.compile(
    r"^D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?"
    r"(?:(Z)(?:00'?00'?)?|([+-])(\d{2})'?(\d{2})?'?)?"
)


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"unknown timezone {name!r}",
                          hint="use an IANA zone name such as Asia/Shanghai") from exc


def clean(value: Any) -> str | None:
    """A tag value as stripped text, or None when empty."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = str(value).replace("\x00", " ").strip()
    return text or None


def _finish_time(dt: datetime, zone: ZoneInfo, zone_name: str) -> tuple[str, str | None] | None:
    if dt.year < 1970:  # 1904/1970 epoch zero: the camera clock was never set
        return None
    assumed = None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=zone)
        assumed = zone_name
    else:
        dt = dt.astimezone(zone)
    return dt.isoformat(timespec="milliseconds"), assumed


def parse_time(text: str | None, zone: ZoneInfo, zone_name: str, *,
                offset: str | None = None, subsec: str | None = None,
                ) -> tuple[str, str | None] | None:
    """Parse an ISO/EXIF time; returns (iso with offset and ms, assumed zone or None)."""
    text = clean(text)
    if not text:
        return None
    m = _EXIF_TIME.match(text)
    if m:
        text = f"{m.group(1)}-{m.group(2)}-{m.group(3)}T{m.group(4)}{m.group(5).strip()}"
    if text.endswith(" UTC"):
        text = text[:-4] + "Z"
    if "T" not in text and " " not in text:
        return None  # a date alone is no recording time
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    subsec = clean(subsec)
    if subsec and subsec.isdigit() and dt.microsecond == 0:
        dt = dt.replace(microsecond=int((subsec + "000000")[:6]))
    offset = clean(offset)
    if dt.tzinfo is None and offset and _OFFSET.match(offset):
        with contextlib.suppress(ValueError):
            dt = datetime.fromisoformat(dt.isoformat() + offset)
    return _finish_time(dt, zone, zone_name)


def parse_pdf_date(text: str | None, zone: ZoneInfo,
                    zone_name: str) -> tuple[str, str | None] | None:
    text = clean(text)
    if not text:
        return None
    m = _PDF_DATE.match(text if text.startswith("D:") else "D:" + text)
    if not m:
        return None
    year, month, day, hour, minute, second, z, sign, oh, om = m.groups()
    try:
        dt = datetime(int(year), int(month or 1), int(day or 1), int(hour or 0),
                      int(minute or 0), int(second or 0))
        if z:
            dt = dt.replace(tzinfo=UTC)
        elif sign:
            delta = timedelta(hours=int(oh), minutes=int(om or 0))
            dt = dt.replace(tzinfo=dt_timezone(delta if sign == "+" else -delta))
    except ValueError:
        return None
    return _finish_time(dt, zone, zone_name)


_SIX = Decimal("0.000001")
_ISO6709 = re.compile(
    r"^([+-])(\d+(?:\.\d*)?)([+-])(\d+(?:\.\d*)?)(?:[+-]\d+(?:\.\d*)?)?(?:CRS\S*)?/?$")


def _degrees_text(value: Decimal, limit: int) -> str | None:
    if abs(value) > limit:
        return None
    return str(value.quantize(_SIX, rounding=ROUND_HALF_EVEN))


def _iso6709_part(sign: str, digits: str, deg_digits: int) -> Decimal | None:
    """ISO 6709 ±DD.D, ±DDMM.M or ±DDMMSS.S (lon: DDD...) as signed decimal degrees."""
    whole, _, frac = digits.partition(".")
    frac_part = Decimal("0." + frac) if frac else Decimal(0)
    try:
        if len(whole) <= deg_digits:
            value = Decimal(whole) + frac_part
        elif len(whole) == deg_digits + 2:
            value = Decimal(whole[:deg_digits]) + (Decimal(whole[deg_digits:]) + frac_part) / 60
        elif len(whole) == deg_digits + 4:
            value = (Decimal(whole[:deg_digits]) + Decimal(whole[deg_digits:deg_digits + 2]) / 60
                     + (Decimal(whole[deg_digits + 2:]) + frac_part) / 3600)
        else:
            return None
    except InvalidOperation:
        return None
    return -value if sign == "-" else value


def gps_from_iso6709(text: str | None) -> tuple[str, str] | None:
    text = clean(text)
    if not text:
        return None
    m = _ISO6709.match(text)
    if not m:
        return None
    lat = _iso6709_part(m.group(1), m.group(2), 2)
    lon = _iso6709_part(m.group(3), m.group(4), 3)
    return gps_pair(lat, lon)


def gps_pair(lat: Decimal | None, lon: Decimal | None) -> tuple[str, str] | None:
    if lat is None or lon is None or (lat == 0 and lon == 0):  # 0,0: a camera without a fix
        return None
    lat_text = _degrees_text(lat, 90)
    lon_text = _degrees_text(lon, 180)
    if lat_text is None or lon_text is None:
        return None
    return lat_text, lon_text


def rational(value: Any) -> Fraction | None:
    try:
        if isinstance(value, tuple) and len(value) == 2:
            return Fraction(int(value[0]), int(value[1]))
        num = getattr(value, "numerator", None)
        den = getattr(value, "denominator", None)
        if num is not None and den is not None:
            return Fraction(int(num), int(den))
        if isinstance(value, int):
            return Fraction(value)
    except (ZeroDivisionError, TypeError, ValueError):
        return None
    return None


def exif_coordinate(value: Any, ref: Any) -> Decimal | None:
    if not isinstance(value, (tuple, list)) or not value:
        return None
    parts = [rational(v) for v in (*value[:3], 0, 0)[:3]]
    if any(p is None for p in parts):
        return None
    total = Fraction(0)
    for part, scale in zip(parts, (1, 60, 3600), strict=True):
        total += part / scale  # type: ignore[operator]
    degrees = Decimal(total.numerator) / Decimal(total.denominator)
    ref_text = clean(ref) or ""
    return -degrees if ref_text[:1].upper() in ("S", "W") else degrees


MAKE_KEYS = ("com.apple.quicktime.make", "make", "manufacturer", "com.android.manufacturer")
MODEL_KEYS = ("com.apple.quicktime.model", "model", "com.android.model", "device_model")
SERIAL_KEYS = ("com.apple.quicktime.serial", "serial", "serial_number", "serialnumber",
                "device_serial", "camera_serial", "sn")
_OFFICER_KEYS = ("officer", "officer_id", "officerid", "police_id", "policeid", "police_no",
                 "badge", "badge_number", "user_id", "userid")
_ID_LIKE_KEYS = ("artist", "author")
_FREE_TEXT_KEYS = ("comment", "description", "title", "com.apple.quicktime.description")
LOCATION_KEYS = ("com.apple.quicktime.location.iso6709", "location", "location-eng")
_OFFICER_IN_TEXT = re.compile(
    r"(?:officer|police|badge|警号|执法证号)\s*(?:id|no)?\s*[=:：]\s*([0-9A-Za-z-]{4,32})",
    re.IGNORECASE)
_OFFICER_VALUE = re.compile(r"^[0-9A-Za-z-]{4,32}$")
_DIGITS_ID = re.compile(r"^\d{6,12}$")


def first_tag(tags: dict[str, str], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = clean(tags.get(key))
        if value:
            return value[:200]
    return None


def officer_from_tags(tags: dict[str, str]) -> str | None:
    value = first_tag(tags, _OFFICER_KEYS)
    if value and _OFFICER_VALUE.match(value):
        return value
    value = first_tag(tags, _ID_LIKE_KEYS)
    if value and _DIGITS_ID.match(value):
        return value
    for key in _FREE_TEXT_KEYS:
        text = clean(tags.get(key))
        if text:
            m = _OFFICER_IN_TEXT.search(text)
            if m:
                return m.group(1)
    return None


def av_time(tags: dict[str, str], zone: ZoneInfo,
             zone_name: str) -> tuple[str, str | None] | None:
    """Apple's creationdate (local, with offset), else creation_time (UTC in MP4)."""
    found = parse_time(tags.get("com.apple.quicktime.creationdate"), zone, zone_name)
    if found:
        return found
    created = clean(tags.get("creation_time"))
    date = clean(tags.get("date"))
    if created and _TIME_ONLY.match(created) and date and _DATE_ONLY.match(date):
        # BWF bext: origination_date -> "date", origination_time -> "creation_time"
        return parse_time(f"{date.replace(':', '-')}T{created}", zone, zone_name)
    return parse_time(created, zone, zone_name) or parse_time(date, zone, zone_name)
