"""Media facts: the only module that reads media (ffprobe, Pillow, pypdfium2).

``probe(path, name=...)`` returns a :class:`MediaFacts` and never raises for a bad file:
a file that cannot be read or parsed comes back with ``probe_status="failed"`` and one
line of error text.  The only exception is :class:`~recordkeep.errors.ToolMissing`, raised
when an audio or video file needs ffprobe and there is none.

- audio and video: one ffprobe process (with a timeout); MP4/MOV/M4A are also checked by
  :func:`structure_problem`, because ffprobe calls a half-cut "faststart" MP4 fine;
- photos: Pillow only (size, EXIF time, GPS, make/model/serial), no process per photo;
- documents: PDF page count and CreationDate through pypdfium2, TIFF pages through Pillow.

Times come back as ISO 8601 with offset and milliseconds in the given zone; a source clock
without an offset (EXIF, BWF, TIFF) is taken in that zone and ``tz_assumed`` names it.
GPS is decimal degrees as text with six decimals; no floats leave this module.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import stat
import subprocess
import threading
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError, ToolMissing

__all__ = ["KINDS", "PROBE_STATUSES", "MediaFacts", "detect_kind", "probe", "structure_problem"]

KINDS = ("video", "audio", "photo", "document", "other")
PROBE_STATUSES = ("ok", "failed", "suspect", "none")

HEAD_BYTES = 8192
MAX_ERROR_CHARS = 300
MAX_TOP_LEVEL_BOXES = 100_000

_PDFIUM_LOCK = threading.Lock()  # pdfium is not thread-safe; probes run in a worker pool


@dataclass(frozen=True)
class MediaFacts:
    """What one file is, as far as its bytes tell.  Strings and ints only, no floats."""

    kind: str
    probe_status: str
    probe_error: str | None
    container: str | None = None
    duration_ms: int | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    width: int | None = None
    height: int | None = None
    frame_rate: str | None = None
    pages: int | None = None
    recorded_at: str | None = None
    tz_assumed: str | None = None
    gps_lat: str | None = None
    gps_lon: str | None = None
    make: str | None = None
    model: str | None = None
    serial: str | None = None
    officer: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r}")
        if self.probe_status not in PROBE_STATUSES:
            raise ValueError(f"unknown probe_status {self.probe_status!r}")
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None and not isinstance(value, (str, int)):
                raise TypeError(f"MediaFacts.{f.name} must be str, int or None, not {value!r}")

    def to_data(self) -> dict[str, str | int]:
        """JSON-safe dict for journal events: only str/int values, None fields left out."""
        return {k: v for k, v in asdict(self).items() if v is not None}


# --------------------------------------------------------------------------- kinds

_VIDEO_EXTS = {
    "mp4", "m4v", "mov", "qt", "3gp", "3g2", "avi", "mkv", "webm", "wmv", "asf", "flv",
    "mts", "m2ts", "ts", "mpg", "mpeg", "vob", "dav", "h264", "h265", "264", "265",
}
_AUDIO_EXTS = {
    "wav", "mp3", "m4a", "m4b", "aac", "amr", "flac", "ogg", "oga", "opus", "wma", "aif",
    "aiff", "caf", "weba", "mka",
}
_PHOTO_EXTS = {
    "jpg", "jpeg", "jpe", "png", "gif", "bmp", "heic", "heif", "avif", "webp", "jp2",
    "dng", "cr2", "cr3", "nef", "arw", "orf", "rw2", "pef", "srw", "raf",
}
_RAW_TIFF_EXTS = {"dng", "cr2", "nef", "arw", "orf", "rw2", "pef", "srw", "3fr", "erf"}
_DOCUMENT_EXTS = {
    "pdf", "tif", "tiff", "ofd", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt",
    "ods", "rtf", "wps", "et",
}
_OLE_DOC_EXTS = {"doc", "xls", "ppt", "wps", "et"}
_ZIP_DOC_EXTS = {"docx", "xlsx", "pptx", "odt", "ods", "ofd"}
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}
_PHOTO_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1",
                 b"avif", b"avis", b"crx "}
_QT_TOP_BOXES = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_FIRST_BOXES = _QT_TOP_BOXES | {b"ftyp", b"styp", b"uuid", b"junk"}


def _ext(name: str | bytes) -> str:
    base = os.fsdecode(name).rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base.lstrip(".") else ""


def _kind_from_magic(head: bytes, ext: str) -> str | None:
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _AUDIO_BRANDS:
            return "audio"
        if brand in _PHOTO_BRANDS:
            return "photo"
        return "video"
    if len(head) >= 8 and head[4:8] in _QT_TOP_BOXES and head[4:8].isalpha():
        return "video"  # QuickTime file from before ftyp existed
    if head[:4] == b"RIFF" and len(head) >= 12:
        return {b"WAVE": "audio", b"AVI ": "video", b"WEBP": "photo"}.get(head[8:12])
    if head[:3] == b"\xff\xd8\xff":
        return "photo"
    if head[:8] == b"\x89PNG\r\n\x1a\n" or head[:6] in (b"GIF87a", b"GIF89a"):
        return "photo"
    if head[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n" or head[:15] == b"FUJIFILMCCD-RAW":
        return "photo"
    if head[:4] in _TIFF_MAGIC:
        return "photo" if ext in _RAW_TIFF_EXTS else "document"
    if b"%PDF-" in head[:1024]:
        return "document"
    if head[:5] == b"{\\rtf":
        return "document"
    if head[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "document" if ext in _OLE_DOC_EXTS else None
    if head[:4] == b"PK\x03\x04":
        return "document" if ext in _ZIP_DOC_EXTS else None
    if head[:3] == b"ID3" or head[:4] in (b"fLaC", b"caff") or head[:5] == b"#!AMR":
        return "audio"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "audio"
    if head[:4] == b"OggS":
        return "video" if b"\x80theora" in head else "audio"
    if head[:4] == b"\x1a\x45\xdf\xa3":  # EBML: Matroska / WebM
        return "audio" if ext in _AUDIO_EXTS else "video"
    if head[:8] == b"\x30\x26\xb2\x75\x8e\x66\xcf\x11":  # ASF
        return "audio" if ext in _AUDIO_EXTS else "video"
    if head[:3] == b"FLV" or head[:4] == b"\x00\x00\x01\xba":
        return "video"
    if len(head) > 188 and head[0] == 0x47 and head[188] == 0x47:
        return "video"  # MPEG-TS
    if len(head) > 196 and head[4] == 0x47 and head[196] == 0x47:
        return "video"  # M2TS (192-byte packets)
    if len(head) >= 2 and head[0] == 0xFF:
        if head[1] & 0xF6 == 0xF0:
            return "audio"  # AAC ADTS
        if head[1] & 0xE0 == 0xE0 and (head[1] >> 1) & 0x3 != 0:
            return "audio"  # MPEG audio frame (MP3)
    return None


def detect_kind(head: bytes, name: str | bytes) -> str:
    """Kind of a file from its first bytes (magic), the name's extension as fallback.

    ``head`` should be the first few KiB.  Returns one of ``KINDS``.  A TIFF is a
    "document" (scans) unless its extension names a camera raw format.
    """
    ext = _ext(name)
    kind = _kind_from_magic(head, ext)
    if kind is not None:
        return kind
    for exts, k in ((_VIDEO_EXTS, "video"), (_AUDIO_EXTS, "audio"), (_PHOTO_EXTS, "photo"),
                    (_DOCUMENT_EXTS, "document")):
        if ext in exts:
            return k
    return "other"


# --------------------------------------------------------------------------- ISO-BMFF

def structure_problem(path: str | bytes | os.PathLike) -> str | None:
    """Check an MP4/MOV/M4A's top-level box chain, reading only box headers.

    Returns one line saying what is wrong (a box running past the end of the file, a
    truncated header, no ``moov``), or None when the sizes add up to the file size and a
    ``moov`` box is present.  Handles 64-bit sizes (size 1) and to-end boxes (size 0).
    Raises OSError only when the file cannot be opened or read.
    """
    with open(path, "rb") as fh:
        file_size = os.fstat(fh.fileno()).st_size
        pos = 0
        seen: set[bytes] = set()
        count = 0
        while pos < file_size:
            count += 1
            if count > MAX_TOP_LEVEL_BOXES:
                return f"more than {MAX_TOP_LEVEL_BOXES} top-level boxes: not a usable MP4/MOV"
            fh.seek(pos)
            header = fh.read(16)
            if len(header) < 8:
                return (f"file ends inside a box header at offset {pos} "
                        f"({file_size - pos} stray bytes): file cut?")
            size = int.from_bytes(header[:4], "big")
            box = header[4:8]
            label = box.decode("latin-1")
            if not all(0x20 <= b < 0x7F or b == 0xA9 for b in box) or (
                    pos == 0 and box not in _FIRST_BOXES):
                return f"invalid box type {box!r} at offset {pos}: not an MP4/MOV box chain"
            header_len = 8
            if size == 1:
                if len(header) < 16:
                    return f"file ends inside the 64-bit size of box '{label}' at offset {pos}"
                size = int.from_bytes(header[8:16], "big")
                header_len = 16
            elif size == 0:
                size = file_size - pos
            if size < header_len:
                return f"box '{label}' at offset {pos} has invalid size {size}"
            if pos + size > file_size:
                return (f"box '{label}' at offset {pos} needs {size} bytes but only "
                        f"{file_size - pos} remain: file cut?")
            seen.add(box)
            pos += size
    if file_size == 0:
        return "empty file"
    if b"moov" not in seen:
        return "no 'moov' box (the index that makes the media playable is missing)"
    return None


# --------------------------------------------------------------------------- time

_EXIF_TIME = re.compile(r"^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}:\d{2}(?::\d{2})?)(.*)$")
_TIME_ONLY = re.compile(r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")
_DATE_ONLY = re.compile(r"^\d{4}[-:]\d{2}[-:]\d{2}$")
_OFFSET = re.compile(r"^(?:Z|[+-]\d{2}:?\d{2})$")
_PDF_DATE = re.compile(
    r"^D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?"
    r"(?:(Z)(?:00'?00'?)?|([+-])(\d{2})'?(\d{2})?'?)?"
)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"unknown timezone {name!r}",
                          hint="use an IANA zone name such as Asia/Shanghai") from exc


def _clean(value: Any) -> str | None:
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


def _parse_time(text: str | None, zone: ZoneInfo, zone_name: str, *,
                offset: str | None = None, subsec: str | None = None,
                ) -> tuple[str, str | None] | None:
    """Parse an ISO/EXIF time; returns (iso with offset and ms, assumed zone or None)."""
    text = _clean(text)
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
    subsec = _clean(subsec)
    if subsec and subsec.isdigit() and dt.microsecond == 0:
        dt = dt.replace(microsecond=int((subsec + "000000")[:6]))
    offset = _clean(offset)
    if dt.tzinfo is None and offset and _OFFSET.match(offset):
        with contextlib.suppress(ValueError):
            dt = datetime.fromisoformat(dt.isoformat() + offset)
    return _finish_time(dt, zone, zone_name)


def _parse_pdf_date(text: str | None, zone: ZoneInfo,
                    zone_name: str) -> tuple[str, str | None] | None:
    text = _clean(text)
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


# --------------------------------------------------------------------------- GPS

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


def _gps_from_iso6709(text: str | None) -> tuple[str, str] | None:
    text = _clean(text)
    if not text:
        return None
    m = _ISO6709.match(text)
    if not m:
        return None
    lat = _iso6709_part(m.group(1), m.group(2), 2)
    lon = _iso6709_part(m.group(3), m.group(4), 3)
    return _gps_pair(lat, lon)


def _gps_pair(lat: Decimal | None, lon: Decimal | None) -> tuple[str, str] | None:
    if lat is None or lon is None or (lat == 0 and lon == 0):  # 0,0: a camera without a fix
        return None
    lat_text = _degrees_text(lat, 90)
    lon_text = _degrees_text(lon, 180)
    if lat_text is None or lon_text is None:
        return None
    return lat_text, lon_text


def _rational(value: Any) -> Fraction | None:
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


def _exif_coordinate(value: Any, ref: Any) -> Decimal | None:
    if not isinstance(value, (tuple, list)) or not value:
        return None
    parts = [_rational(v) for v in (*value[:3], 0, 0)[:3]]
    if any(p is None for p in parts):
        return None
    total = Fraction(0)
    for part, scale in zip(parts, (1, 60, 3600), strict=True):
        total += part / scale  # type: ignore[operator]
    degrees = Decimal(total.numerator) / Decimal(total.denominator)
    ref_text = _clean(ref) or ""
    return -degrees if ref_text[:1].upper() in ("S", "W") else degrees


# --------------------------------------------------------------------------- tags

_MAKE_KEYS = ("com.apple.quicktime.make", "make", "manufacturer", "com.android.manufacturer")
_MODEL_KEYS = ("com.apple.quicktime.model", "model", "com.android.model", "device_model")
_SERIAL_KEYS = ("com.apple.quicktime.serial", "serial", "serial_number", "serialnumber",
                "device_serial", "camera_serial", "sn")
_OFFICER_KEYS = ("officer", "officer_id", "officerid", "police_id", "policeid", "police_no",
                 "badge", "badge_number", "user_id", "userid")
_ID_LIKE_KEYS = ("artist", "author")
_FREE_TEXT_KEYS = ("comment", "description", "title", "com.apple.quicktime.description")
_LOCATION_KEYS = ("com.apple.quicktime.location.iso6709", "location", "location-eng")
_OFFICER_IN_TEXT = re.compile(
    r"(?:officer|police|badge|警号|执法证号)\s*(?:id|no)?\s*[=:：]\s*([0-9A-Za-z-]{4,32})",
    re.IGNORECASE)
_OFFICER_VALUE = re.compile(r"^[0-9A-Za-z-]{4,32}$")
_DIGITS_ID = re.compile(r"^\d{6,12}$")


def _first(tags: dict[str, str], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = _clean(tags.get(key))
        if value:
            return value[:200]
    return None


def _officer(tags: dict[str, str]) -> str | None:
    value = _first(tags, _OFFICER_KEYS)
    if value and _OFFICER_VALUE.match(value):
        return value
    value = _first(tags, _ID_LIKE_KEYS)
    if value and _DIGITS_ID.match(value):
        return value
    for key in _FREE_TEXT_KEYS:
        text = _clean(tags.get(key))
        if text:
            m = _OFFICER_IN_TEXT.search(text)
            if m:
                return m.group(1)
    return None


# --------------------------------------------------------------------------- probe

def probe(path: str | bytes | os.PathLike, *, name: str | bytes,
          timezone: str = "Asia/Shanghai", ffprobe: str | None = None,
          timeout_s: float = 60) -> MediaFacts:
    """Read the media facts of one file.

    ``path`` is where the bytes are (e.g. a stored blob); ``name`` is the original file
    name, used for the extension fallback.  Never raises for a bad file: it returns
    ``probe_status="failed"`` with ``probe_error``.  Raises ToolMissing when audio/video
    needs ffprobe (argument, else ``$RECORDKEEP_FFPROBE``, else ``ffprobe`` on PATH) and
    there is none, and ConfigError for an unknown ``timezone``.
    """
    zone = _zone(timezone)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        return MediaFacts(detect_kind(b"", name), "failed", _os_error("cannot open", exc))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return MediaFacts("other", "failed", "not a regular file")
        if st.st_size == 0:
            return MediaFacts("other", "failed", "empty file")
        head = os.read(fd, HEAD_BYTES)
    except OSError as exc:
        return MediaFacts(detect_kind(b"", name), "failed", _os_error("cannot read", exc))
    finally:
        os.close(fd)

    kind = detect_kind(head, name)
    try:
        if kind in ("video", "audio"):
            return _probe_av(path, kind, head, zone, timezone, _ffprobe_exe(ffprobe), timeout_s)
        if kind == "photo":
            return _probe_image(path, kind, zone, timezone)
        if kind == "document":
            ext = _ext(name)
            if b"%PDF-" in head[:1024] or ext == "pdf":
                return _probe_pdf(path, zone, timezone)
            if head[:4] in _TIFF_MAGIC or ext in ("tif", "tiff"):
                return _probe_image(path, kind, zone, timezone)
        return MediaFacts(kind, "none", None)
    except ToolMissing:
        raise
    except OSError as exc:
        return MediaFacts(kind, "failed", _os_error("cannot read", exc))
    except Exception as exc:  # a parser bug on hostile input must not stop an import
        return MediaFacts(kind, "failed", _one_line(f"{type(exc).__name__}: {exc}"))


def _os_error(what: str, exc: OSError) -> str:
    return _one_line(f"{what}: {exc.strerror or exc}")


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


def _ffprobe_exe(explicit: str | None) -> str:
    exe = explicit or os.environ.get("RECORDKEEP_FFPROBE") or "ffprobe"
    found = shutil.which(exe)
    if found is None:
        raise ToolMissing(f"ffprobe not found: {exe}")
    return found


_FFMPEG_CONTEXT = re.compile(r"^\[[^\]]*@ ?0x[0-9a-fA-F]+\]\s*")


def _ffprobe_error(stderr: bytes, target: str, returncode: int) -> str:
    lines: list[str] = []
    for raw in stderr.decode("utf-8", "replace").splitlines():
        line = _FFMPEG_CONTEXT.sub("", raw.strip())
        if line.startswith(target + ":"):
            line = line[len(target) + 1:].strip()
        if line and line not in lines:
            lines.append(line)
    if lines:
        return _one_line("; ".join(lines))
    if returncode < 0:
        return f"ffprobe killed by signal {-returncode}"
    return f"ffprobe exited with status {returncode}"


def _run_ffprobe(exe: str, path: str | bytes | os.PathLike,
                 timeout_s: float) -> tuple[dict | None, str | None]:
    target = b"file:" + os.fsencode(path)  # "file:" so a ':' in the name is no protocol
    cmd: list[str | bytes] = [exe, "-v", "error", "-print_format", "json", "-show_format",
                              "-show_streams", target]
    try:
        done = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        return None, f"ffprobe timed out after {timeout_s:g} s"
    except FileNotFoundError as exc:
        raise ToolMissing(f"ffprobe not found: {exe}") from exc
    except PermissionError as exc:
        raise ToolMissing(f"ffprobe cannot be run: {exe}") from exc
    if done.returncode != 0:
        return None, _ffprobe_error(done.stderr, target.decode("utf-8", "replace"),
                                    done.returncode)
    try:
        data = json.loads(done.stdout.decode("utf-8", "replace"))
    except ValueError:
        return None, "ffprobe printed output that is not JSON"
    if not isinstance(data, dict):
        return None, "ffprobe printed output that is not a JSON object"
    return data, None


_NOT_MEDIA_CODECS = {"ansi", "bintext", "xbin", "idf", "tty"}


def _duration_ms(value: Any) -> int | None:
    try:
        seconds = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not seconds.is_finite() or seconds < 0:
        return None
    return int((seconds * 1000).to_integral_value(rounding=ROUND_HALF_UP))


def _rate(text: Any) -> str | None:
    try:
        value = Fraction(str(text))
    except (ValueError, ZeroDivisionError):
        return None
    if value <= 0:
        return None
    return f"{value.numerator}/{value.denominator}"


def _container(format_name: str, head: bytes) -> str:
    if format_name.startswith("mov,mp4"):
        brand = head[8:12] if head[4:8] == b"ftyp" else b"qt  "
        if brand == b"qt  ":
            return "mov"
        if brand in _AUDIO_BRANDS:
            return "m4a"
        if brand.startswith(b"3g2"):
            return "3g2"
        if brand.startswith(b"3gp"):
            return "3gp"
        return "mp4"
    return format_name.split(",")[0] or "unknown"


def _probe_av(path: str | bytes | os.PathLike, kind: str, head: bytes, zone: ZoneInfo,
              zone_name: str, exe: str, timeout_s: float) -> MediaFacts:
    data, error = _run_ffprobe(exe, path, timeout_s)
    if data is None:
        return MediaFacts(kind, "failed", error)
    fmt = data.get("format") if isinstance(data.get("format"), dict) else {}
    streams = [s for s in data.get("streams") or [] if isinstance(s, dict)]
    video = [s for s in streams if s.get("codec_type") == "video"
             and not (s.get("disposition") or {}).get("attached_pic")
             and s.get("codec_name") not in _NOT_MEDIA_CODECS]
    audio = [s for s in streams if s.get("codec_type") == "audio"]
    if not video and not audio:
        return MediaFacts(kind, "failed", "no audio or video stream found")
    kind = "video" if video else "audio"

    tags: dict[str, str] = {}
    for source in [fmt, *streams]:
        for key, value in (source.get("tags") or {}).items():
            tags.setdefault(str(key).lower(), value)

    format_name = str(fmt.get("format_name") or "")
    container = _container(format_name, head)
    status, problem = "ok", None
    if format_name.startswith("mov,mp4") or head[4:8] == b"ftyp":
        problem = structure_problem(path)
        if problem:
            status = "suspect"

    duration = _duration_ms(fmt.get("duration"))
    if duration is None:
        durations = [d for d in (_duration_ms(s.get("duration")) for s in streams) if d]
        duration = max(durations) if durations else None

    v = video[0] if video else {}
    width = v.get("width") if isinstance(v.get("width"), int) and v.get("width") > 0 else None
    height = v.get("height") if isinstance(v.get("height"), int) and v.get("height") > 0 else None
    rate = (_rate(v.get("avg_frame_rate")) or _rate(v.get("r_frame_rate"))) if v else None

    recorded = _av_time(tags, zone, zone_name)
    gps = None
    for key in _LOCATION_KEYS:
        gps = _gps_from_iso6709(tags.get(key))
        if gps:
            break
    return MediaFacts(
        kind, status, problem, container=container, duration_ms=duration,
        video_codec=_clean(v.get("codec_name")) if v else None,
        audio_codec=_clean(audio[0].get("codec_name")) if audio else None,
        width=width, height=height, frame_rate=rate,
        recorded_at=recorded[0] if recorded else None,
        tz_assumed=recorded[1] if recorded else None,
        gps_lat=gps[0] if gps else None, gps_lon=gps[1] if gps else None,
        make=_first(tags, _MAKE_KEYS), model=_first(tags, _MODEL_KEYS),
        serial=_first(tags, _SERIAL_KEYS), officer=_officer(tags),
    )


def _av_time(tags: dict[str, str], zone: ZoneInfo,
             zone_name: str) -> tuple[str, str | None] | None:
    """Apple's creationdate (local, with offset), else creation_time (UTC in MP4)."""
    found = _parse_time(tags.get("com.apple.quicktime.creationdate"), zone, zone_name)
    if found:
        return found
    created = _clean(tags.get("creation_time"))
    date = _clean(tags.get("date"))
    if created and _TIME_ONLY.match(created) and date and _DATE_ONLY.match(date):
        # BWF bext: origination_date -> "date", origination_time -> "creation_time"
        return _parse_time(f"{date.replace(':', '-')}T{created}", zone, zone_name)
    return _parse_time(created, zone, zone_name) or _parse_time(date, zone, zone_name)


