"""Officers (执法证号) and the devices assigned to them, as journaled events."""

from __future__ import annotations

from dataclasses import dataclass

from .. import errors, validate
from ..archive import Archive
from ..i18n import _
from ..index import people, resolve
from ..refs import check_device, check_officer, utc_key
from ..store.journal import Draft


@dataclass(frozen=True)
class Officer:
    cert_no: str
    name: str | None
    unit: str | None
    post: str | None
    registered: bool
    records: int
    devices: tuple[str, ...]


@dataclass(frozen=True)
class Assignment:
    """A device held by an officer or, with no officer, kept by a unit."""

    device: str
    officer: str | None
    unit: str | None
    valid_from: str | None
    valid_until: str | None
    records: int


def register_officer(archive: Archive, cert_no: str, *, name: str, unit: str | None = None,
                     post: str | None = None) -> dict:
    """Name an officer (again, to correct a name, unit or post, e.g. 法制审核); journaled with
    the whole registration, returned. A unit or post not given (None) is kept from the
    officer's registration; an empty one is cleared."""
    archive.require_intact_chain()
    data = {"cert_no": check_officer(cert_no), "name": validate.required_text(name, _("the officer's name"))}
    known = people.officer(archive.index, data["cert_no"])
    for key, what, value in (("unit", _("the unit"), unit), ("post", _("the post"), post)):
        if value is None and known is not None and known["registered"]:
            value = known[key]
        value = validate.optional_text(value, what)
        if value:
            data[key] = value
    archive.commit([Draft("officer.registered", data)])
    return data


def assign_device(archive: Archive, device: str, officer: str | None = None, *, unit: str | None = None,
                  valid_from: str | None = None, valid_until: str | None = None,
                  reattribute: bool = False) -> int:
    """Assign a device to an officer, or to a unit that keeps it (one of the two: InvalidValue
    otherwise), for a period (open-ended when not given); return how many records made with
    it in the period were attributed anew (touched: their chains of custody show it).

    A later assignment of the same device ends the open one at its start (a handover); one
    that would overlap any other assignment of the device is AssignmentOverlap, naming it.
    One that would move records from the officer the device's earlier assignment gave them
    (a handover registered late, or backdated) is Reattribution unless ``reattribute``; the
    line then says how many it moved (``reattributed``).
    """
    archive.require_intact_chain()
    unit = validate.optional_text(unit, _("the unit"))
    if (officer is None) == (not unit):
        raise errors.InvalidValue(_("a device is assigned to an officer or to a unit: give one of the two"))
    holder = {"officer": resolve.officer(archive.index, officer)} if officer is not None else {"unit": unit}
    data = {"device": check_device(device), **holder}
    if valid_from is not None:  # '' does not parse: an unset variable never means "open-ended"
        data["from"] = archive.settings.time(valid_from)
    if valid_until is not None:
        data["until"] = archive.settings.time(valid_until, end_of_day=True)
    if "from" in data and "until" in data and data["until"] <= data["from"]:
        raise errors.InvalidValue(_("--until must be after --from"))

    def build() -> list[Draft]:
        found = people.overlapping_assignments(archive.index, data["device"], utc_key(data.get("from")),
                                               utc_key(data.get("until")))
        if found:
            others = "; ".join(
                _("its assignment to {holder} {span} (seq {seq})").format(
                    holder=_holder(row["officer"], row["unit"]),
                    span=_span(row["valid_from"], row["valid_until"]), seq=row["seq"])
                for row in found)
            raise errors.AssignmentOverlap(_("device {device} to {holder} {span} overlaps {others}").format(
                device=data["device"], holder=_holder(data.get("officer"), data.get("unit")),
                span=_span(data.get("from"), data.get("until")),
                others=others))
        moved = people.moved_by_assignment(archive.index, data["device"], data.get("officer"),
                                           utc_key(data.get("from")), utc_key(data.get("until")))
        taken = [row for row in moved if row["officer"] is not None]
        if taken and not reattribute:
            raise errors.Reattribution(_(
                "device {device} to {holder} {span} would move {n} record(s) made with it from the officer "
                "its earlier assignment gave them ({officers}; the first {digest}, recorded {at})").format(
                device=data["device"], holder=_holder(data.get("officer"), data.get("unit")),
                span=_span(data.get("from"), data.get("until")), n=len(taken),
                officers=", ".join(sorted({row["officer"] for row in taken})), digest=taken[0]["digest"][:12],
                at=taken[0]["recorded_at"][:16].replace("T", " ")))
        counted.append(len(moved))
        return [Draft("device.assigned", {**data, "reattributed": len(taken)} if taken else data)]

    counted: list[int] = []
    archive.transact(build)
    return counted[-1]


def _holder(officer: str | None, unit: str | None) -> str:
    return officer or _("unit {unit}").format(unit=unit)


def _span(start: str | None, end: str | None) -> str:
    def shown(moment: str | None, unbounded: str) -> str:
        return moment[:16].replace("T", " ") if moment else unbounded
    return _("from {start} until {end}").format(start=shown(start, _("the beginning")),
                                                end=shown(end, _("further notice")))


def list_officers(archive: Archive) -> list[Officer]:
    """Every officer, registered or only seen, with their records and devices."""
    return [Officer(row["cert_no"], row["name"], row["unit"], row["post"], bool(row["registered"]),
                    row["records"], tuple(row["devices"])) for row in people.officers(archive.index)]


def list_devices(archive: Archive) -> list[Assignment]:
    """Every device assignment, oldest first, with the records made under it."""
    return [Assignment(row["device"], row["officer"], row["unit"], row["valid_from"], row["valid_until"],
                       row["records"])
            for row in people.assignments(archive.index)]
