"""Officers (执法证号) and the devices assigned to them, as journaled events."""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import errors, when
from .archive import Archive
from .journal import Draft

CERT_NO = re.compile(r"[0-9A-Za-z][0-9A-Za-z-]{0,31}")
DEVICE_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z_.-]{0,63}")


class InvalidOfficer(errors.InputError):
    code = "RK420"
    hint = "an officer is named by the 执法证号: letters, digits and '-'"


class InvalidDevice(errors.InputError):
    code = "RK421"
    hint = "a device id is letters, digits, '_', '.' and '-'"


def check_officer(cert_no: str) -> str:
    """Return the certificate number or raise InvalidOfficer."""
    value = cert_no.strip()
    if not CERT_NO.fullmatch(value):
        raise InvalidOfficer(f"not an officer's certificate number: {cert_no!r}")
    return value


@dataclass(frozen=True)
class Officer:
    cert_no: str
    name: str | None
    unit: str | None
    registered: bool
    records: int
    devices: tuple[str, ...]


@dataclass(frozen=True)
class Assignment:
    device: str
    officer: str
    valid_from: str | None
    valid_until: str | None
    records: int


def register_officer(archive: Archive, cert_no: str, *, name: str, unit: str | None = None) -> None:
    """Name an officer (again, to correct a name or unit); journaled."""
    data = {"cert_no": check_officer(cert_no), "name": name.strip()}
    if not data["name"]:
        raise errors.InvalidValue("an officer needs a name")
    if unit:
        data["unit"] = unit.strip()
    archive.commit([Draft("officer.registered", data)])


def assign_device(archive: Archive, device: str, officer: str, *, valid_from: str | None = None,
                  valid_until: str | None = None) -> None:
    """Assign a device to an officer for a period (open-ended when not given).

    A later assignment of the same device ends the open one at its start.
    """
    if not DEVICE_ID.fullmatch(device):
        raise InvalidDevice(f"not a device id: {device!r}")
    zone = archive.settings.zone
    data = {"device": device, "officer": check_officer(officer)}
    if valid_from:
        data["from"] = when.parse(valid_from, zone)
    if valid_until:
        data["until"] = when.parse(valid_until, zone, end_of_day=True)
    if "from" in data and "until" in data and data["until"] <= data["from"]:
        raise errors.InvalidValue("--until must be after --from")
    archive.commit([Draft("device.assigned", data)])


def list_officers(archive: Archive) -> list[Officer]:
    conn = archive.index.conn
    out = []
    for row in conn.execute("SELECT cert_no, name, unit, registered FROM officers ORDER BY cert_no"):
        records = conn.execute("SELECT COUNT(*) FROM records WHERE officer = ?", (row[0],)).fetchone()[0]
        devices = tuple(r[0] for r in conn.execute(
            "SELECT DISTINCT device FROM devices WHERE officer = ? ORDER BY device", (row[0],)))
        out.append(Officer(row[0], row[1], row[2], bool(row[3]), records, devices))
    return out


def list_devices(archive: Archive) -> list[Assignment]:
    conn = archive.index.conn
    out = []
    for row in conn.execute("SELECT device, officer, valid_from, valid_until, from_utc, until_utc "
                            "FROM devices ORDER BY device, from_utc, seq"):
        records = conn.execute(
            "SELECT COUNT(*) FROM records WHERE device = ? AND officer = ? "
            "AND (? IS NULL OR recorded_utc >= ?) AND (? IS NULL OR recorded_utc < ?)",
            (row[0], row[1], row[4], row[4], row[5], row[5])).fetchone()[0]
        out.append(Assignment(row[0], row[1], row[2], row[3], records))
    return out
