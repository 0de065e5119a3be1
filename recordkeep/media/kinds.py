"""What kind of record a file is (video, audio, photo, document, other), from its first
bytes, the name's extension as fallback."""

from __future__ import annotations

import os

HEAD_BYTES = 8192  # how much of a file ``detect_kind`` wants to see

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
AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}
_PHOTO_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1",
                 b"avif", b"avis", b"crx "}
QT_TOP_BOXES = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}
TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
FIRST_BOXES = QT_TOP_BOXES | {b"ftyp", b"styp", b"uuid", b"junk"}


def extension(name: str | bytes) -> str:
    base = os.fsdecode(name).rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base.lstrip(".") else ""


def _kind_from_magic(head: bytes, ext: str) -> str | None:
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in AUDIO_BRANDS:
            return "audio"
        if brand in _PHOTO_BRANDS:
            return "photo"
        return "video"
    if len(head) >= 8 and head[4:8] in QT_TOP_BOXES and head[4:8].isalpha():
        return "video"  # QuickTime file from before ftyp existed
    if head[:4] == b"RIFF" and len(head) >= 12:
        return {b"WAVE": "audio", b"AVI ": "video", b"WEBP": "photo"}.get(head[8:12])
    if head[:3] == b"\xff\xd8\xff":
        return "photo"
    if head[:8] == b"\x89PNG\r\n\x1a\n" or head[:6] in (b"GIF87a", b"GIF89a"):
        return "photo"
    if head[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n" or head[:15] == b"FUJIFILMCCD-RAW":
        return "photo"
    if head[:4] in TIFF_MAGIC:
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
    ext = extension(name)
    kind = _kind_from_magic(head, ext)
    if kind is not None:
        return kind
    for exts, k in ((_VIDEO_EXTS, "video"), (_AUDIO_EXTS, "audio"), (_PHOTO_EXTS, "photo"),
                    (_DOCUMENT_EXTS, "document")):
        if ext in exts:
            return k
    return "other"
