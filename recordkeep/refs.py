"""Shared words, no I/O: stages and their acts, penalty kinds, record kinds, case numbers, digests,
officers and devices as clerks type them, and times.

Times as clerks type them: ``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM[:SS]`` in the store's
timezone, or ISO 8601 with an offset. Results are ISO 8601 strings with milliseconds and
an offset, the form the journal keeps. Looking a typed reference up in the store (a case,
a party, a digest prefix) is the index's work (``index.resolve``).
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from . import errors, ids
from .i18n import _, language

STAGES = {"start": "启动", "investigate": "调查取证", "decide": "审核决定", "serve": "送达执行"}
#: The acts inside the stages, by the names clerks use, and the stage of each (docs/rules.md);
#: ``[acts]`` in recordkeep.toml adds more (``settings.Settings.acts``).
ACTS = {
    "立案": "start",
    "现场检查": "investigate", "询问": "investigate", "查封": "investigate", "扣押": "investigate",
    "抽样取证": "investigate",
    "告知": "decide", "听证": "decide", "法制审核": "decide", "集体讨论": "decide", "决定": "decide",
    "送达": "serve", "公示": "serve", "执行": "serve", "强制拆除": "serve", "结案": "serve",
}
#: Penalty kinds (行政处罚法 2021 art. 9) by slug, with their Chinese names. ``confiscate``
#: (没收, what was not said) is the older slug; the two 没收 of the law name what was taken.
PENALTY_KINDS = {"warning": "警告", "criticize": "通报批评", "fine": "罚款",
                 "confiscate": "没收", "confiscate_income": "没收违法所得",
                 "confiscate_property": "没收非法财物", "suspend_permit": "暂扣许可证件",
                 "downgrade": "降低资质等级", "revoke": "吊销许可证",
                 "restrict": "限制开展生产经营活动、限制从业", "suspend": "责令停产停业",
                 "close_down": "责令关闭", "other": "其他"}
#: Other names a clerk may type for a kind (the law's own words).
PENALTY_ALIASES = {"限制开展生产经营活动": "restrict", "限制从业": "restrict", "吊销许可证件": "revoke"}
KINDS = ("video", "audio", "photo", "document", "other")
#: The record kinds in Chinese, as a Chinese reader sees them (``label``).
KIND_ZH = {"video": "视频", "audio": "音频", "photo": "照片", "document": "文书", "other": "其他"}
#: The kinds that carry money (罚没: 罚款 and the 没收); only these take an amount, and
#: their amounts make the 罚没 total.
MONEY_KINDS = ("fine", "confiscate", "confiscate_income", "confiscate_property")
#: The money kinds that cannot be decided without their amount (a 没收非法财物 may have no value).
AMOUNT_REQUIRED = ("fine", "confiscate_income")
MAX_AMOUNT = Decimal(10) ** 13  # yuan; every amount is below this
PARTY_KEY = re.compile(r"[Pp](\d+)")
DIGEST_TEXT = re.compile(r"(?:blake3:)?([0-9a-f]{8,64})")
CERT_NO = re.compile(r"[0-9A-Za-z][0-9A-Za-z-]{0,31}")
DEVICE_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z_.-]{0,63}")

_BRACKETS = str.maketrans({"〔": "(", "〕": ")", "[": "(", "]": ")", "【": "(", "】": ")",
                           "［": "(", "］": ")", "（": "(", "）": ")", "｛": "(", "｝": ")",
                           "{": "(", "}": ")"})
_BARE_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_PLAIN_AMOUNT = re.compile(r"(\d+)(?:\.(\d{1,2}))?")
_LOCAL = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?")
#: a date as people write it (2021-6-3, 2021/6/3, 2021年6月3日), with an optional local time
#: (9:00, 09:00:30, 9时30分): read into ISO before parsing
_TYPED = re.compile(r"(\d{4})(?:[-/.]|年)(\d{1,2})(?:[-/.]|月)(\d{1,2})日?"
                    r"(?:(?:\s+|T|\s*)(\d{1,2})(?::|时)(\d{1,2})(?:(?::|分)(\d{1,2}(?:\.\d{1,6})?)秒?|分)?)?")
#: 大写 numerals (壹万元) and their values
_CAPITAL_DIGITS = dict(zip("零壹贰叁肆伍陆柒捌玖", range(10), strict=True))
_CAPITAL_UNITS = {"拾": 10, "佰": 100, "仟": 1000}


# -- stages, kinds, amounts, case numbers -------------------------------------------------

def shortened(text: str, limit: int = 80) -> str:
    """``text`` as an error message quotes it: its first ``limit`` characters and an ellipsis
    (a 100,000-character argument is not echoed whole)."""
    return text if len(text) <= limit else text[:limit] + "…"

def stage_slug(text: str) -> str | None:
    """The slug of a stage named by its slug or its Chinese name (surrounding space ignored),
    else None; act names are not stages here."""
    value = text.strip()
    for slug, zh in STAGES.items():
        if value in (slug, zh):
            return slug
    return None


def parse_stage_act(text: str, acts: Mapping[str, str] = ACTS) -> tuple[str, str | None]:
    """(stage slug, act) for what a clerk typed where a stage goes: a stage by its slug or
    Chinese name gives no act; an act's name (one of ``acts``) gives its stage and itself.
    BadStage when it is neither."""
    slug = stage_slug(text)
    if slug is not None:
        return slug, None
    value = text.strip()
    if value in acts:
        return acts[value], value
    raise errors.BadStage(_("not a stage or an act: {text!r}").format(text=shortened(text)))


def parse_stage(text: str, acts: Mapping[str, str] = ACTS) -> str:
    """A stage slug from a slug, its Chinese name, or the name of one of its acts."""
    return parse_stage_act(text, acts)[0]


def entered_late(claimed_at: str | None, entered_at: str | None, days: int) -> bool:
    """Whether an act journaled at ``entered_at`` claims a time ``claimed_at`` more than ``days``
    days before it (both ISO 8601 with offsets); a bare date (midnight) claims its whole day, so
    the days count from its end."""
    if not claimed_at or not entered_at:
        return False
    claimed = datetime.fromisoformat(claimed_at)
    if claimed.time() == datetime.min.time():
        claimed += timedelta(days=1)
    return datetime.fromisoformat(entered_at) - claimed > timedelta(days=days)


def parse_penalty_kind(text: str) -> str:
    """A penalty kind slug from a slug, its Chinese name or one of the law's other names for it."""
    value = text.strip()
    if value in PENALTY_KINDS:
        return value
    for slug, zh in PENALTY_KINDS.items():
        if value == zh:
            return slug
    if value in PENALTY_ALIASES:
        return PENALTY_ALIASES[value]
    raise errors.BadPenaltyKind(_("not a penalty kind: {text!r}").format(text=shortened(text)))


