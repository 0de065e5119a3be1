"""Identity numbers of parties: 居民身份证号 and 统一社会信用代码.

Validation uses python-stdnum (``stdnum.cn.ric``, ``stdnum.cn.uscc``) for
normalising, the birth date, the region table and both check digits, and
reports *which* check failed, one at a time in this order: length, character
set, then (identity numbers) birth date and region, then the check digit.

Two deliberate differences from ``stdnum``'s own ``validate()``:

* Identity numbers: the region code must be one stdnum knows, but not
  necessarily one that existed in the birth year.  Numbers are assigned with
  the region code of the place of registration at the time of assignment, so
  people born in 万县 in 1985 carry 500101… (重庆, created 1997), which
  ``ric.validate`` rejects.  (``ric.validate`` also raises a bare ``KeyError``
  for an unknown county in a known province, e.g. 119999….)
* Credit codes: GB 32100-2015 lets the first two characters (registering
  authority, entity type) be letters, e.g. ``N2…`` for rural collective
  economic organisations (农村集体经济组织); ``uscc.validate`` accepts only
  digits there.  Characters 3–8 (the region) must still be digits.

Error messages never repeat the number: they go to terminals and logs.
stdnum is imported where it is used: it loads ssl and pydoc, too much for every command's start.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from zoneinfo import ZoneInfo

from .errors import InvalidCreditCode, InvalidIdNumber
from .i18n import _

__all__ = [
    "looks_like_credit_code",
    "looks_like_id_number",
    "looks_like_phone",
    "mask_credit_code",
    "mask_id_number",
    "mask_identity",
    "mask_personal_numbers",
    "mask_phone",
    "normalise_id_number",
    "normalise_phone",
    "personal_numbers_in",
    "validate_credit_code",
    "validate_id_number",
    "validate_phone",
]

# GB 32100-2015 character set: digits and capital letters without I O S V Z.
_USCC_ALPHABET = frozenset("0123456789ABCDEFGHJKLMNPQRTUWXY")
_USCC_FORBIDDEN = frozenset("IOSVZ")
_SEPARATORS = re.compile(r"[\s\-]")
_ID_SHAPE = re.compile(r"[0-9]{14,17}[0-9X]")
_USCC_SHAPE = re.compile(r"[0-9A-Z]{2}[0-9]{6}[0-9A-Z]{10}")
_CHINA = ZoneInfo("Asia/Shanghai")
_PHONE_PREFIX = re.compile(r"^(\+86|0086)")
_PHONE_SHAPE = re.compile(r"[0-9]{7,15}")


def validate_id_number(value: str) -> str:
    """The 18-character 居民身份证号 in ``value``, normalised (full-width
    forms folded, spaces and hyphens removed, ``x`` upper-cased).

    Raises InvalidIdNumber whose ``check`` and message name the failed check:
    ``length``, ``charset``, ``birth_date`` (impossible or in the future),
    ``region`` (not in stdnum's table of administrative divisions) or
    ``check_digit``.
    """
    from stdnum.cn import ric
    from stdnum.exceptions import ValidationError
    number = _normalise(value, ric.compact)
    if len(number) != 18:
        if len(number) == 15 and number.isdigit():
            message = _(
                "identity number length: must be 18 characters, got {n} (this looks like a "
                "first-generation 15-digit number: ask for the 18-digit one)"
            )
        else:
            message = _("identity number length: must be 18 characters, got {n}")
        raise InvalidIdNumber(message.format(n=len(number)), check="length")
    for position, char in enumerate(number, start=1):
        if "0" <= char <= "9" or (position == 18 and char == "X"):
            continue
        if position == 18:
            message = _("identity number character set: character {position} is {char!r}, not a digit or X")
        else:
            message = _(
                "identity number character set: character {position} is {char!r}, "
                "not a digit (only the last may be X)"
            )
        raise InvalidIdNumber(message.format(position=position, char=char), check="charset")
    try:
        born = ric.get_birth_date(number)
    except ValidationError:
        raise InvalidIdNumber(
            _("identity number birth date: characters 7-14 are not a real date (YYYYMMDD)"),
            check="birth_date",
        ) from None
    if born > dt.datetime.now(_CHINA).date():
        raise InvalidIdNumber(
            _("identity number birth date: characters 7-14 lie in the future"),
            check="birth_date",
        )
    if not _known_region(number[:6]):
        raise InvalidIdNumber(
            _(
                "identity number region: the first 6 digits are not a known "
                "administrative division code"
            ),
            check="region",
            hint=_(
                "copy the number again; if the card is genuine, python-stdnum's "
                "region table is out of date: update python-stdnum"
            ),
        )
    if number[-1] != ric.calc_check_digit(number):
        raise InvalidIdNumber(
            _(
                "identity number check digit: character 18 does not match the first 17, "
                "so one of them was mistyped"
            ),
            check="check_digit",
        )
    return number


def normalise_id_number(value: str) -> str:
    """The form an identity number is looked up by: full-width folded, spaces and hyphens
    removed, ``x`` upper-cased, and a first-generation 15-digit number converted to its
    18-digit form (``19`` before the birth year, the check digit computed). Does not validate."""
    from stdnum.cn import ric
    number = _normalise(value, ric.compact).upper()
    if len(number) == 15 and number.isdigit():
        body = number[:6] + "19" + number[6:]
        number = body + ric.calc_check_digit(body + "0")  # it reads the first 17 only
    return number


def normalise_phone(value: str) -> str:
    """A phone number's digits: full-width folded, +86 / 0086, spaces, hyphens and brackets
    removed. Does not validate."""
    text = unicodedata.normalize("NFKC", value)
    return _PHONE_PREFIX.sub("", re.sub(r"[\s\-()（）]", "", text))


def looks_like_phone(text: object) -> bool:
    """True when ``text`` is, once normalised, 7 to 15 digits."""
    return isinstance(text, str) and _PHONE_SHAPE.fullmatch(normalise_phone(text)) is not None


def validate_phone(value: str) -> str:
    """The phone number in ``value``, normalised (``normalise_phone``); InvalidValue unless
    it is then 7 to 15 digits (a mobile's 11, a landline with its area code)."""
    from .errors import InvalidValue

    number = normalise_phone(value)
    if not _PHONE_SHAPE.fullmatch(number):
        raise InvalidValue(_("a phone number is 7 to 15 digits (+86, spaces and hyphens allowed)"),
                           hint=_("type the number as on the form, e.g. 13912345678 or 0759-1234567"))
    return number


def mask_phone(value: str) -> str:
    """``139****5678``: a number of 11 digits or more keeps its first 3 and last 4; a shorter
    one its last 2. Never raises; does not validate."""
    digits = normalise_phone(value)
    if len(digits) >= 11:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    return "*" * max(len(digits) - 2, 0) + digits[-2:]


def validate_credit_code(value: str) -> str:
    """The 18-character 统一社会信用代码 in ``value``, normalised (full-width
    forms folded, spaces and hyphens removed, upper-cased).

    Raises InvalidCreditCode whose ``check`` and message name the failed
    check: ``length``, ``charset`` (digits and capital letters except
    I O S V Z; characters 3-8 digits only) or ``check_digit``.
    """
    from stdnum.cn import uscc
    code = _normalise(value, uscc.compact)
    if len(code) != 18:
        raise InvalidCreditCode(
            _("credit code length: must be 18 characters, got {n}").format(n=len(code)),
            check="length",
        )
    for position, char in enumerate(code, start=1):
        if char in _USCC_FORBIDDEN:
            problem = _("the letters I, O, S, V and Z are never used")
        elif char not in _USCC_ALPHABET:
            problem = _("only digits and capital letters are used")
        elif 3 <= position <= 8 and not char.isdigit():
            problem = _("characters 3-8 (the registering region) are digits only")
        else:
            continue
        raise InvalidCreditCode(
            _("credit code character set: character {position} is {char!r}; {problem}").format(
                position=position, char=char, problem=problem
            ),
            check="charset",
        )
    if code[-1] != uscc.calc_check_digit(code):
        raise InvalidCreditCode(
            _(
                "credit code check digit: character 18 does not match the first 17, "
                "so one of them was mistyped"
            ),
            check="check_digit",
        )
    return code


def mask_id_number(value: str) -> str:
    """``110105********002X``: the first 6 (region) and last 4 characters,
    8 stars between.  Anything too short to hide at least 8 characters is
    all stars.  Never raises; does not validate."""
    from stdnum.cn import ric
    return _mask(_normalise(value, ric.compact), keep_head=6, keep_tail=4)


def mask_credit_code(value: str) -> str:
    """``91512081********0E``: the first 8 characters (registering authority,
    entity type, region: what kind of body and where) and the last 2, with the
    identifying 主体标识码 starred.  Same length and star count as a masked
    identity number.  Anything too short is all stars.  Never raises."""
    from stdnum.cn import uscc
    return _mask(_normalise(value, uscc.compact), keep_head=8, keep_tail=2)


def mask_identity(id_number: str | None, credit_code: str | None) -> str:
    """The masked form of whichever identity a party has ('' when none)."""
    if id_number:
        return mask_id_number(id_number)
    return mask_credit_code(credit_code) if credit_code else ""


def looks_like_id_number(text: object) -> bool:
    """True when ``text`` has the shape of a (perhaps mistyped) identity
    number: 15 to 18 digits, the last may be X.  Shape only: pass it to
    :func:`validate_id_number` to learn what is wrong.  An 18-digit string
    also looks like a credit code."""
    from stdnum.cn import ric
    return isinstance(text, str) and _ID_SHAPE.fullmatch(_normalise(text, ric.compact)) is not None


def looks_like_credit_code(text: object) -> bool:
    """True when ``text`` has the shape of a (perhaps mistyped) credit code:
    18 digits or capital letters with characters 3-8 digits.  Shape only:
    forbidden letters (I O S V Z) and the check digit are for
    :func:`validate_credit_code`.  An 18-digit string also looks like an
    identity number."""
    from stdnum.cn import uscc
    return (
        isinstance(text, str)
        and _USCC_SHAPE.fullmatch(_normalise(text, uscc.compact)) is not None
    )


# an 18-character identity number or a mainland mobile number (+86 and separators allowed)
# written inside free text or a file name, in half- or full-width digits, not part of a longer
# run of letters and digits
_D = "0-9\uff10-\uff19"
_W = _D + "A-Za-z\uff21-\uff3a\uff41-\uff5a"
_ID_IN_TEXT = re.compile(rf"(?<![{_W}])[{_D}]{{17}}[{_D}Xx\uff38\uff58](?![{_W}])")
# the same inside a word (``u11010519491231002X@st1``): for a name that has no other digits' use
_ID_IN_WORD = re.compile(rf"(?<![{_D}])[{_D}]{{17}}[{_D}Xx\uff38\uff58](?![{_D}])")
_MOBILE_IN_TEXT = re.compile(rf"(?<![{_W}+\uff0b])"
                             rf"(?:(?:[+\uff0b]|00|\uff10\uff10)(?:86|\uff18\uff16)[ \-\uff0d]?)?"
                             rf"[1\uff11][3-9\uff13-\uff19][{_D}](?:[ \-\uff0d]?[{_D}]{{4}}){{2}}(?![{_W}])")


def _personal_spans(text: str, *, phones: bool = True, in_words: bool = False) -> list[tuple[int, int, str]]:
    """(start, end, masked form) of each identity number (a valid one: date, region, check
    digit) and (``phones``) mainland mobile number written in ``text``, in order; ``in_words``:
    identity numbers run into letters too."""
    found = []
    for m in (_ID_IN_WORD if in_words else _ID_IN_TEXT).finditer(text):
        try:
            found.append((m.start(), m.end(), mask_id_number(validate_id_number(m.group()))))
        except InvalidIdNumber:  # a number of that length that is no identity number
            continue
    if phones:
        found += [(m.start(), m.end(), mask_phone(m.group())) for m in _MOBILE_IN_TEXT.finditer(text)]
    return sorted(found)


def personal_numbers_in(text: str, *, phones: bool = True, in_words: bool = False) -> list[str]:
    """The identity and (``phones``) mainland mobile numbers written in free ``text``
    (full-width digits too), each masked (``mask_id_number``, ``mask_phone``): what the
    journal may not hold in full (design principle 9). Without ``phones`` for numbers that
    may honestly be 11 digits (a certificate number, a device id); ``in_words`` for a name
    (an actor's) where an identity number run into letters is still one."""
    return [masked for _start, _end, masked in _personal_spans(text, phones=phones, in_words=in_words)]


def mask_personal_numbers(text: str) -> str:
    """``text`` with each identity and mobile number written in it masked (a file name the
    journal records: ``身份证_110105********002X.jpg``)."""
    out, at = [], 0
    for start, end, masked in _personal_spans(text):
        out += [text[at:start], masked]
        at = end
    return "".join(out) + text[at:]


def _normalise(value: str, compact: Callable[[str], str]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected str, got {type(value).__name__}")
    return _SEPARATORS.sub("", compact(unicodedata.normalize("NFKC", value)))


def _known_region(code: str) -> bool:
    from stdnum import numdb
    found = numdb.get("cn/loc").info(code)
    return any("county" in props for _part, props in found)


def _mask(text: str, *, keep_head: int, keep_tail: int) -> str:
    hidden = len(text) - keep_head - keep_tail
    if hidden < 8:
        return "*" * len(text)
    return text[:keep_head] + "*" * hidden + text[-keep_tail:]
