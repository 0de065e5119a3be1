"""Small preview images for the HTML dossier: the one other module that reads media.

``render(blob, kind, target)`` writes a preview of one evidence blob and returns a
:class:`Thumbnail`; it never raises for a bad, cut or unreadable file (nor for a missing
ffmpeg): it comes back with ``path=None`` and a one-line ``note``, and the page shows the
kind's icon instead. Previews are at most :data:`WIDTH` pixels wide:

- video: one frame (``ffmpeg -ss 0.5 … -frames:v 1``, retried at 0 s for very short
  clips), in a process with a timeout;
- audio: a waveform (``ffmpeg … showwavespic``), in a process with a timeout;
- photo, and a TIFF document: Pillow (the first page of a multi-page TIFF);
- PDF document: pypdfium2's rendering of the first page (serialised with the lock
  :mod:`recordkeep.media` holds for pdfium, which is not thread-safe);
- anything else: no file, the page shows an icon.

Both ffmpeg command lines are built with ffmpeg-python and ``compile()``d, then run here
with ``subprocess.run(..., timeout=...)``: ffmpeg-python's own ``run`` has no timeout.

Blobs are found by content (their bytes), not by a name or an extension. The icons
(:func:`icon_symbols`) are inline SVG symbols without any namespace URL, so the page
that holds them stays free of network addresses.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import ffmpeg  # ffmpeg-python: builds the command lines; _run runs them, with a timeout

from ..i18n import _
from .probe import PDFIUM_LOCK  # one lock for every pdfium call in the process

__all__ = ["WIDTH", "Thumbnail", "icon_symbols", "render"]

WIDTH = 240
WAVE_HEIGHT = 90
TIMEOUT_S = 30.0
_NOTE_CHARS = 200
_FFMPEG_CONTEXT = re.compile(r"^\[[^\]]*@ ?0x[0-9a-fA-F]+\]\s*")


@dataclass(frozen=True)
class Thumbnail:
    """A written preview (``path``), or ``None`` and why there is none (``note``)."""

    path: Path | None
    note: str | None = None


def render(blob: Path | None, kind: str, target: Path, *, timeout_s: float = TIMEOUT_S,
           ffmpeg: str | None = None) -> Thumbnail:
    """Write a preview of ``blob`` (a record of ``kind``) to ``target`` plus a suffix
    (``.jpg`` or ``.png``) and return it. ``blob=None`` means the bytes are gone
    (disposed). ``ffmpeg`` defaults to ``$RECORDKEEP_FFMPEG``, else ``ffmpeg`` on PATH.
    Never raises for a bad file; an OSError writing ``target`` does propagate."""
    if blob is None:
        return Thumbnail(None, _("no preview: the file was disposed"))
    try:
        with open(blob, "rb") as f:
            head = f.read(16)
    except OSError as exc:
        return Thumbnail(None, _note(_("no preview: blob unreadable ({error})").format(
            error=exc.strerror or exc)))
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        if kind == "video":
            return _video_frame(blob, target.with_suffix(".jpg"), _ffmpeg(ffmpeg), timeout_s)
        if kind == "audio":
            return _waveform(blob, target.with_suffix(".png"), _ffmpeg(ffmpeg), timeout_s)
        if head.startswith(b"%PDF"):
            return _pdf_page(blob, target.with_suffix(".jpg"))
        if kind in ("photo", "document"):
            return _picture(blob, target.with_suffix(".jpg"))
    except _NoPreview as exc:
        return Thumbnail(None, _note(_("no preview: {why}").format(why=exc)))
    return Thumbnail(None, None)


class _NoPreview(Exception):
    """Raised inside this module when a blob gives no preview; turned into a note."""


def _note(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _NOTE_CHARS else text[: _NOTE_CHARS - 1] + "…"


def _ffmpeg(explicit: str | None) -> str:
    exe = explicit or os.environ.get("RECORDKEEP_FFMPEG") or "ffmpeg"
    found = shutil.which(exe)
    if found is None:
        raise _NoPreview(_("ffmpeg not found ({exe})").format(exe=exe))
    return found


def _run(stream, exe: str, out: Path, timeout_s: float, source: bytes) -> str | None:
    """Run the ffmpeg-python graph ``stream`` with ``exe``; ``None`` when it wrote a non-empty
    ``out``, else why not (its last error line, without the blob's path and ffmpeg's
    ``[demuxer @ 0x…]`` prefixes)."""
    cmd = _command(stream, exe)
    try:
        done = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        out.unlink(missing_ok=True)
        return _("ffmpeg timed out after {seconds:g} s").format(seconds=timeout_s)
    except OSError as exc:
        return _("ffmpeg cannot be run ({error})").format(error=exc.strerror or exc)
    if done.returncode == 0 and out.is_file() and out.stat().st_size > 0:
        return None
    out.unlink(missing_ok=True)
    lines = [_FFMPEG_CONTEXT.sub("", x.strip()) for x in done.stderr.decode("utf-8", "replace").splitlines()]
    prefix = source.decode("utf-8", "replace") + ":"
    lines = [x.removeprefix(prefix).strip() for x in lines if x]
    return lines[-1] if lines else _("ffmpeg exited with status {status} and no image").format(
        status=done.returncode)


def _command(stream, exe: str) -> list[str | bytes]:
    """The command line of an ffmpeg-python output ``stream``: quiet, never reading stdin,
    overwriting its output. Paths in it stay ``bytes``, so ffmpeg gets their raw bytes."""
    return stream.global_args("-hide_banner", "-nostdin", "-v", "error").overwrite_output().compile(cmd=exe)


# Paths go to ffmpeg-python as bytes: it hashes each node's text with a strict UTF-8 encode,
# so a non-UTF-8 path as a str (surrogate escapes) would raise; bytes pass through unchanged.
def _source(blob: Path) -> bytes:
    return b"file:" + os.fsencode(blob)  # "file:" so no part of a path reads as a protocol


def _target(out: Path) -> bytes:
    return b"file:" + os.fsencode(out)  # as _source; with update=1 below, no "%d" pattern either


def _video_frame_job(source: bytes, out: Path, seek: str):
    """One frame at ``seek`` seconds, at most WIDTH wide, as a JPEG (image2)."""
    return (ffmpeg.input(source, ss=seek)["V"]  # V: video that is not cover art
            .filter("scale", WIDTH, -2)
            .output(_target(out), format="image2", update=1, **{"frames:v": 1, "q:v": 4}))


def _waveform_job(source: bytes, out: Path):
    """The sound's waveform (mixed to mono), WIDTH x WAVE_HEIGHT, as a PNG (image2)."""
    return (ffmpeg.input(source)
            .filter("aformat", channel_layouts="mono")
            .filter("showwavespic", s=f"{WIDTH}x{WAVE_HEIGHT}", colors="0x1f5f8b")
            .output(_target(out), format="image2", update=1, **{"frames:v": 1}))


