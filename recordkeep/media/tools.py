"""Finding the ffmpeg tools: the setting, else ``$RECORDKEEP_FFPROBE`` / ``$RECORDKEEP_FFMPEG``,
else the one on PATH; and ffmpeg's messages made readable."""

from __future__ import annotations

import os
import re
import shutil

from ..errors import ToolMissing
from ..i18n import _

FFMPEG_CONTEXT = re.compile(r"^\[[^\]]*@ ?0x[0-9a-fA-F]+\]\s*")


def ffprobe_exe(explicit: str | None) -> str:
    exe = explicit or os.environ.get("RECORDKEEP_FFPROBE") or "ffprobe"
    found = shutil.which(exe)
    if found is None:
        raise ToolMissing(_("ffprobe not found: {exe}").format(exe=exe))
    return found


def ffmpeg_exe(explicit: str | None) -> str:
    """The ffmpeg executable to run (ToolMissing when there is none)."""
    exe = explicit or os.environ.get("RECORDKEEP_FFMPEG") or "ffmpeg"
    found = shutil.which(exe)
    if found is None:
        raise ToolMissing(_("ffmpeg not found: {exe}").format(exe=exe))
    return found