#: Other values shown to people, in Chinese: case statuses, review states, what a hold covers.
VALUE_ZH = {"open": "办理中", "closed": "已结案", "voided": "已作废",
            "before": "决定前", "after": "决定后", "undated": "无日期", "missing": "缺失",
            "record": "记录", "case": "案件", "party": "当事人", "person": "个人", "organisation": "单位",
            "publication": "公示", "reopened": "重新开启", "opened": "立案", "decision": "处罚决定",
            "stage_event": "环节事件",
            # what verify and the fixity audit found
            "digest_mismatch": "摘要不符", "size_mismatch": "大小不符", "unreadable": "无法读取",
            "stray_file": "多余文件", "unreferenced": "未被引用", "disposed": "已处置",
            "stale_temporary": "残留临时文件", "overdue": "逾期未校验", "failing": "校验未通过",
            "index_differs": "索引与日志不符",
            # the personal numbers of the vault
            "id_number": "身份证号", "phone": "电话号码"}


def label(value: str | None) -> str:
    """A stage, record kind, penalty kind, case status, review state, hold target or vault field
    as the reader sees it: its Chinese name in Chinese, the value itself otherwise."""
    if language() != "zh" or not value:
        return value or ""
    for names in (STAGES, KIND_ZH, PENALTY_KINDS, VALUE_ZH):
        if value in names:
            return names[value]
    return value


def scope_label(scope: dict | None) -> str:
    """A scope as journaled (``resolve``'s, a rolling audit's, an export's) as the reader reads it:
    whole store, rolling audit, case NO, party P1, since T."""
    scope = scope or {"all": True}
    if scope.get("all"):
        return _("whole store")
    if scope.get("rolling"):
        return _("rolling audit")
    if "case" in scope:
        return _("case {case_no}").format(case_no=scope["case"])
    if "party" in scope:
        return _("party {party}").format(party=scope["party"])
    if "since" in scope:
        return _("since {moment}").format(moment=scope["since"])
    return ", ".join(f"{k} {v}" for k, v in scope.items())


def parse_kind(text: str) -> str:
    """A record kind (video, audio, photo, document, other)."""
    if text not in KINDS:
        raise errors.BadKind(_("not a kind: {text!r}").format(text=shortened(text)))
    return text


