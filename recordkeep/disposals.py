"""Disposals as the journal went: each ``record.disposed`` judged against what protected its
record when it was written.

``dispose`` refuses a record that is important, kept, linked, held or not yet due, deciding
from the journal's own lines (protection.py). A disposal line written by other means (the
library called directly, a key used outside recordkeep) got around those checks, and a signed
chain does not show it. ``Disposals``, fed every acknowledged event in order, replays the
protections of each disposed record up to its disposal and names what should have stopped it:
``log verify`` reports it (RK273).

The records watched are those the index says were disposed of, which spares a second read of
the journal; a disposal of a record the index does not name (an index edited, or behind) is
judged by that second read (``judge_unwatched``), so the index only saves time and hides nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import retention, settings
from .archive import Archive
from .i18n import _
from .index.core import Acknowledged
from .protection import Journaled, from_journal
from .refs import bare
from .store.journal import Event


@dataclass(frozen=True)
class Undue:
    """A disposal journaled at ``seq`` of a record that ``why`` (as people read it) protected then."""

    seq: int
    digest: str
    why: tuple[str, ...]
    signed: bool  # in a signed batch: every release that signs refused it


class Disposals:
    """Fed every acknowledged event in order (``feed``): ``found`` the disposals of watched
    records that should have been refused, ``unwatched`` the disposals of others (seq -> digest)."""

    def __init__(self, archive: Archive, watched: Iterable[str]) -> None:
        self.journaled = Journaled(archive, set(watched))
        # the settings in force, as settings.changed lines record them; before the first, the
        # file's zone (unknown then: a day's slack, which a zone shifts a date by at most)
        self.zone: tzinfo = archive.settings.zone
        self.zone_known = False
        self.months: int | None = None  # the months in force, once a settings.changed records them
        self.now = datetime.now(UTC)  # no disposal is proved due by a time it claims beyond this
        self.found: list[Undue] = []
        self.unwatched: dict[int, str] = {}

    def feed(self, event: Event, *, signed: bool = True) -> None:
        """Take one acknowledged event (``signed``: its batch is)."""
        if event.type == "settings.changed":
            zone = _zone_recorded(event.data)
            self.zone, self.zone_known = (zone, True) if zone is not None else (self.zone, self.zone_known)
            self.months = retention.recorded_months(event.data.get("settings")) or self.months
        elif event.type == "record.disposed":
            digest = bare(str(event.data.get("digest", "")))
            if digest in self.journaled.wanted:
                self._judge(event, digest, signed)
            else:
                self.unwatched[event.seq] = digest
        if self.journaled.wanted:  # else nothing to replay (a store with no disposal, the most)
            self.journaled.keep(event)

    def _judge(self, event: Event, digest: str, signed: bool) -> None:
        found = from_journal(self.journaled, digest)
        why = [_("marked important on the camera")] if found.important else []
        if found.kept:
            why.append(_("kept by a clerk"))
        why += sorted(_("linked to case {case_no}").format(case_no=case) if case
                      else _("linked to party {party}").format(party=party)
                      for case, _stage, party in found.links)
        holds = sorted({_hold_name(h) for h in found.holds} | {b.named_holds() for b in found.pinned})
        if holds:
            why.append(_("held ({holds})").format(holds=", ".join(holds)))
        until = self._kept_until(event, found.times)
        if until is not None:
            why.append(_("kept until {time}, and the line claims {at}").format(
                time=until.isoformat(timespec="seconds"), at=event.at))
        if why:
            self.found.append(Undue(event.seq, digest, tuple(why), signed))

    def _kept_until(self, event: Event, times: tuple) -> datetime | None:
        """When the record's retention ended, if later than its disposal: by the months the
        line names (those recorded in force when it names none, or none a release writes; not
        judged when neither says: a line of a release that journaled neither), from the
        time it claims (now, when it claims a later one; the end of time when it claims none
        that reads as an instant: no time it does not prove lets a record go)."""
        if times[0] is None:
            return None
        months = event.data.get("months")
        if not isinstance(months, int) or isinstance(months, bool) or months < 1:
            months = self.months  # a line of a release that named none, or made by other means
        if months is None:  # named nowhere: the settings of an older release are not known
            return None
        try:
            at = datetime.fromisoformat(event.at)
            at = min(at, self.now) if at.tzinfo is not None else None
        except (ValueError, TypeError):
            at = None
        until = retention.keep_until(times, months, self.zone)
        if at is None:
            return until
        slack = timedelta(0) if self.zone_known else timedelta(days=1)
        return until if until - slack > at else None


def judge_unwatched(archive: Archive, first: Disposals) -> list[Undue]:
    """The disposals ``first`` did not watch, judged by reading the journal again up to the
    last of them."""
    if not first.unwatched:
        return []
    again, counted, last = Disposals(archive, first.unwatched.values()), Acknowledged(), max(first.unwatched)
    for read in archive.journal.read(0, None):
        acknowledged = counted.feed(read)  # a batch counts once its seal is read
        for event in acknowledged:
            again.feed(event, signed=counted.signed)
        if acknowledged and acknowledged[-1].seq >= last:
            break
    return [u for u in again.found if u.seq in first.unwatched]


def _hold_name(hold: str) -> str:
    """A hold as protection.Protection names it (``record``, ``case NO``, ``party P``), as people read it."""
    kind, _space, ref = hold.partition(" ")
    if kind == "case":
        return _("case {case_no}").format(case_no=ref)
    if kind == "party":
        return _("party {party}").format(party=ref)
    return _("the record's own hold")


def _zone_recorded(data: dict) -> tzinfo | None:
    """The timezone the settings a ``settings.changed`` records name; None when they name none
    this machine knows."""
    form = settings.from_journal(data.get("settings"))
    store = form.get("store") if isinstance(form, dict) else None
    name = store.get("timezone", "Asia/Shanghai") if isinstance(store, dict) else None
    try:
        return ZoneInfo(name) if isinstance(name, str) else None
    except (ZoneInfoNotFoundError, ValueError):
        return None
