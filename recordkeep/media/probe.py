"""Media facts: ``probe(path, name=...)`` reads one file (ffprobe, Pillow, pypdfium2).

It never raises for a bad file: a file that cannot be read or parsed comes back with
``probe_status="failed"`` and one line of error text. The only exception is ToolMissing,
raised when an audio or video file needs ffprobe and there is none.

- audio and video: one ffprobe process (called directly, with a timeout); MP4/MOV/M4A are
  also checked by ``isobmff.structure_problem``, because ffprobe calls a half-cut
  "faststart" MP4 fine;
- photos: Pillow only (size, EXIF time, GPS, make/model/serial), no process per photo;
- documents: PDF page count and CreationDate through pypdfium2, TIFF pages through Pillow.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import threading
from dataclasses import asdict, dataclass, fields
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from ..errors import ToolMissing
from ..i18n import _, english_of
from ..refs import KINDS
from .isobmff import structure_problem
from .kinds import AUDIO_BRANDS, HEAD_BYTES, TIFF_MAGIC, detect_kind, extension
from .tags import (
    LOCATION_KEYS,
    MAKE_KEYS,
    MODEL_KEYS,
    SERIAL_KEYS,
    av_time,
    clean,
    exif_coordinate,
    first_tag,
    gps_from_iso6709,
    gps_pair,
    officer_from_tags,
    parse_pdf_date,
    parse_time,
    zone_of,
)
from .tools import FFMPEG_CONTEXT, ffprobe_exe

PROBE_STATUSES = ("ok", "failed", "suspect", "none", "unprobed")  # unprobed: the tool was missing
MAX_ERROR_CHARS = 300

PDFIUM_LOCK = threading.Lock()  # pdfium is not thread-safe; probes run in a worker pool


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
        """JSON-safe dict for journal events: only str/int values, None fields left out (the
        probe's error in English, whatever the reader's language)."""
        return {k: english_of(v) for k, v in asdict(self).items() if v is not None}


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
    zone = zone_of(timezone)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        return MediaFacts(detect_kind(b"", name), "failed", _os_error(_("cannot open: {error}"), exc))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return MediaFacts("other", "failed", _("not a regular file"))
        if st.st_size == 0:
            return MediaFacts("other", "failed", _("empty file"))
        head = os.read(fd, HEAD_BYTES)
    except OSError as exc:
        return MediaFacts(detect_kind(b"", name), "failed", _os_error(_("cannot read: {error}"), exc))
    finally:
        os.close(fd)

    kind = detect_kind(head, name)
    try:
        if kind in ("video", "audio"):
            return _probe_av(path, kind, head, zone, timezone, ffprobe_exe(ffprobe), timeout_s)
        if kind == "photo":
            return _probe_image(path, kind, zone, timezone)
        if kind == "document":
            ext = extension(name)
            if b"%PDF-" in head[:1024] or ext == "pdf":
                return _probe_pdf(path, zone, timezone)
            if head[:4] in TIFF_MAGIC or ext in ("tif", "tiff"):
                return _probe_image(path, kind, zone, timezone)
        return MediaFacts(kind, "none", None)
    except ToolMissing:
        raise
    except OSError as exc:
        return MediaFacts(kind, "failed", _os_error(_("cannot read: {error}"), exc))
    except Exception as exc:  # a parser bug on hostile input must not stop an import
        return MediaFacts(kind, "failed", _one_line(f"{type(exc).__name__}: {exc}"))


def _os_error(said: str, exc: OSError) -> str:
    return _one_line(said.format(error=exc.strerror or exc))


def _one_line(text: str) -> str:
    """``text`` on one line of at most ``MAX_ERROR_CHARS`` (a message already so, as it is)."""
    line = " ".join(text.split())
    if line == text and len(text) <= MAX_ERROR_CHARS:
        return text
    return line if len(line) <= MAX_ERROR_CHARS else line[: MAX_ERROR_CHARS - 1] + "…"


def _ffprobe_error(stderr: bytes, target: str, returncode: int) -> str:
    lines: list[str] = []
    for raw in stderr.decode("utf-8", "replace").splitlines():
        line = FFMPEG_CONTEXT.sub("", raw.strip())
        if line.startswith(target + ":"):
            line = line[len(target) + 1:].strip()
        if line and line not in lines:
            lines.append(line)
    if lines:
        return _one_line("; ".join(lines))
    if returncode < 0:
        return _("ffprobe killed by signal {signal}").format(signal=-returncode)
    return _("ffprobe exited with status {status}").format(status=returncode)


def _run_ffprobe(exe: str, path: str | bytes | os.PathLike,
                 timeout_s: float) -> tuple[dict | None, str | None]:
    target = b"file:" + os.fsencode(path)  # "file:" so a ':' in the name is no protocol
    cmd: list[str | bytes] = [exe, "-v", "error", "-print_format", "json", "-show_format",
                              "-show_streams", target]
    try:
        done = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        return None, _("ffprobe timed out after {seconds:g} s").format(seconds=timeout_s)
    except FileNotFoundError as exc:
        raise ToolMissing(_("ffprobe not found: {exe}").format(exe=exe)) from exc
    except PermissionError as exc:
        raise ToolMissing(_("ffprobe cannot be run: {exe}").format(exe=exe)) from exc
    if done.returncode != 0:
        return None, _ffprobe_error(done.stderr, target.decode("utf-8", "replace"),
                                    done.returncode)
    try:
        data = json.loads(done.stdout.decode("utf-8", "replace"))
    except ValueError:
        return None, _("ffprobe printed output that is not JSON")
    if not isinstance(data, dict):
        return None, _("ffprobe printed output that is not a JSON object")
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
        if brand in AUDIO_BRANDS:
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
        return MediaFacts(kind, "failed", _("no audio or video stream found"))
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

    recorded = av_time(tags, zone, zone_name)
    gps = None
    for key in LOCATION_KEYS:
        gps = gps_from_iso6709(tags.get(key))
        if gps:
            break
    return MediaFacts(
        kind, status, problem, container=container, duration_ms=duration,
        video_codec=clean(v.get("codec_name")) if v else None,
        audio_codec=clean(audio[0].get("codec_name")) if audio else None,
        width=width, height=height, frame_rate=rate,
        recorded_at=recorded[0] if recorded else None,
        tz_assumed=recorded[1] if recorded else None,
        gps_lat=gps[0] if gps else None, gps_lon=gps[1] if gps else None,
        make=first_tag(tags, MAKE_KEYS), model=first_tag(tags, MODEL_KEYS),
        serial=first_tag(tags, SERIAL_KEYS), officer=officer_from_tags(tags),
    )


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
        return MediaFacts(kind, "failed", _("Pillow cannot identify the image format"))
    except Image.DecompressionBombError as exc:
        return MediaFacts(kind, "failed", _one_line(str(exc)))
    except (SyntaxError, ValueError, EOFError) as exc:  # Pillow's "broken file" errors
        return MediaFacts(kind, "failed", _one_line(f"Pillow: {exc}"))

    recorded = (
        parse_time(sub.get(0x9003), zone, zone_name, offset=sub.get(0x9011),
                    subsec=sub.get(0x9291))
        or parse_time(sub.get(0x9004), zone, zone_name, offset=sub.get(0x9012),
                       subsec=sub.get(0x9292))
        or parse_time(ifd0.get(0x0132), zone, zone_name, offset=sub.get(0x9010),
                       subsec=sub.get(0x9290))
    )
    gps = None
    if gps_ifd:
        gps = gps_pair(exif_coordinate(gps_ifd.get(2), gps_ifd.get(1)),
                        exif_coordinate(gps_ifd.get(4), gps_ifd.get(3)))
    tags = {"make": ifd0.get(0x010F), "model": ifd0.get(0x0110), "artist": ifd0.get(0x013B),
            "description": ifd0.get(0x010E), "serial": sub.get(0xA431)}
    return MediaFacts(
        kind, "ok", None, container="jpeg" if fmt == "mpo" else fmt or None,
        width=width or None, height=height or None, pages=pages,
        recorded_at=recorded[0] if recorded else None,
        tz_assumed=recorded[1] if recorded else None,
        gps_lat=gps[0] if gps else None, gps_lon=gps[1] if gps else None,
        make=first_tag(tags, ("make",)), model=first_tag(tags, ("model",)),
        serial=first_tag(tags, ("serial",)), officer=officer_from_tags(tags),
    )


def _probe_pdf(path: str | bytes | os.PathLike, zone: ZoneInfo, zone_name: str) -> MediaFacts:
    import pypdfium2 as pdfium

    with open(path, "rb") as fh, PDFIUM_LOCK:
        try:
            doc = pdfium.PdfDocument(fh)
        except pdfium.PdfiumError as exc:
            return MediaFacts("document", "failed", _one_line(f"pdfium: {exc}"))
        try:
            pages = len(doc)
            meta = doc.get_metadata_dict(skip_empty=True)
        finally:
            doc.close()
    recorded = parse_pdf_date(meta.get("CreationDate"), zone, zone_name)
    return MediaFacts(
        "document", "ok", None, container="pdf", pages=pages,
        recorded_at=recorded[0] if recorded else None,
        tz_assumed=recorded[1] if recorded else None,
    )