def parse_amount(text: str) -> str:
    """Yuan as an exact decimal string with two places ("150000.00"); never a float.

    A plain decimal only: digits (full-width folded), at most one point and two places, an
    optional trailing 元; no sign, grouping or exponent; below 10^13 yuan. An amount in 万
    (1.5万) or in 大写 (壹万元) is refused with its plain form in the hint: a clerk confirms
    the digits, nothing is multiplied silently."""
    plain = unicodedata.normalize("NFKC", text).strip().removesuffix("元").strip()
    m = _PLAIN_AMOUNT.fullmatch(plain) if plain.isascii() else None
    written = None if m else _plain_form(plain)
    if written is not None:
        raise errors.InvalidAmount(_("not a plain amount: {text!r}").format(text=shortened(text)),
                                   hint=_("write it in yuan as digits: --amount {amount}").format(
                                       amount=written))
    if m is None:
        if re.fullmatch(r"\d+\.\d{3,}", plain):
            raise errors.InvalidAmount(_("more than two decimals: {text!r}").format(text=shortened(text)))
        raise errors.InvalidAmount(_("not a plain amount: {text!r}").format(text=shortened(text)))
    value = Decimal(plain)
    if value >= MAX_AMOUNT:
        raise errors.InvalidAmount(_("an amount must be below {limit:,} yuan: {text!r}").format(
            limit=MAX_AMOUNT, text=shortened(text)))
    return str(value.quantize(Decimal("0.01")))


def _plain_form(text: str) -> str | None:
    """The digits of an amount written in 万 (1.5万) or in 大写 (壹万贰仟元整), or None."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)万", text)
    if m:
        return str((Decimal(m.group(1)) * 10000).quantize(Decimal("0.01")))
    body = text.removesuffix("整").removesuffix("元").removesuffix("圆")
    known = {*_CAPITAL_DIGITS, *_CAPITAL_UNITS, "万", "亿"}
    if not body or any(c not in known for c in body):
        return None
    total, section, digit = Decimal(0), Decimal(0), 0
    for char in body:
        if char in _CAPITAL_DIGITS:
            digit = _CAPITAL_DIGITS[char]
        elif char in _CAPITAL_UNITS:
            section += (digit or 1) * _CAPITAL_UNITS[char]
            digit = 0
        else:  # 万 or 亿 closes a section
            total = (total + section + digit) * (10000 if char == "万" else 10 ** 8)
            section, digit = Decimal(0), 0
    return str((total + section + digit).quantize(Decimal("0.01")))


_CASE_YEAR = re.compile(r"\(((?:19|20)\d\d)\)")


def fold_case_no(text: str) -> str:
    """The lookup key of a case number: full-width folded, brackets unified, spaces dropped."""
    folded = unicodedata.normalize("NFKC", text).translate(_BRACKETS)
    return re.sub(r"\s+", "", folded)


def case_year(case_no: str) -> int | None:
    """The year a case number carries in its brackets (坡城管罚〔2021〕12号: 2021), if any."""
    m = _CASE_YEAR.search(fold_case_no(case_no))
    return int(m.group(1)) if m else None


# -- digests, officers, devices ---------------------------------------------------------
def digest_prefix(text: str) -> str:
    """The hex of a digest as typed (64 hex, ``blake3:`` + hex, or a prefix of 8+)."""
    m = DIGEST_TEXT.fullmatch(text.strip().lower())
    if not m:
        raise errors.InvalidDigest(_("not a digest: {text!r}").format(text=shortened(text)))
    return m.group(1)


def head_hash(text: str) -> str:
    """A journal head as noted by an auditor: exactly 64 hex digits (InvalidDigest)."""
    value = text.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", value):
        raise errors.InvalidDigest(_("a journal head is 64 hex digits, not {text!r}").format(
                                       text=shortened(text)),
                                   hint=_("give the whole hash noted from 'log verify' (its last line) or "
                                          "from a published checkpoint's journal line"))
    return value


def bare(digest: str) -> str:
    """A digest without its ``blake3:`` tag."""
    return digest.split(":", 1)[1] if ":" in digest else digest


def check_officer(cert_no: str) -> str:
    """The certificate number (执法证号), or InvalidOfficer."""
    value = cert_no.strip()
    if not CERT_NO.fullmatch(value):
        raise errors.InvalidOfficer(_("not an officer's certificate number: {text!r}").format(
            text=shortened(cert_no)))
    return _no_identity_number(value, _("the certificate number"))


def check_device(device: str) -> str:
    """The device id, or InvalidDevice."""
    if not DEVICE_ID.fullmatch(device):
        raise errors.InvalidDevice(_("not a device id: {text!r}").format(text=shortened(device)))
    return _no_identity_number(device, _("the device id"))


def _no_identity_number(value: str, what: str) -> str:
    """``value``, or PersonalNumberInText when it is (or holds) an identity number: journaled
    with every act of its officer or device, it could never be erased."""
    found = ids.personal_numbers_in(value, phones=False)
    if found:
        said = _("{what} is an identity number ({masked}): the journal keeps those only masked")
        hint = _("give the number the bureau issued, not a person's identity number")
        raise errors.PersonalNumberInText(said.format(what=what, masked=", ".join(found)), hint=hint)
    return value


# -- times ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Window:
    """The times recordkeep accepts: from ``earliest`` to the end of the day ``latest``
    (``[limits]`` in recordkeep.toml). Outside it a time is a typing error or a camera clock
    never set, and date arithmetic beyond the years 1 to 9999 cannot be done."""

    earliest: date = date(1970, 1, 1)
    latest: date = date(2099, 12, 31)

    def start(self, zone: ZoneInfo) -> datetime:
        return datetime.combine(self.earliest, datetime.min.time(), zone)

    def end(self, zone: ZoneInfo) -> datetime:
        """The first instant after the window."""
        return datetime.combine(self.latest + timedelta(days=1), datetime.min.time(), zone)

    def holds(self, moment: datetime, zone: ZoneInfo) -> bool:
        """Whether ``moment`` lies in the window (a bare date is checked as its first instant,
        before an end-of-day bound adds its day: ``latest`` itself is in, the day after is not)."""
        try:
            return self.start(zone) <= moment < self.end(zone)
        except OverflowError:
            return False

    def __str__(self) -> str:
        """The window as the journal keeps it (``time_ignored``): never translated."""
        return f"{self.earliest.isoformat()} to {self.latest.isoformat()}"

    def shown(self) -> str:
        """The window for people, in their language."""
        return _("{earliest} to {latest}").format(earliest=self.earliest.isoformat(),
                                                  latest=self.latest.isoformat())


DEFAULT_WINDOW = Window()


def year_bounds(year: int, zone: ZoneInfo, window: Window) -> tuple[datetime, datetime]:
    """The first instant of ``year`` and of the next, in ``zone``; the year must lie in the
    store's window of times (TimeOutOfRange)."""
    if not window.earliest.year <= year <= window.latest.year:
        raise errors.TimeOutOfRange(_("the year {year} is outside the times this store accepts ({window})")
                                    .format(year=year, window=window.shown()))
    return datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone)


