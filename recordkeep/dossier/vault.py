"""The personal-data vault (个人信息保护法): identity and phone numbers, kept apart from the
append-only journal so that they can be erased (crypto-shredding).

Each value is encrypted with AES-GCM under a random key of its own:
``pii/<party>/<field>.json`` holds ``{"field", "nonce", "ciphertext"}`` (base64), the keys
live apart in ``pii/keys/<party>.json`` (``{field: base64 key}``), and the associated data
is ``<store id>\\n<party>\\n<field>``. ``pii/lookup/<HMAC-SHA256(lookup key, normalised
value)>`` names the parties that hold it, one a line (two may share a phone), the lookup
key (32 random bytes) in ``pii/lookup.key``. No hash of a value exists anywhere else. Erasing
a party deletes its lookup entries (every version; an entry others share is then written anew
without it), then its keys (its ciphertexts are then noise), then its ciphertexts.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .. import errors
from ..i18n import _
from ..store.vault import VaultFiles

FIELDS = ("id_number", "phone")
LOOKUP_KEY = "lookup.key"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class Vault:
    """The vault of one store (``files``: the backend's ``pii/``)."""

    def __init__(self, files: VaultFiles, store_id: str) -> None:
        self.files = files
        self.store_id = store_id
        self._lookup_key: bytes | None = None

    # -- the lookup table ---------------------------------------------------------------------
    def _key_for_lookup(self, *, create: bool) -> bytes | None:
        if self._lookup_key is None:
            held = self.files.get(LOOKUP_KEY)
            if held is None and create:
                self.files.create(LOOKUP_KEY, os.urandom(32))  # another station's, if it made one first
                held = self.files.get(LOOKUP_KEY)
            if held is not None and len(held) != 32:
                raise errors.VaultDamaged(_("pii/lookup.key is not a 32-byte key"), path=self.files.location)
            self._lookup_key = held
        return self._lookup_key

    def _entry(self, field: str, value: str, *, create: bool = False) -> str | None:
        key = self._key_for_lookup(create=create)
        if key is None:
            return None
        return "lookup/" + hmac.new(key, f"{field}\n{value}".encode(), hashlib.sha256).hexdigest()

    def _holders(self, entry: str | None) -> list[str]:
        """The parties a lookup entry names, one a line (an older entry names one)."""
        held = self.files.get(entry) if entry else None
        return [] if held is None else held.decode("utf-8", "replace").split()

    def find(self, field: str, value: str) -> list[str]:
        """The parties whose ``field`` is ``value`` (normalised): two may share a phone. A party an
        entry names that no longer holds that value (its number changed, or a write that never
        reached the journal) is not a match."""
        holders = self._holders(self._entry(field, value))
        return [party for party in holders if self.value(party, field) == value]

    # -- values -------------------------------------------------------------------------------
    def _aad(self, party: str, field: str) -> bytes:
        return f"{self.store_id}\n{party}\n{field}".encode()

    def _keys(self, party: str) -> dict[str, str]:
        held = self.files.get(f"keys/{party}.json")
        try:
            keys = json.loads(held) if held is not None else {}
        except (ValueError, RecursionError) as exc:
            raise errors.VaultDamaged(_("the vault's keys of {party} do not parse").format(party=party),
                                      path=self.files.location) from exc
        if not isinstance(keys, dict) or not all(isinstance(v, str) for v in keys.values()):
            raise errors.VaultDamaged(_("the vault's keys of {party} are not a table of keys").format(
                party=party), path=self.files.location)
        return keys

    def put(self, party: str, values: dict[str, str]) -> None:
        """Encrypt and keep each of ``values`` (field -> normalised value) for ``party``, and
        its lookup entry; a value put again for the field replaces the old one."""
        keys = self._keys(party)
        for field, value in values.items():
            key = AESGCM.generate_key(bit_length=256)
            nonce = os.urandom(12)
            sealed = AESGCM(key).encrypt(nonce, value.encode("utf-8"), self._aad(party, field))
            keys[field] = _b64(key)
            self.files.put(f"keys/{party}.json", json.dumps(keys, sort_keys=True).encode())
            self.files.put(f"{party}/{field}.json", json.dumps(
                {"field": field, "nonce": _b64(nonce), "ciphertext": _b64(sealed)}, sort_keys=True).encode())
            entry = self._entry(field, value, create=True)
            sharing = [p for p in self._holders(entry) if p != party and self.value(p, field) == value]
            self.files.put(entry, "\n".join(sorted({*sharing, party}, key=_by_number)).encode())

    def value(self, party: str, field: str) -> str | None:
        """The value of ``field`` for ``party``, or None when the vault holds none (never
        given, or erased). VaultDamaged when it does not decrypt."""
        key = self._keys(party).get(field)
        held = self.files.get(f"{party}/{field}.json")
        if key is None or held is None:
            return None
        try:
            box = json.loads(held)
            plain = AESGCM(base64.b64decode(key)).decrypt(base64.b64decode(box["nonce"]),
                                                           base64.b64decode(box["ciphertext"]),
                                                           self._aad(party, field))
        except (ValueError, KeyError, TypeError, binascii.Error, InvalidTag, RecursionError) as exc:
            raise errors.VaultDamaged(_("the vault's {field} of {party} does not decrypt (changed, or moved "
                                        "from another party or store)").format(field=field, party=party),
                                      path=self.files.location) from exc
        return plain.decode("utf-8")

    def values(self, party: str) -> dict[str, str]:
        """Every value the vault holds for ``party``."""
        found = {field: self.value(party, field) for field in FIELDS}
        return {k: v for k, v in found.items() if v is not None}

    def holds(self, party: str) -> bool:
        """Whether anything of ``party`` is left in the vault (a key, a ciphertext)."""
        return bool(self.files.get(f"keys/{party}.json") or self.files.names(f"{party}/"))

    def erase(self, party: str) -> list[str]:
        """Delete ``party``'s lookup entries, then its keys (its ciphertexts are then noise),
        then its ciphertexts; return the fields that held a value. Stopped half-way, it can be
        run again: what is left still decrypts until the keys go. A value that no longer
        decrypts is erased all the same."""
        entries, fields, damaged = [], [], False
        for field in FIELDS:
            try:
                value = self.value(party, field)
            except errors.VaultDamaged:
                value, damaged = None, True
                if field in self.stored_fields(party):
                    fields.append(field)
            if value is not None:
                fields.append(field)
                entries.append(self._entry(field, value))
        if damaged:  # its entry cannot be computed: every entry naming the party goes
            entries += [name for name in self.files.names("lookup/") if party in self._holders(name)]
        for entry in entries:
            if entry is not None:
                others = [p for p in self._holders(entry) if p != party]
                self.files.delete(entry)  # every version of it: none may name the party after
                if others:  # a phone shared with other parties still finds them
                    self.files.put(entry, "\n".join(others).encode())
        self.files.delete(f"keys/{party}.json")
        for name in self.files.names(f"{party}/"):
            self.files.delete(name)
        return fields

    def stored_fields(self, party: str) -> list[str]:
        """The fields whose value the vault keeps for ``party`` (a ciphertext), readable or not."""
        return [field for field in FIELDS if self.files.get(f"{party}/{field}.json") is not None]

    def parties(self) -> list[str]:
        """The parties whose keys the vault holds."""
        return sorted(name[len("keys/"):-len(".json")] for name in self.files.names("keys/")
                      if name.endswith(".json"))


def _by_number(party: str) -> tuple[int, str]:
    """P2 before P10."""
    digits = party[1:]
    return (int(digits), party) if digits.isdigit() else (0, party)
