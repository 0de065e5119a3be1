"""recordkeep.toml: the store's id, timezone, window of times, acts, naming patterns and
thresholds."""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from blake3 import blake3

from . import errors, ids, validate
from .i18n import _
from .refs import ACTS, DEFAULT_WINDOW, STAGES, Window, parse_time, public_url, shortened, stage_slug

FILENAME = "recordkeep.toml"
URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
LATE_ENTRY_DAYS = 3
FIXITY_MAX_AGE_DAYS = 90


@dataclass(frozen=True)
class Settings:
    """What recordkeep.toml says; unknown tables are kept for later features."""

    store_id: str
    timezone: str = "Asia/Shanghai"
    raw: dict = field(default_factory=dict)
    window: Window = DEFAULT_WINDOW
    acts: Mapping[str, str] = field(default_factory=lambda: dict(ACTS))  # act name -> stage slug
    recorded: dict = field(init=False, repr=False, compare=False)  # ``journaled(raw)``: what a
    # settings.changed records of these settings, made once; RecursionError for tables too deep

    def __post_init__(self) -> None:
        object.__setattr__(self, "recorded", journaled(self.raw))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def time(self, text: str, *, end_of_day: bool = False) -> str:
        """A time as clerks type it, in this store's zone and window (refs.parse_time)."""
        return parse_time(text, self.zone, end_of_day=end_of_day, window=self.window)

    def done_time(self, text: str, now: str, *, end_of_day: bool = False) -> str:
        """``time``, of something already done: InvalidValue when it falls after the day of
        ``now`` in this store's zone (an act dated ahead would make what is entered today look
        timely: reviews entered now before a decision dated next month)."""
        at = self.time(text, end_of_day=end_of_day)
        today = datetime.fromisoformat(now).astimezone(self.zone).date()
        moment = datetime.fromisoformat(at) - (timedelta(microseconds=1) if end_of_day else timedelta())
        if moment.astimezone(self.zone).date() > today:  # a day's end is the next midnight, exclusive
            raise errors.InvalidValue(
                _("{text} is after today ({today}): what is entered must have happened").format(
                    text=shortened(text), today=today.isoformat()),
                hint=_("give the time it happened; an act yet to come is entered once it is done"))
        return at

    def section(self, name: str) -> dict:
        """A table of the file, empty when absent (``table_in``)."""
        return table_in(self.raw, name)

    @property
    def late_entry_days(self) -> int:
        """``[rules] late_entry_days``: an act journaled more days than this after the time it
        claims is entered late (docs/rules.md; check.Rules validates the table)."""
        value = self.section("rules").get("late_entry_days", LATE_ENTRY_DAYS)
        return value if validate.whole_number(value, 0) else LATE_ENTRY_DAYS


    @property
    def fixity_max_age_days(self) -> int:
        """``[fixity] max_age_days`` (default 90): every stored byte is to be verified again
        within this many days (``verify --status``); ConfigError unless a whole number from 1."""
        value = self.section("fixity").get("max_age_days", FIXITY_MAX_AGE_DAYS)
        if not validate.whole_number(value, 1, 36500):
            raise errors.ConfigError(_("[fixity] max_age_days must be a whole number of days "
                                       "from 1 to 36500, not {value!r}").format(value=value), path=FILENAME)
        return value


def load(root: str | os.PathLike) -> Settings:
    """Read ``root/recordkeep.toml``; raise ConfigError when it is not valid."""
    path = Path(root) / FILENAME
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise errors.ConfigError(_("recordkeep.toml does not parse: {error}").format(error=exc),
                                 path=path) from exc
    except RecursionError as exc:
        raise _too_deep(path) from exc
    store = raw.get("store", {})
    if not isinstance(store, dict):
        raise errors.ConfigError(_("[store] must be a table"), path=path)
    store_id, tz = store.get("id"), store.get("timezone", "Asia/Shanghai")
    if not isinstance(store_id, str) or not store_id:
        raise errors.ConfigError(_("recordkeep.toml has no [store] id"), path=path)
    check_timezone(tz, path)
    window, acts = _window(raw.get("limits", {}), path), _acts(raw.get("acts", {}), path)
    try:
        return Settings(store_id, tz, raw, window, acts)
    except RecursionError as exc:  # too deep to record (``journaled``)
        raise _too_deep(path) from exc


