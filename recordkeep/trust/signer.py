"""The acting key: an enrolled key, its actor and roles, and the seal it puts on a batch."""

from __future__ import annotations

from dataclasses import dataclass

from .. import errors
from ..store.journal import Draft
from . import roles as role_table
from .batches import SEALED, seal_data
from .keys import SigningKey


@dataclass(frozen=True)
class Signer:
    """A key allowed to write in one store: who it is and what it may write."""

    key: SigningKey
    actor: str
    roles: frozenset[str]
    store_id: str

    def refuse_unless_allowed(self, drafts: list[Draft]) -> None:
        """RoleMissing, before anything is written, when a draft needs a role the key lacks."""
        for d in drafts:
            if not role_table.allows(self.roles, d.type, d.data):
                wanted = " or ".join(sorted(role_table.needed(d.type, d.data)))
                held = ", ".join(sorted(self.roles)) or "none"
                raise errors.RoleMissing(f"{self.actor}'s key ({self.key.id}) has the roles {held}; "
                                         f"{d.type} needs {wanted}")

    def seal(self, first: int, last: int, head: str) -> Draft:
        """The ``batch.signed`` draft closing events ``first``..``last`` (head: hash of last)."""
        return Draft(SEALED, seal_data(self.key, self.store_id, first, last, head))