def in_period(iso: str | None, bounds: tuple[datetime, datetime] | None) -> bool:
    """Whether ``iso`` lies in ``bounds`` (always, when there are none)."""
    if bounds is None:
        return True
    moment = datetime.fromisoformat(iso) if iso else None
    return moment is not None and bounds[0] <= moment < bounds[1]


def iso(moment: datetime) -> str:
    """ISO 8601 with milliseconds and offset."""
    return moment.isoformat(timespec="milliseconds")


def _typed_time(text: str) -> str:
    """``text`` in ISO form when it is a date as people write it (2021/6/3, 2021年6月3日 9:00),
    else unchanged."""
    value = unicodedata.normalize("NFKC", text).strip()
    m = _TYPED.fullmatch(value)
    if m is None:
        return value
    year, month, day, hour, minute, second = m.groups()
    iso_date = f"{year}-{int(month):02d}-{int(day):02d}"
    if hour is None:
        return iso_date
    whole, _point, fraction = (second or "0").partition(".")
    clock = f"{int(hour):02d}:{int(minute):02d}:{int(whole):02d}" + (f".{fraction}" if fraction else "")
    return f"{iso_date} {clock}"


def parse_time(text: str, zone: ZoneInfo, *, end_of_day: bool = False,
               window: Window = DEFAULT_WINDOW) -> str:
    """Parse a time the clerk typed: ISO 8601 (with or without offset, local to ``zone``
    without), or as people write it: 2021/6/3, 2021年6月3日, 2021年6月3日 9:00. With
    ``end_of_day``, a bare date means the next midnight (so ``--until 2021-03-15`` includes
    that whole day). BadTime when it does not parse; TimeOutOfRange outside ``window``."""
    value = _typed_time(text)
    try:
        if _BARE_DATE.fullmatch(value):
            moment = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=zone)
        else:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                if not _LOCAL.fullmatch(value):
                    raise errors.BadTime(_("not a time: {text!r}").format(text=shortened(text)))
                moment = moment.replace(tzinfo=zone)
    except ValueError as exc:
        raise errors.BadTime(_("not a time: {text!r}").format(text=shortened(text))) from exc
    if not window.holds(moment, zone):
        raise errors.TimeOutOfRange(_("{text!r} is outside the times this store accepts ({window})").format(
            text=shortened(text.strip()), window=window.shown()))
    if end_of_day and _BARE_DATE.fullmatch(value):
        moment += timedelta(days=1)
    return iso(moment.astimezone(zone))