def _too_deep(path: Path) -> errors.ConfigError:
    return errors.ConfigError(_("recordkeep.toml nests tables too deeply"), path=path)


def journaled(raw: Mapping) -> dict:
    """What a ``settings.changed`` event records of recordkeep.toml: every table but
    ``[backend]`` (how this station reaches a shared bucket, which may differ from station to
    station), as JSON the journal holds: an identity or mobile number in a text or a key
    masked (design principle 9), dates and times as ISO 8601 text, a float as
    ``{"$float": repr}`` (the journal holds no floats), a table with a key beginning with ``$``
    as ``{"$table": table}`` (so that no table passes for a float), a URL without its user
    information or query (which may hold credentials), an empty table left out (it sets
    nothing). RecursionError for tables nested deeper than Python's stack (``load`` refuses them:
    ``Settings.recorded`` is this, made once)."""
    return _json_safe({key: value for key, value in raw.items() if key != "backend"})


def _json_safe(value: object) -> object:
    if isinstance(value, dict):
        kept = {ids.mask_personal_numbers(key): _json_safe(item) for key, item in value.items()}
        kept = {key: item for key, item in kept.items() if item != {}}
        return {"$table": kept} if any(key.startswith("$") for key in kept) else kept
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    if isinstance(value, date | time):  # a datetime is a date
        return value.isoformat()
    if isinstance(value, float):
        return {"$float": repr(value)}
    if isinstance(value, str) and URL.match(value):
        return public_url(value)
    if isinstance(value, str):
        return ids.mask_personal_numbers(value)
    if isinstance(value, int) and not isinstance(value, bool):  # a phone typed without quotes
        masked = ids.mask_personal_numbers(str(value))
        return masked if masked != str(value) else value
    return value


def table_in(form: Mapping, name: str) -> dict:
    """The table ``name`` of settings as recordkeep.toml gives them; empty when absent or not a table."""
    value = form.get(name, {})
    return value if isinstance(value, dict) else {}


def from_journal(form: object) -> object:
    """Settings as ``journaled`` recorded them, read back as recordkeep.toml gave them: a table
    recorded as ``{"$table": table}`` is that table, ``{"$float": repr}`` the float. Dates,
    times and URLs stay the text recorded; a line made by hand is read as it is."""
    if isinstance(form, dict):
        if list(form) == ["$float"] and isinstance(form["$float"], str):
            try:
                return float(form["$float"])
            except ValueError:
                return form
        return {key: from_journal(value) for key, value in as_table(form).items()}
    if isinstance(form, list):
        return [from_journal(item) for item in form]
    return form


def as_table(value: object) -> object:
    """A value as ``journaled`` recorded it, a table recorded as ``{"$table": table}`` unwrapped."""
    if isinstance(value, dict) and list(value) == ["$table"] and isinstance(value["$table"], dict):
        return value["$table"]
    return value


def digest(form: Mapping) -> str:
    """``blake3:`` and the BLAKE3 of ``form``'s canonical JSON (keys sorted, UTF-8, no spaces):
    the same settings give the same digest however the file spells them."""
    text = json.dumps(form, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "blake3:" + blake3(text.encode()).hexdigest()


def recorded_digest(data: Mapping) -> str | None:
    """The digest of the settings a ``settings.changed``'s data holds, whatever digest it
    claims; None when it holds no table (a line made by hand)."""
    form = data.get("settings")
    return digest(form) if isinstance(form, dict) else None


def check_timezone(name: object, path: str | os.PathLike | None = None) -> str:
    """An IANA timezone name, or ConfigError."""
    try:
        if not isinstance(name, str):
            raise ValueError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise errors.ConfigError(_("unknown timezone {name!r}").format(name=name), path=path,
                                 hint=_("use an IANA zone name such as Asia/Shanghai")) from exc
    return name


def _window(limits: object, path: Path) -> Window:
    """``[limits] earliest`` and ``latest`` (dates, years 1900 to 9000), defaults 1970-01-01
    and 2099-12-31."""
    if not isinstance(limits, dict):
        raise errors.ConfigError(_("[limits] must be a table"), path=path)
    bounds = {}
    for key, default in (("earliest", DEFAULT_WINDOW.earliest), ("latest", DEFAULT_WINDOW.latest)):
        value = limits.get(key, default)
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value)
            except ValueError:
                value = None
        if isinstance(value, datetime) or not isinstance(value, date) or not 1900 <= value.year <= 9000:
            raise errors.ConfigError(_("[limits] {key} must be a date from 1900 to 9000 (YYYY-MM-DD), "
                                       "not {value!r}").format(key=key, value=limits.get(key)), path=path)
        bounds[key] = value
    if bounds["latest"] < bounds["earliest"]:
        raise errors.ConfigError(_("[limits] latest is before earliest"), path=path)
    return Window(bounds["earliest"], bounds["latest"])


