"""The times journal lines claim, against the lines journaled before them and the clock.

A line is written after every line before it, so it was not written earlier than the latest
time they claim. One that claims a time more than ``CLOCK_SLACK`` before that came from a
station whose clock ran behind, or with a time written false: an act typed with the clock
set back would pass for one entered on time. ``log verify`` names the first such line and
counts the others (RK263). Nor was a line written after the moment it is read: one claiming
a time more than ``CLOCK_SLACK`` after the verifying clock came from a station whose clock ran
ahead, or was written false, and makes the honest lines after it look entered late (RK276).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..store.journal import Event
from .anchors import CLOCK_SLACK, Latest, moment


@dataclass
class ClockOrder:
    """Fed every line that counts (acknowledged), in order: those that claim a time behind the
    journal's."""

    now: datetime | None = None  # the verifying clock: a line claiming a time after it is ahead
    latest: Latest | None = None
    first: tuple[Event, Latest] | None = None  # the first line behind, and the line ahead of it
    behind: int = 0
    first_ahead: Event | None = None
    ahead: int = 0

    def feed(self, event: Event) -> None:
        claimed = moment(event.at)
        if claimed is None:  # a naive or malformed time is unknown, never behind
            return
        if self.now is not None and claimed - self.now > CLOCK_SLACK:
            self.ahead += 1
            self.first_ahead = self.first_ahead or event
        latest = self.latest
        if latest is not None and latest.moment - claimed > CLOCK_SLACK:
            self.behind += 1
            if self.first is None:
                self.first = (event, latest)
        if latest is None or claimed > latest.moment:
            self.latest = Latest(claimed, event.seq, event.at)