def in_window(text: str | None, zone: ZoneInfo, window: Window = DEFAULT_WINDOW) -> bool:
    """Whether an ISO 8601 time with offset (from a name or metadata) lies in ``window``."""
    if not text:
        return False
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return False
    return moment.tzinfo is not None and window.holds(moment, zone)


def in_zone(iso_text: str, zone: ZoneInfo) -> str:
    """The same instant shown in ``zone``."""
    return iso(datetime.fromisoformat(iso_text).astimezone(zone))


_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
MAX_DURATION_S = 366 * 24 * 3600


def parse_duration(text: str) -> int:
    """Seconds of a duration written as hours, minutes and seconds in that order, each
    optional but not all: ``90s``, ``30m``, ``2h``, ``1h30m``. BadDuration when it does not
    parse; DurationOutOfRange when it is zero or more than a year."""
    found = _DURATION.fullmatch(text.strip().lower())
    if not found or not any(found.groups()):
        raise errors.BadDuration(_("{text!r} is not a duration").format(text=shortened(text)))
    try:
        hours, minutes, seconds = (int(g or 0) for g in found.groups())
        total = hours * 3600 + minutes * 60 + seconds
    except ValueError:  # more digits than Python converts: far beyond a year
        total = MAX_DURATION_S + 1
    if not 0 < total <= MAX_DURATION_S:
        raise errors.DurationOutOfRange(_("{text!r} must be more than nothing and at most a year").format(
            text=shortened(text)))
    return total


class EntryTimes:
    """When each line of a case was entered, at the earliest: no earlier than the latest time
    the case's lines up to it claim (a line is written after every line before it), so a
    station's clock set back does not make a line entered late pass for one entered on time.
    A line claiming a time after ``now`` (a clock set ahead, or a line written by hand) counts
    as written ``now``: it does not make the honest lines after it look late.
    Made from the case's lines as (seq, time claimed), by seq."""

    def __init__(self, lines: list[tuple[int, str]], now: str | None = None) -> None:
        self.seqs: list[int] = []
        self.latest: list[tuple[datetime, str]] = []
        cap = datetime.fromisoformat(now) if now is not None else None
        for seq, at in lines:
            moment = datetime.fromisoformat(at)
            if cap is not None and moment > cap:
                moment, at = cap, now
            if self.latest and self.latest[-1][0] >= moment:
                self.latest.append(self.latest[-1])
            else:
                self.latest.append((moment, at))
            self.seqs.append(seq)

    def at(self, seq: int, own: str | None = None) -> str | None:
        """The time line ``seq`` was entered at the earliest: the latest of ``own`` (its own
        claimed time, for a line that touches no case) and the case's lines up to it."""
        k = bisect.bisect_right(self.seqs, seq)
        found = self.latest[k - 1] if k else None
        if own is not None and (found is None or datetime.fromisoformat(own) > found[0]):
            return own
        return found[1] if found else None


CARRY_SLACK = timedelta(seconds=60)  # two devices' clocks, or a name's whole seconds, may differ this much


AV_KINDS = ("video", "audio")  # clips: a recording's time and duration, never a paper's text


def carries_time(carrier: Mapping, at: str, duration_ms: int | None) -> bool:
    """Whether a record cited for a time (``record set --source``) may carry ``at`` for a
    recording of ``duration_ms``: a clip (a second camera's) only where the two recordings
    overlap, give or take ``CARRY_SLACK``; a paper record, or a photo (of a paper log as often
    as of the scene), is not read: it carries what it is cited for."""
    if carrier["kind"] not in AV_KINDS or not carrier["recorded_at"]:
        return True
    a, b = datetime.fromisoformat(at), datetime.fromisoformat(carrier["recorded_at"])
    return (a - CARRY_SLACK <= b + timedelta(milliseconds=carrier["duration_ms"] or 0)
            and b - CARRY_SLACK <= a + timedelta(milliseconds=duration_ms or 0))


def utc_key(text: str | None) -> str | None:
    """A sortable UTC form of an ISO 8601 time with offset (None when it is not one)."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    try:
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    except OverflowError:  # year 1 or 9999 with an offset: no UTC form; sorts as unknown
        return None


def public_url(url: str) -> str:
    """The URL without user information or query (what the journal may keep)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
