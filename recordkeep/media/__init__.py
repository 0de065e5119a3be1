"""The only package that reads media: kinds, probes (ffprobe, Pillow, pypdfium2), ISO-BMFF
structure, metadata tags, recorder file names, tool lookup and thumbnails. It imports
nothing of the store or the index."""

from ..refs import KINDS
from .isobmff import structure_problem
from .kinds import HEAD_BYTES, detect_kind
from .probe import PROBE_STATUSES, MediaFacts, probe

__all__ = ["HEAD_BYTES", "KINDS", "PROBE_STATUSES", "MediaFacts", "detect_kind", "probe", "structure_problem"]
