"""The history of recordkeep.toml as the journal records it (``settings.changed``).

A batch written under settings other than those the journal last recorded carries a
``settings.changed`` event (Archive.transact): the settings themselves, their digest and the
one before. Who edited the file cannot be known; its signer, an admin, put them on record
(``record``, or a write of their own), and when. A read view: each change with what it
changed, and whether the file as it reads now is what the journal last recorded (a command
that only reads, such as ``check``, may be running under settings no write has recorded yet).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from . import settings
from .archive import Archive
from .index import settings as settings_rows
from .refs import bare

BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Change:
    """One ``settings.changed``: ``changes`` are (setting, before, after), a setting named by its
    table and key (``rules.major_fine_person``); before is None for a setting first recorded
    or newly set, after None for one removed."""

    seq: int
    at: str
    actor: str
    digest: str
    previous: str | None
    changes: list[tuple[str, object, object]]

    def as_data(self) -> dict:
        return {"seq": self.seq, "at": self.at, "actor": self.actor, "digest": bare(self.digest),
                "previous": bare(self.previous) if self.previous else None,
                "changes": [{"setting": name, "before": before, "after": after}
                            for name, before, after in self.changes]}


@dataclass(frozen=True)
class History:
    """Every recorded change, oldest first; ``current`` the digest of the settings
    recordkeep.toml gives now, ``recorded`` whether they are the last recorded (``is_recorded``)."""

    changes: list[Change]
    current: str
    recorded: bool

    def as_data(self) -> dict:
        return {"current": bare(self.current), "recorded": self.recorded,
                "changes": [c.as_data() for c in self.changes]}


def flatten(form: dict, prefix: str = "") -> dict[str, object]:
    """Settings as ``table.key`` to value; a table within a table is named through both, a key
    that is not a bare TOML key quoted (``retention."ordinary.months"``), so no two settings
    share a name. A float (``{"$float": repr}``) is a value; a table recorded as ``{"$table":
    table}`` is that table (its keys as they are)."""
    out: dict[str, object] = {}
    for key, value in settings.as_table(form).items():
        name = prefix + (key if BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False))
        table = settings.as_table(value)
        if isinstance(table, dict) and table and (table is not value or not is_float(table)):
            out.update(flatten(table, name + "."))
        else:
            out[name] = value
    return out


def is_float(value: object) -> bool:
    """Whether ``value`` is a float as ``settings.journaled`` records one."""
    return isinstance(value, dict) and list(value) == ["$float"]


def differences(before: dict, after: dict) -> list[tuple[str, object, object]]:
    """(setting, before, after) for each setting that differs, by name."""
    old, new = flatten(before), flatten(after)
    return [(name, old.get(name), new.get(name)) for name in sorted(old.keys() | new.keys())
            if _text(old.get(name)) != _text(new.get(name))]


def _text(value: object) -> str:
    """A value as JSON: ``true`` and ``1``, or ``1`` and ``1.0``, are different settings."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def current(archive: Archive) -> str:
    """The digest of the settings recordkeep.toml gives now, as a ``settings.changed`` records them."""
    return settings.digest(archive.settings.recorded)


def is_recorded(archive: Archive) -> bool:
    """Whether the settings recordkeep.toml gives now are the ones the journal last recorded
    (as its own line holds them, whatever digest it claims, log verify failing a false one,
    RK270; read from the journal, not the index row, which anyone who can write the store's
    files can edit)."""
    return archive.recorded_settings() == current(archive)


def record(archive: Archive) -> int | None:
    """Put the settings recordkeep.toml gives now on record, alone in a batch (an admin's act:
    RoleMissing for another key); the line's seq, or None when the journal records them already."""
    archive.require_can_write(["settings.changed"])
    events = archive.transact(lambda: [], settings_only=True)
    return events[0].seq if events else None


def _recorded(row) -> dict:
    """The settings a ``settings_history`` row holds; none for a line made by hand that holds no table."""
    form = json.loads(row["settings"])
    return form if isinstance(form, dict) else {}


def history(archive: Archive) -> History:
    """The recorded history of the store's settings, and whether recordkeep.toml is as last recorded."""
    changes, before = [], {}
    for row in settings_rows.history(archive.index):
        form = _recorded(row)
        changes.append(Change(row["seq"], row["at"], row["actor"], row["digest"], row["previous"],
                              differences(before, form)))
        before = form
    now = current(archive)
    return History(changes, now, bool(changes) and is_recorded(archive))
