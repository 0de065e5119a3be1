"""Typed references resolved against the index: a digest prefix, a case number, a party, an
officer."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable

from .. import errors, validate
from ..i18n import N_, _
from ..ids import mask_credit_code
from ..refs import CERT_NO, PARTY_KEY, check_officer, digest_prefix, fold_case_no
from .core import Index


def digest(ix: Index, text: str) -> str:
    """A record's hex digest from 64 hex, ``blake3:`` + hex, or a unique prefix of 8+."""
    prefix = digest_prefix(text)
    rows = ix.conn.execute("SELECT digest FROM records WHERE digest >= ? AND digest < ? ORDER BY digest "
                           "LIMIT 4", (prefix, prefix + "g")).fetchall()
    if not rows:
        raise errors.UnknownRecord(_("no record has digest {digest}").format(digest=prefix))
    if len(rows) > 1:
        shown = ", ".join(r[0][:16] for r in rows[:3]) + (", …" if len(rows) > 3 else "")
        raise errors.AmbiguousDigest(_("digest prefix {digest} matches several records: {records}").format(
            digest=prefix, records=shown))
    return rows[0][0]


def officer(ix: Index, text: str) -> str:
    """The 执法证号 ``text`` is, or of the one registered officer named ``text`` (an officer
    named by name, 张科员); InvalidOfficer for an unknown or shared name."""
    value = unicodedata.normalize("NFKC", validate.text(text, N_("the officer"), reading=True)).strip()
    if CERT_NO.fullmatch(value):
        return check_officer(value)
    named = [r[0] for r in ix.conn.execute(
        "SELECT cert_no FROM officers WHERE registered = 1 AND name = ? ORDER BY cert_no", (value,))]
    if len(named) == 1:
        return named[0]
    if named:
        raise errors.InvalidOfficer(_("several registered officers are named {name}: {numbers}").format(
            name=value, numbers=", ".join(named)), hint=_("name the officer by the 执法证号"))
    raise errors.InvalidOfficer(_("not a 执法证号, and no registered officer is named {name!r}").format(
        name=text))


def case(ix: Index, text: str) -> str:
    """The stored case number for ``text`` (full/half-width and brackets folded)."""
    key = fold_case_no(validate.text(text, N_("the case number"), reading=True))
    row = ix.conn.execute("SELECT case_no FROM cases WHERE case_key = ?", (key,)).fetchone()
    if row is None:
        raise errors.UnknownCase(_("no case {case}").format(case=text))
    return row[0]


def party(ix: Index, ref: str, by_number: Callable[[str], list[str]] | None = None) -> str:
    """A party's key from its key (P12), credit code, identity or phone number (found by
    ``by_number``: the vault's lookup, which the index cannot make), or exact name;
    AmbiguousParty when the number or the name is more than one party's."""
    conn = ix.conn
    text = unicodedata.normalize("NFKC", validate.text(ref, N_("the party"), reading=True))
    m = PARTY_KEY.fullmatch(text)
    if m:
        num = int(m.group(1))
        row = (conn.execute("SELECT key FROM parties WHERE num = ?", (num,)).fetchone()
               if num < 2**63 else None)  # past SQLite's integers: no party
        if row:
            return row[0]
        raise errors.UnknownParty(_("no party {party}").format(party=text.upper()))
    compact = re.sub(r"[\s-]", "", text).upper()
    row = conn.execute("SELECT key FROM parties WHERE credit_code = ?", (compact,)).fetchone()
    if row:
        return row[0]
    found = by_number(text) if by_number is not None else []
    if len(found) == 1:
        return found[0]
    if found:
        marks = conn.execute("SELECT key, id_mask, credit_code FROM parties WHERE key IN "
                             "(SELECT value FROM json_each(?)) ORDER BY num", (json.dumps(found),)).fetchall()
        listed = ", ".join(f"{r['key']} ({r['id_mask'] or mask_credit_code(r['credit_code'] or '')})"
                           for r in marks)
        raise errors.AmbiguousParty(_("{n} parties have this number: {listed}").format(n=len(found),
                                                                                       listed=listed))
    rows = conn.execute("SELECT key, id_mask, credit_code FROM parties WHERE name = ? ORDER BY num",
                        (text,)).fetchall()
    if len(rows) == 1:
        return rows[0]["key"]
    if rows:
        listed = ", ".join(f"{r['key']} ({r['id_mask'] or mask_credit_code(r['credit_code'] or '')})"
                           for r in rows)
        raise errors.AmbiguousParty(_("{n} parties are named {name}: {listed}").format(
            n=len(rows), name=text, listed=listed))
    raise errors.UnknownParty(_("no party has the key, number or name {ref!r}").format(ref=ref))
