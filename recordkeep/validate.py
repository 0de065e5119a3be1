"""What users type, checked before anything is journaled: text fields, actor names and
numbers. Each refusal is a one-line RK4xx error; nothing here does I/O.

Text to be journaled is refused when it holds an identity or mobile number in full. Text is
also refused when it holds an undecodable byte (click hands those over as lone
surrogates), a control character (line breaks included), a line or paragraph separator
or a bidi control: any of these lets one field pose as two lines of a log, or as another
name when shown (``\\u202emv@toor`` shows as ``root@vm``).
"""

from __future__ import annotations

import os
import re
import unicodedata

from . import errors, ids
from .i18n import N_, _

NAME_CHARS = 200  # names, numbers, doc types, actions
NOTE_CHARS = 2000  # notes and reasons
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# characters that show nothing: stripped at the edges, so a value of only these is empty
_INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060\u180e"
_ACTOR = re.compile(r"[\w.@-]{1,64}")


def printable(text: str) -> str:
    """``text`` as one line a terminal shows as it is: line breaks, terminal escapes, other
    control and format characters (bidirectional overrides) and lone surrogates written as
    their escapes (``\\x1b``, ``\\u202e``); spaces, ideographic ones too, kept."""
    return "".join(c if c.isprintable() or unicodedata.category(c) == "Zs"
                   else c.encode("unicode_escape", "backslashreplace").decode("ascii") for c in text)


def given_path(path: str | bytes | os.PathLike) -> str | bytes | os.PathLike:
    """``path``, or EmptyPath when it is empty or blank: an unset variable never means the
    current folder."""
    if not os.fsencode(path).strip():
        raise errors.EmptyPath(_("an empty path was given"))
    return path


def text(value: str, what: str, *, limit: int = NAME_CHARS, reading: bool = False) -> str:
    """``value`` stripped (of blanks and of invisible characters at its edges), or InvalidText
    naming ``what`` and the offending character. Text to be journaled (unless ``reading``: a
    search, a reference to resolve) holding an identity or mobile number in full is
    PersonalNumberInText: the journal holds those only masked (design principle 9)."""
    for ch in value:
        category = unicodedata.category(ch)
        if category == "Cs":
            raise errors.InvalidText(_("{what} holds bytes that are not valid UTF-8").format(what=_(what)))
        if category in ("Cc", "Zl", "Zp") or ch in _BIDI:
            raise errors.InvalidText(_("{what} holds the control character U+{code:04X}").format(
                what=_(what), code=ord(ch)))
    stripped = value.strip()
    while stripped and (stripped[0] in _INVISIBLE or stripped[-1] in _INVISIBLE):
        stripped = stripped.strip(_INVISIBLE).strip()
    if len(stripped) > limit:
        raise errors.InvalidText(_("{what} is {length} characters long; at most {limit}").format(
            what=_(what), length=len(stripped), limit=limit))
    if not reading:
        refuse_personal_numbers(stripped, what)
    return stripped


def refuse_personal_numbers(value: str, what: str, *, in_words: bool = False) -> None:
    """PersonalNumberInText when ``value`` holds an identity or mobile number in full
    (``in_words``: an identity number run into letters too, as in a name)."""
    found = ids.personal_numbers_in(value, in_words=in_words)
    if found:
        said = _("{what} holds an identity or phone number in full ({masked}): the journal keeps them "
                 "only masked")
        raise errors.PersonalNumberInText(said.format(what=_(what), masked=", ".join(found)))


def required_text(value: str | None, what: str, *, limit: int = NAME_CHARS, reading: bool = False) -> str:
    """Like ``text``, and InvalidValue when empty."""
    checked = text(value or "", what, limit=limit, reading=reading)
    if not checked:
        raise errors.InvalidValue(_("{what} must not be empty").format(what=_(what)))
    return checked


def optional_text(value: str | None, what: str, *, limit: int = NAME_CHARS) -> str | None:
    """Like ``text``; None for None or blank."""
    if value is None:
        return None
    return text(value, what, limit=limit) or None


def actor(name: str) -> str:
    """An actor name: 1-64 letters (CJK included), digits and ``._-@``, nothing else."""
    text(name, N_("the actor"), reading=True)  # a name to act under, not text typed into a record
    if not _ACTOR.fullmatch(name):
        raise errors.InvalidActor(_("not an actor name: {name!r}").format(name=name))
    return name


def whole_number(value: object, low: int, high: float = float("inf")) -> bool:
    """Whether a value read from TOML or JSON is a whole number from ``low`` to ``high``
    (``true`` is not 1 here)."""
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def bounded(value: int, what: str, low: int, high: int) -> int:
    """``value`` when ``low <= value <= high``, else OutOfBounds."""
    if not low <= value <= high:
        raise errors.OutOfBounds(_("{what} must be {low} to {high}, not {value}").format(
            what=_(what), low=low, high=high, value=value))
    return value
