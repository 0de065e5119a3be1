"""Parties (当事人): persons with a 身份证号 and organisations with a 统一社会信用代码."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from .. import errors, ids, validate
from ..archive import Archive
from ..index import dossier as rows
from ..index import resolve
from ..store.journal import Draft


@dataclass(frozen=True)
class Party:
    key: str
    kind: str
    name: str
    id_number: str | None
    credit_code: str | None
    address: str | None
    phone: str | None

    @classmethod
    def from_row(cls, row) -> Party:
        return cls(row["key"], row["kind"], row["name"], row["id_number"], row["credit_code"],
                   row["address"], row["phone"])

    @property
    def identity(self) -> str:
        return self.id_number or self.credit_code or ""

    def masked_identity(self) -> str:
        return ids.mask_identity(self.id_number, self.credit_code)

    def as_data(self, *, show_pii: bool = False) -> dict:
        data = {"key": self.key, "kind": self.kind, "name": self.name,
                "address": self.address, "phone": self.phone}
        if self.id_number:
            data["id_number"] = self.id_number if show_pii else ids.mask_id_number(self.id_number)
        if self.credit_code:
            data["credit_code"] = self.credit_code if show_pii else ids.mask_credit_code(self.credit_code)
        return data


def add_party(archive: Archive, *, name: str, id_number: str | None = None,
              credit_code: str | None = None, address: str | None = None,
              phone: str | None = None) -> str:
    """Register a person (身份证号) or an organisation (统一社会信用代码); return its key."""
    archive.require_intact_chain()
    name = validate.required_text(name, "the party's name")
    if (id_number is None) == (credit_code is None):
        raise errors.InvalidValue("give exactly one of --id-number or --credit-code")
    data: dict = {"name": name}
    if id_number is not None:
        data.update(kind="person", id_number=ids.validate_id_number(id_number))
    else:
        data.update(kind="organisation", credit_code=ids.validate_credit_code(credit_code))
    for key, value in (("address", address), ("phone", phone)):
        checked = validate.optional_text(value, f"the {key}")
        if checked:
            data[key] = checked
    column = "id_number" if id_number is not None else "credit_code"

    def build() -> list[Draft]:
        known = rows.party_with(archive.index, column, data[column])
        if known:
            raise errors.PartyExists(f"a party with this identity number is already registered as {known}",
                                     hint=f"use {known}")
        data["key"] = f"P{rows.last_party_number(archive.index) + 1}"
        return [Draft("party.added", data)]

    archive.transact(build)
    return data["key"]


def get_party(archive: Archive, key: str) -> Party:
    row = rows.party(archive.index, key)
    if row is None:
        raise errors.UnknownParty(f"no party {key}")
    return Party.from_row(row)


def resolve_party(archive: Archive, ref: str) -> str:
    """A party's key from its key (P12), identity number or exact name."""
    return resolve.party(archive.index, ref)


def find_parties(archive: Archive, text: str | None = None, *, limit: int = 200) -> list[Party]:
    """Parties whose name, identity number or address contains ``text`` (all when None)."""
    needle = unicodedata.normalize("NFKC", validate.text(text, "the text")) if text else None
    return [Party.from_row(r) for r in rows.parties_matching(archive.index, needle, limit)]


def note_pii_shown(archive: Archive, key: str) -> None:
    """Journal that a party's identity number was shown unmasked (with the actor)."""
    if not archive.readonly:
        archive.commit([Draft("party.pii_shown", {"party": key})])