def _probe_image(path: str | bytes | os.PathLike, kind: str, zone: ZoneInfo,
                 zone_name: str) -> MediaFacts:
    from PIL import Image, UnidentifiedImageError

    try:
        with open(path, "rb") as fh, Image.open(fh) as im:
            fmt = (im.format or "").lower()
            width, height = im.size
            pages = getattr(im, "n_frames", 1) if fmt == "tiff" else None
            exif = im.getexif()
            ifd0 = dict(exif)
            sub = dict(exif.get_ifd(0x8769))
            gps_ifd = dict(exif.get_ifd(0x8825))
    except UnidentifiedImageError:
        return MediaFacts(kind, "failed", "Pillow cannot identify the image format")
    except Image.DecompressionBombError as exc:
        return MediaFacts(kind, "failed", _one_line(str(exc)))
    except (SyntaxError, ValueError, EOFError) as exc:  # Pillow's "broken file" errors
        return MediaFacts(kind, "failed", _one_line(f"Pillow: {exc}"))

    recorded = (
        _parse_time(sub.get(0x9003), zone, zone_name, offset=sub.get(0x9011),
                    subsec=sub.get(0x9291))
        or _parse_time(sub.get(0x9004), zone, zone_name, offset=sub.get(0x9012),
                       subsec=sub.get(0x9292))
        or _parse_time(ifd0.get(0x0132), zone, zone_name, offset=sub.get(0x9010),
                       subsec=sub.get(0x9290))
    )
    gps = None
    if gps_ifd:
        gps = _gps_pair(_exif_coordinate(gps_ifd.get(2), gps_ifd.get(1)),
                        _exif_coordinate(gps_ifd.get(4), gps_ifd.get(3)))
    tags = {"make": ifd0.get(0x010F), "model": ifd0.get(0x0110), "artist": ifd0.get(0x013B),
            "description": ifd0.get(0x010E), "serial": sub.get(0xA431)}
    return MediaFacts(
        kind, "ok", None, container="jpeg" if fmt == "mpo" else fmt or None,
        width=width or None, height=height or None, pages=pages,
        recorded_at=recorded[0] if recorded else None,
        tz_assumed=recorded[1] if recorded else None,
        gps_lat=gps[0] if gps else None, gps_lon=gps[1] if gps else None,
        make=_first(tags, ("make",)), model=_first(tags, ("model",)),
        serial=_first(tags, ("serial",)), officer=_officer(tags),
    )


def _probe_pdf(path: str | bytes | os.PathLike, zone: ZoneInfo, zone_name: str) -> MediaFacts:
    import pypdfium2 as pdfium

    with open(path, "rb") as fh, _PDFIUM_LOCK:
        try:
            doc = pdfium.PdfDocument(fh)
        except pdfium.PdfiumError as exc:
            return MediaFacts("document", "failed", _one_line(f"pdfium: {exc}"))
        try:
            pages = len(doc)
            meta = doc.get_metadata_dict(skip_empty=True)
        finally:
            doc.close()
    recorded = _parse_pdf_date(meta.get("CreationDate"), zone, zone_name)
    return MediaFacts(
        "document", "ok", None, container="pdf", pages=pages,
        recorded_at=recorded[0] if recorded else None,
        tz_assumed=recorded[1] if recorded else None,
    )
