"""Keys of a store's people: make one, enrol it with roles (admin), revoke it (admin), list.

Enrolling binds a public key to an actor name and roles in the journal (``key.enrolled``);
from then on that actor's batches are signed by that key, and what they may write is what
its roles allow (trust/roles.py). On a store from before signatures, the first admin
enrolment is trust on first use: the admin enrols their own key, which signs it.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, replace

from . import errors, validate
from .archive import Archive, default_actor
from .i18n import N_, _
from .index import keys as key_rows
from .store.journal import Draft
from .trust import keys, roles
from .trust.checkpoint import origin
from .trust.signer import Signer


@dataclass(frozen=True)
class KeyInfo:
    """A key as ``key list`` shows it."""

    key: str
    actor: str
    roles: tuple[str, ...]
    public_key: str
    verifier_key: str
    enrolled_seq: int
    revoked_seq: int | None
    reason: str | None
    founding: bool = False  # the key the journal roots its trust in (``log verify --founding-key``)


def new_key(actor: str | None = None) -> keys.SigningKey:
    """Make a private key (0600) for ``actor`` under the keys folder, or at ``$RECORDKEEP_KEY``."""
    return keys.new_key(keys.key_path(validate.actor(actor if actor is not None else _default())))


def _default() -> str:
    return default_actor()


def enrol(archive: Archive, public_key: str, *, actor: str, role_names: list[str]) -> KeyInfo:
    """Enrol a public key (base64, or a verifier key) for ``actor`` with ``role_names``; a key
    already enrolled, or revoked, is refused (a key is enrolled once)."""
    archive.require_intact_chain()
    raw = keys.public_from_text(public_key)
    actor = validate.actor(actor)
    # every event the key signs names its actor, forever: no identity or phone number in it
    validate.refuse_personal_numbers(actor, N_("the actor"), in_words=True)
    try:
        granted = roles.check_roles(role_names)
    except ValueError as exc:
        raise errors.InvalidValue(_("not a role: {role}").format(role=exc),
                                  hint=_("roles are {roles}").format(
                                      roles=", ".join(roles.ALL_ROLES))) from exc
    if not granted:
        raise errors.InvalidValue(_("enrol a key with at least one --role"))
    data = {"key": keys.key_id(raw), "public_key": base64.b64encode(raw).decode(), "actor": actor,
            "roles": granted}
    first_admin = None

    def build() -> list[Draft]:  # under the journal's lock: two admins enrolling one key, one wins
        nonlocal first_admin
        if not archive.index.signed:  # decided here: another station may have enrolled the first
            first_admin = archive._signer = _first_admin(archive, raw, data)
        elif first_admin is not None and archive._signer is first_admin:  # it did, before a retry
            archive._signer = first_admin = None
        known = key_rows.key(archive.index, data["key"])
        if known is not None and known["revoked_seq"] is not None:
            raise errors.InvalidValue(_("key {key} was revoked at seq {seq}: a revoked key is never enrolled "
                                        "again").format(key=data["key"], seq=known["revoked_seq"]),
                                      hint=_("make a new key ('recordkeep key new') and enrol that"))
        if known is not None:
            raise errors.InvalidValue(_("key {key} is enrolled already, for {actor} with {roles}").format(
                key=data["key"], actor=known["actor"], roles=", ".join(json.loads(known["roles"]))),
                hint=_("a key is enrolled once: to change its actor or roles, revoke it and enrol a new key"))
        return [Draft("key.enrolled", data)]

    archive.transact(build)
    return _info(archive, data["key"])


def _first_admin(archive: Archive, raw: bytes, data: dict) -> Signer:
    """On a store from before signatures: the first enrolment is the admin's own key, with the
    admin role; it signs its own enrolment (trust on first use): its signer."""
    key = keys.load_key(keys.key_path(archive.actor))
    if key.public_raw != raw or "admin" not in data["roles"]:
        raise errors.InvalidValue(_("this store has no enrolled key yet: its first enrolment is the admin's "
                                    "own key, with --role admin (trust on first use)"),
                                  hint=_("enrol {key} --actor {actor} --role admin first").format(
                                      key=key.public_b64, actor=archive.actor))
    data["actor"] = archive.requested_actor or data["actor"]
    return Signer(key, data["actor"], frozenset(data["roles"]), archive.settings.store_id)


def revoke(archive: Archive, key_id: str, *, reason: str) -> KeyInfo:
    """Revoke an enrolled key: its later batches are refused (journaled, never undone)."""
    archive.require_intact_chain()
    archive.require_can_write(["key.revoked"])  # the role first: a clerk learns nothing of the keys
    why = validate.required_text(reason, N_("the reason"), limit=validate.NOTE_CHARS)
    wanted = validate.text(key_id, N_("the key id"), reading=True).lower()

    def build() -> list[Draft]:  # under the journal's lock: two admins revoking one key, one does
        row = key_rows.key(archive.index, wanted)
        if row is None:
            raise errors.InvalidValue(_("no key {key} is enrolled in this store").format(key=key_id))
        if row["revoked_seq"] is not None:
            raise errors.InvalidValue(_("key {key} was revoked already (seq {seq})").format(
                key=key_id, seq=row["revoked_seq"]))
        if key_rows.live_admins(archive.index) == [row["key"]]:
            raise errors.LastAdminKey(_("key {key} is the store's last admin key: revoking it would leave "
                                        "no one able to enrol or revoke keys").format(key=key_id))
        return [Draft("key.revoked", {"key": row["key"], "reason": why})]

    archive.transact(build)
    return _info(archive, wanted)


def list_keys(archive: Archive) -> list[KeyInfo]:
    """Every key the journal names, in the order enrolled; ``founding`` marks the key the
    journal roots its trust in: the one its first line (``store.created``) names, else (a store
    from before signatures) the first admin key, trusted on first use."""
    listed = [_info(archive, row["key"]) for row in key_rows.all_keys(archive.index)]
    first = archive.journal.first()
    named = first.data.get("admin_key") if first is not None and first.type == "store.created" else None
    founding = next((k for k in listed if k.key == named), None) or next(
        (k for k in listed if "admin" in k.roles), None)
    return [replace(k, founding=True) if k is founding else k for k in listed]


def _info(archive: Archive, key_id: str) -> KeyInfo:
    row = key_rows.key(archive.index, key_id)
    raw = base64.b64decode(row["public_key"])
    return KeyInfo(row["key"], row["actor"], tuple(json.loads(row["roles"])), row["public_key"],
                   keys.verifier_key(origin(archive.settings.store_id), raw), row["enrolled_seq"],
                   row["revoked_seq"], row["reason"])