def _video_frame(blob: Path, out: Path, exe: str, timeout_s: float) -> Thumbnail:
    source = _source(blob)
    error = None
    for seek in ("0.5", "0"):  # a clip shorter than half a second has no frame at 0.5 s
        error = _run(_video_frame_job(source, out, seek), exe, out, timeout_s, source)
        if error is None:
            return Thumbnail(out)
    raise _NoPreview(_("no video frame ({error})").format(error=error))


def _waveform(blob: Path, out: Path, exe: str, timeout_s: float) -> Thumbnail:
    source = _source(blob)
    error = _run(_waveform_job(source, out), exe, out, timeout_s, source)
    if error is not None:
        raise _NoPreview(_("no waveform ({error})").format(error=error))
    return Thumbnail(out)


def _picture(blob: Path, out: Path) -> Thumbnail:
    from PIL import Image, ImageOps

    try:
        with Image.open(blob) as img:
            img.seek(0)  # the first page of a multi-page TIFF
            img.draft("RGB", (WIDTH * 2, WIDTH * 2))  # JPEG: decode at a reduced scale
            small = ImageOps.exif_transpose(img)
            small.thumbnail((WIDTH, WIDTH * 2))
            _save_jpeg(small, out)
    except Exception as exc:  # Pillow raises many kinds (including DecompressionBombError)
        out.unlink(missing_ok=True)
        raise _NoPreview(_("not a readable image ({error})").format(error=type(exc).__name__)) from exc
    return Thumbnail(out)


def _pdf_page(blob: Path, out: Path) -> Thumbnail:
    import pypdfium2 as pdfium

    try:
        with PDFIUM_LOCK, open(blob, "rb") as fh:
            doc = pdfium.PdfDocument(fh)
            try:
                if len(doc) == 0:
                    raise _NoPreview(_("the PDF has no pages"))
                page = doc[0]
                width = page.get_width() or WIDTH
                bitmap = page.render(scale=min(4.0, WIDTH / width))
                _save_jpeg(bitmap.to_pil(), out)  # the image shares the bitmap's buffer
                bitmap.close()
                page.close()
            finally:
                doc.close()
    except _NoPreview:
        raise
    except Exception as exc:  # pdfium.PdfiumError, and anything a broken PDF provokes
        out.unlink(missing_ok=True)
        raise _NoPreview(_("not a readable PDF ({error})").format(error=type(exc).__name__)) from exc
    return Thumbnail(out)


def _save_jpeg(image, out: Path) -> None:
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    image.save(out, "JPEG", quality=80)


# Icons: inline SVG symbols (24x24, stroke drawings), used as <svg><use href="#icon-KIND"/></svg>.
_ICONS = {
    "video": '<rect x="2" y="6" width="14" height="12" rx="2"/><path d="M16 10l6-3v10l-6-3z"/>',
    "audio": '<path d="M4 12h2M8 8v8M12 4v16M16 7v10M20 10v4"/>',
    "photo": '<rect x="3" y="5" width="18" height="14" rx="2"/><circle cx="9" cy="10" r="2"/>'
             '<path d="M3 17l5-5 4 4 3-3 6 6"/>',
    "document": '<path d="M6 2h9l5 5v15H6z"/><path d="M15 2v5h5M9 12h8M9 16h8"/>',
    "other": '<path d="M6 2h9l5 5v15H6z"/><path d="M15 2v5h5"/>',
    "gone": '<circle cx="12" cy="12" r="9"/><path d="M6 6l12 12"/>',
}


def icon_symbols() -> str:
    """An inline ``<svg>`` block defining ``#icon-<kind>`` symbols for every kind and
    ``#icon-gone`` (disposed or unreadable); no namespace URL, so HTML5 only."""
    symbols = "".join(f'<symbol id="icon-{k}" viewBox="0 0 24 24">{v}</symbol>' for k, v in _ICONS.items())
    return f'<svg class="defs" aria-hidden="true" width="0" height="0">{symbols}</svg>'