def _acts(table: object, path: Path) -> dict[str, str]:
    """The acts of docs/rules.md and those ``[acts]`` adds (``"责令改正" = "investigate"``: an
    act's name, a stage by slug or Chinese name). ConfigError for a stage that is none of the four, a
    name that is a stage's own, or a listed act moved to another stage."""
    if not isinstance(table, dict):
        raise errors.ConfigError(_('[acts] must be a table of "act" = "stage" ("责令改正" = "investigate")'),
                                 path=path)
    acts = dict(ACTS)
    for key, value in table.items():
        try:
            name = validate.required_text(key, _("the act name {name!r}").format(name=key), reading=True)
        except errors.InputError as exc:
            raise errors.ConfigError(f"[acts]: {exc.message}", path=path) from exc
        slug = stage_slug(value) if isinstance(value, str) else None
        if slug is None:
            message = _("[acts] {name}: {value!r} is not a stage; a stage is {slugs} or {names}").format(
                name=name, value=value, slugs="|".join(STAGES), names="|".join(STAGES.values()))
            raise errors.ConfigError(message, path=path)
        if stage_slug(name) is not None:
            raise errors.ConfigError(_("[acts] {name}: an act may not bear a stage's name").format(name=name),
                                     path=path)
        if acts.get(name, slug) != slug:
            raise errors.ConfigError(_("[acts] {name}: an act of {stage} ({stage_name}) already; [acts] adds "
                                       "acts, it does not move them").format(
                                           name=name, stage=acts[name], stage_name=STAGES[acts[name]]),
                                     path=path)
        acts[name] = slug
    return acts


def initial_text(timezone: str, store_id: str | None = None) -> str:
    """The recordkeep.toml written by ``init``: a fresh store id (unless given) and the timezone."""
    from uuid import uuid4  # only init needs it: uuid loads platform

    return (
        "# recordkeep store settings\n"
        "[store]\n"
        f'id = "{store_id or uuid4()}"\n'
        f'timezone = "{timezone}"  # assumed for camera clocks that carry no offset\n'
        "\n"
        "# [media]\n"
        '# ffprobe = "/usr/bin/ffprobe"  # or set RECORDKEEP_FFPROBE\n'
        "\n"
        "# [[naming.patterns]]  # recorder file-name conventions, tried in order before the defaults\n"
        '# name = "mybrand"\n'
        '# regex = \'^(?P<device>\\w+)_(?P<officer>\\d{6,12})_(?P<start>\\d{14})\\.\\w+$\'\n'
        "\n"
        "# [rules]  # compliance thresholds (docs/rules.md); localities differ\n"
        '# major_fine_person = "10000"        # yuan\n'
        '# major_fine_organisation = "100000" # yuan\n'
        "# major_fine_inclusive = true        # at or above (以上); false: strictly above\n"
        "# publish_within_workdays = 7\n"
        "\n"
        "# [acts]  # acts typed by name where a stage goes, beside those of docs/rules.md\n"
        '# "责令改正" = "investigate"  # names quoted: TOML\'s bare keys are ASCII\n'
        "\n"
        "# [limits]  # the times accepted from flags, names and metadata\n"
        '# earliest = "1970-01-01"\n'
        '# latest = "2099-12-31"\n'
        "\n"
        "# [fixity]\n"
        "# max_age_days = 90  # verify every stored byte again within this many days (verify --status)\n"
        "\n"
        "# [retention]\n"
        "# ordinary_months = 6  # records neither important, linked nor kept may go after this\n"
    )
