"""Roles: which event types a batch may hold, by the roles of the key that signs it.

A type the table does not name needs ``admin``; ``batch.signed``, ``checkpoint.made``,
``journal.*`` and ``verify.run`` need any enrolled key. ``settings.changed`` (recordkeep.toml's
rules, retention and the rest, journaled first in the batch written under them) is an admin's:
a clerk who edits the file cannot lower a threshold under her own key. ``reviewer`` has no type of its own:
a review act (法制审核, 集体讨论) counts as review only when its batch's key has it.
"""

from __future__ import annotations

ROLES: dict[str, frozenset[str]] = {
    "admin": frozenset({"store.created", "key.enrolled", "key.revoked", "settings.changed"}),
    "clerk": frozenset({
        "record.imported", "record.seen", "record.restored", "record.amended", "record.linked",
        "record.unlinked", "batch.finished", "officer.registered", "device.assigned", "party.added",
        "case.opened", "case.stage", "case.decided", "case.published", "case.closed", "case.reopened",
        "case.voided", "retention.locked"}),  # case.voided: not of a decision (``needed``)
    "records": frozenset({"retention.held", "retention.released", "retention.kept", "retention.locked",
                          "record.disposed", "party.pii_erased", "case.voided"}),  # of a decision only
    "auditor": frozenset({"party.pii_shown", "export.created"}),
    "reviewer": frozenset(),
}
ALL_ROLES = tuple(ROLES)
ANY_KEY = frozenset({"batch.signed", "checkpoint.made", "verify.run"})


def needed(event_type: str, data: dict | None = None) -> frozenset[str]:
    """The roles of which any one lets a key write an event of this type (empty: any key)."""
    if event_type in ANY_KEY or event_type.startswith("journal."):
        return frozenset()
    if event_type == "case.voided":  # a decision's void is a records officer's act, any other a clerk's
        return frozenset({"records" if (data or {}).get("voided_type") == "case.decided" else "clerk"})
    holders = frozenset(role for role, types in ROLES.items() if event_type in types)
    return holders or frozenset({"admin"})


def allowed_by_earlier_releases(roles: frozenset[str] | set[str], event_type: str,
                                data: dict | None = None) -> bool:
    """Whether earlier releases let this key write the event (a notice, not a failure, in
    stores they wrote): any key's ``settings.changed``, before settings were an admin's; a
    records key's void of a stage, publication, close or reopening, before the records role was
    held to decisions' voids. A void of a link or an opening, which changes what protects
    records, is a failure whenever it was written."""
    if event_type == "settings.changed":
        return True
    return (event_type == "case.voided" and "records" in roles
            and (data or {}).get("voided_type") in ("case.stage", "case.published", "case.closed",
                                                     "case.reopened"))


def allows(roles: frozenset[str] | set[str], event_type: str, data: dict | None = None) -> bool:
    """Whether a key with ``roles`` may write this event."""
    wanted = needed(event_type, data)
    return not wanted or bool(wanted & set(roles))


def check_roles(names: list[str]) -> list[str]:
    """The role names, each one of ``ALL_ROLES`` (ValueError naming the others)."""
    unknown = [n for n in names if n not in ROLES]
    if unknown:
        raise ValueError(", ".join(unknown))
    return sorted(set(names), key=ALL_ROLES.index)
