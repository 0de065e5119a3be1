"""The acting key: an enrolled key, its actor and roles, and the seal it puts on a batch."""

from __future__ import annotations

from dataclasses import dataclass

from .. import errors
from ..i18n import _
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
                wanted = _(" or ").join(sorted(role_table.needed(d.type, d.data)))
                held = ", ".join(sorted(self.roles)) or _("none")
                raise errors.RoleMissing(_("{actor}'s key ({key}) has the roles {held}; {type} needs "
                                           "{wanted}").format(actor=self.actor, key=self.key.id, held=held,
                                                              type=d.type, wanted=wanted))

    def seal(self, first: int, last: int, head: str) -> Draft:
        """The ``batch.signed`` draft closing events ``first``..``last`` (head: hash of last)."""
        return Draft(SEALED, seal_data(self.key, self.store_id, first, last, head))
