"""ISO-BMFF (MP4, MOV, M4A) box structure: a cut file shows in its top-level box sizes.

ffprobe exits 0 on a half-cut "faststart" MP4, so a probe success is not proof of an intact
file; the box chain is (it reads only box headers)."""

from __future__ import annotations

import os

from ..i18n import _
from .kinds import FIRST_BOXES

MAX_TOP_LEVEL_BOXES = 100_000

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
                return _("more than {n} top-level boxes: not a usable MP4/MOV").format(n=MAX_TOP_LEVEL_BOXES)
            fh.seek(pos)
            header = fh.read(16)
            if len(header) < 8:
                return _("file ends inside a box header at offset {pos} ({stray} stray bytes): "
                         "file cut?").format(pos=pos, stray=file_size - pos)
            size = int.from_bytes(header[:4], "big")
            box = header[4:8]
            label = box.decode("latin-1")
            if not all(0x20 <= b < 0x7F or b == 0xA9 for b in box) or (
                    pos == 0 and box not in FIRST_BOXES):
                return _("invalid box type {box!r} at offset {pos}: not an MP4/MOV box chain").format(
                    box=box, pos=pos)
            header_len = 8
            if size == 1:
                if len(header) < 16:
                    return _("file ends inside the 64-bit size of box '{label}' at offset {pos}").format(
                        label=label, pos=pos)
                size = int.from_bytes(header[8:16], "big")
                header_len = 16
            elif size == 0:
                size = file_size - pos
            if size < header_len:
                return _("box '{label}' at offset {pos} has invalid size {size}").format(
                    label=label, pos=pos, size=size)
            if pos + size > file_size:
                return _("box '{label}' at offset {pos} needs {size} bytes but only {left} remain: "
                         "file cut?").format(label=label, pos=pos, size=size, left=file_size - pos)
            seen.add(box)
            pos += size
    if file_size == 0:
        return _("empty file")
    if b"moov" not in seen:
        return _("no 'moov' box (the index that makes the media playable is missing)")
    return None
