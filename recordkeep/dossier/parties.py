"""Parties (当事人): persons with a 身份证号 and organisations with a 统一社会信用代码.

A party's identity and phone numbers are personal information (个人信息保护法): the journal
and the index hold their masks only, the values live in the vault (dossier/vault.py), where
a full number finds its party and ``erase_pii`` can delete them. Showing them unmasked is
always journaled first. Parties added before the vault have their numbers plain in the
journal (which never changes): every output masks them all the same.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from .. import errors, ids, validate
from ..archive import Archive
from ..i18n import _
from ..index import dossier as rows
from ..index import resolve
from ..index.core import Acknowledged
from ..index.retention import holds_over_party
from ..store.journal import Draft
from .vault import FIELDS, Vault


@dataclass(frozen=True)
class Party:
    key: str
    kind: str
    name: str
    id_mask: str | None
    credit_code: str | None
    address: str | None
    phone_mask: str | None
    legacy: bool = False  # added before the vault: its numbers are plain in the journal
    erased_seq: int | None = None

    @classmethod
    def from_row(cls, row) -> Party:
        return cls(row["key"], row["kind"], row["name"], row["id_mask"], row["credit_code"], row["address"],
                   row["phone_mask"], bool(row["legacy_pii"]), row["pii_erased_seq"])

    def masked_identity(self) -> str:
        return self.id_mask or (ids.mask_credit_code(self.credit_code) if self.credit_code else "")

    def as_data(self, values: dict[str, str] | None = None) -> dict:
        """The party as shown: numbers masked, unless ``values`` (from ``show_pii``) holds them."""
        shown = values or {}
        data = {"key": self.key, "kind": self.kind, "name": self.name, "address": self.address,
                "phone": shown.get("phone", self.phone_mask)}
        if self.id_mask:
            data["id_number"] = shown.get("id_number", self.id_mask)
        if self.credit_code:
            shown_code = self.credit_code if values is not None else ids.mask_credit_code(self.credit_code)
            data["credit_code"] = shown_code
        if self.erased_seq is not None:
            data["pii_erased_seq"] = self.erased_seq
        return data


def vault_of(archive: Archive) -> Vault:
    return Vault(archive.vault, archive.settings.store_id)


def add_party(archive: Archive, *, name: str, id_number: str | None = None,
              credit_code: str | None = None, address: str | None = None,
              phone: str | None = None) -> str:
    """Register a person (身份证号) or an organisation (统一社会信用代码); return its key. The
    identity and phone numbers go to the vault, their masks to the journal. PartyExists when
    a party already has the number."""
    archive.require_intact_chain()
    name = validate.required_text(name, _("the party's name"))
    if (id_number is None) == (credit_code is None):
        raise errors.InvalidValue(_("give exactly one of --id-number or --credit-code"))
    data: dict = {"name": name}
    values: dict[str, str] = {}
    if id_number is not None:
        values["id_number"] = ids.validate_id_number(id_number)
        data.update(kind="person", id_number_mask=ids.mask_id_number(values["id_number"]))
    else:
        data.update(kind="organisation", credit_code=ids.validate_credit_code(credit_code))
    checked = validate.optional_text(address, _("the address"))
    if checked:
        data["address"] = checked
    if phone is not None and phone.strip():
        values["phone"] = ids.validate_phone(phone)
        data["phone_mask"] = ids.mask_phone(values["phone"])
    archive.require_can_write(["party.added"])
    vault = vault_of(archive)

    def build() -> list[Draft]:
        if "id_number" in values:
            known = next(iter(find_by_number(archive, values["id_number"])), None)
            said = _("a party with this identity number is already registered as {party}")
        else:
            known = rows.party_with_credit_code(archive.index, data["credit_code"])
            said = _("a party with this unified social credit code is already registered as {party}")
        if known:
            raise errors.PartyExists(said.format(party=known), hint=_("use {party}").format(party=known))
        data["key"] = key = f"P{rows.last_party_number(archive.index) + 1}"
        if vault.holds(key):  # left by an attempt that never reached the journal, unless it did
            _require_unjournaled(archive, key)
            vault.erase(key)
        if values:
            vault.put(key, values)
        return [Draft("party.added", data)]

    archive.transact(build)
    return data["key"]


def _require_unjournaled(archive: Archive, key: str) -> None:
    """IndexDiffers when the journal's own lines added party ``key``, which the index gives as
    the next new one: a row deleted from the index must not hand a party's key, and with it
    the erasure of its numbers from the vault, to another. Read only when the vault holds the
    key (a crash between the vault and the journal, or this), so seldom."""
    counted = Acknowledged()  # a line of a batch never sealed (a crash) added nobody
    if any(e.type == "party.added" and e.data.get("key") == key
           for read in archive.journal.read() for e in counted.feed(read)):
        raise errors.IndexDiffers(
            _("the index gives {party} as the next party's key, but the journal added {party} already: "
              "the index was changed; nothing was written").format(party=key),
            path=archive.root / "index.sqlite")


def get_party(archive: Archive, key: str) -> Party:
    row = rows.party(archive.index, key)
    if row is None:
        raise errors.UnknownParty(_("no party {party}").format(party=key))
    return Party.from_row(row)


def find_by_number(archive: Archive, text: str) -> list[str]:
    """The parties whose whole identity or phone number is ``text`` (two may share a phone):
    through the vault's lookup table, or, for parties added before the vault, their journal
    lines. None when no party has it (or its numbers were erased)."""
    wanted = []
    if ids.looks_like_id_number(text):
        wanted.append(("id_number", ids.normalise_id_number(text)))
    if ids.looks_like_phone(text):
        wanted.append(("phone", ids.normalise_phone(text)))
    if not wanted:
        return []
    vault = vault_of(archive)
    found = {key for field, value in wanted for key in vault.find(field, value)
             if rows.party(archive.index, key) is not None}
    for row in rows.legacy_parties(archive.index):
        if row["pii_erased_seq"] is None:
            plain = _legacy_values(archive, row["seq"])
            if any(plain.get(field) == value for field, value in wanted):
                found.add(row["key"])
    return sorted(found, key=lambda key: int(key[1:]) if key[1:].isdigit() else 0)


def _legacy_values(archive: Archive, seq: int) -> dict[str, str]:
    """The plain numbers of a ``party.added`` written before the vault, normalised."""
    [event], _lines = archive.events_at([seq])
    found = {}
    if event.data.get("id_number"):
        found["id_number"] = ids.normalise_id_number(event.data["id_number"])
    if event.data.get("phone"):
        found["phone"] = ids.normalise_phone(event.data["phone"])
    return found


def resolve_party(archive: Archive, ref: str) -> str:
    """A party's key from its key (P12), credit code, identity or phone number, or exact name."""
    return resolve.party(archive.index, ref, by_number=lambda text: find_by_number(archive, text))


def find_parties(archive: Archive, text: str | None = None, *, limit: int = 200) -> list[Party]:
    """Parties whose name, credit code or address contains ``text``, or whose whole identity
    or phone number it is (all when None); a part of a number finds nothing."""
    needle = unicodedata.normalize("NFKC", validate.text(text, _("the text"), reading=True)) if text else None
    by_number = find_by_number(archive, needle) if needle else []
    return [Party.from_row(r) for r in rows.parties_matching(archive.index, needle, limit,
                                                             keys=tuple(by_number))]


def show_pii(archive: Archive, ref: str) -> tuple[Party, dict[str, str]]:
    """The party and its numbers unmasked, once ``party.pii_shown`` is journaled (role
    auditor); ReadOnlyStore, showing nothing, where it cannot be."""
    key = resolve_party(archive, ref)
    if archive.readonly:
        raise errors.ReadOnlyStore(_("the store is read-only: showing {party}'s numbers unmasked cannot be "
                                     "journaled, so they are not shown").format(party=key), path=archive.root,
                                   hint=_("unmask on the writable store, where it is journaled; a copy for "
                                          "an auditor holds no personal data ('export --with-pii' hands them "
                                          "over)"))
    archive.commit([Draft("party.pii_shown", {"party": key})])
    party = get_party(archive, key)
    return party, unmasked(archive, party)


def unmasked(archive: Archive, party: Party) -> dict[str, str]:
    """The party's numbers in full: from the vault, or from its journal line if it was added
    before the vault; none once erased. Only for a caller that journaled the showing."""
    if party.erased_seq is not None:
        return {}
    values = vault_of(archive).values(party.key)
    if party.legacy:
        values = {**_legacy_values(archive, rows.party(archive.index, party.key)["seq"]), **values}
    if party.credit_code:
        values["credit_code"] = party.credit_code
    return values


@dataclass(frozen=True)
class Erasure:
    """What ``erase_pii`` did: the fields erased from the vault, and what it cannot reach."""

    party: str
    fields: list[str]
    seq: int
    legacy_seq: int | None  # a journal line from before the vault still holding the numbers

    def as_data(self) -> dict:
        return {"party": self.party, "fields": self.fields, "seq": self.seq, "legacy_seq": self.legacy_seq}


def erase_pii(archive: Archive, ref: str, *, reason: str,
              guard: Callable[[str], None] | None = None) -> Erasure:
    """Erase a party's identity and phone numbers (PIPL arts. 19, 47): journal
    ``party.pii_erased`` (role records), then delete its vault keys, ciphertexts and lookup
    entries. HeldParty while a hold covers it, as the index says under the journal's lock, and
    ``guard`` (given the party's key there) says whatever else may refuse it. The party stays,
    masked; its records, which are evidence under the retention rules, stay too."""
    archive.require_intact_chain()
    reason = validate.required_text(reason, _("the reason"))
    key = resolve_party(archive, ref)
    archive.require_can_write(["party.pii_erased"])
    party, vault = get_party(archive, key), vault_of(archive)
    present = [f for f in FIELDS if f in _fields_held(vault, key)]
    if party.erased_seq is not None and not vault.holds(key):
        raise errors.InvalidValue(_("{party}'s personal data were erased at seq {seq}").format(
            party=key, seq=party.erased_seq))
    if not present and not party.legacy and not vault.holds(key):
        raise errors.InvalidValue(_("{party} has no identity or phone number in the vault: nothing to "
                                    "erase").format(party=key))

    def build() -> list[Draft]:  # under the lock: a hold journaled meanwhile (another station) is seen
        if guard is not None:
            guard(key)
        held = holds_over_party(archive.index, key)
        if held:
            raise errors.HeldParty(_("{party} is under a hold ({holds}): its personal data are kept").format(
                party=key, holds=", ".join(held)))
        return [Draft("party.pii_erased", {"party": key, "fields": present, "reason": reason})]

    [event] = archive.transact(build)
    vault.erase(key)
    legacy = rows.party(archive.index, key)["seq"] if party.legacy else None
    return Erasure(key, present, event.seq, legacy)


def _fields_held(vault: Vault, key: str) -> set[str]:
    try:
        return set(vault.values(key))
    except errors.VaultDamaged:  # erased all the same: what it keeps, readable or not
        return set(vault.stored_fields(key))
